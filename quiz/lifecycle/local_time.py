"""Quiet hours in the shopper's own time: a country answer gives a time zone (the IANA zone table)."""

from __future__ import annotations

import datetime as dt
import functools
from importlib import resources
from zoneinfo import ZoneInfo


@functools.cache
def _zones() -> dict[str, str]:
    """Return the first (most populous, by the table's order) time zone of each country code."""
    table = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    zones: dict[str, str] = {}
    for line in table.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        code, _, name = line.split("\t")[:3]
        zones.setdefault(code, name)
    return zones


def zone_of(country: object) -> ZoneInfo:
    """Return the time zone of an ISO 3166 alpha-2 country code; UTC when unknown or not given."""
    name = _zones().get(str(country or "").upper())
    return ZoneInfo(name or "UTC")


def next_allowed(now: dt.datetime, country: object, quiet_start: int, quiet_end: int) -> dt.datetime | None:
    """Return when quiet hours end in the shopper's zone, or None when it is not quiet there now.

    Quiet hours run from ``quiet_start`` to ``quiet_end`` (hours, local), across midnight when
    the start is later than the end (21 to 9 by default). Equal hours mean no quiet hours.
    """
    if quiet_start == quiet_end:
        return None
    local = now.astimezone(zone_of(country))
    hour = local.hour
    quiet = quiet_start <= hour < quiet_end if quiet_start < quiet_end else hour >= quiet_start or hour < quiet_end
    if not quiet:
        return None
    end = local.replace(hour=quiet_end, minute=0, second=0, microsecond=0)
    if end <= local:
        end += dt.timedelta(days=1)
    return end.astimezone(dt.UTC)
