"""The date range of a report page, read from ``?from=&to=`` with readable messages."""

from __future__ import annotations

import datetime as dt

from flask import request

DEFAULT_DAYS = 30


def _date(name: str, default: dt.date) -> tuple[dt.date, str | None]:
    raw = request.args.get(name, "")
    if not raw:
        return default, None
    try:
        return dt.date.fromisoformat(raw), None
    except ValueError:
        return default, f"'{raw[:20]}' is not a date like 2026-11-23; showing the default."


def date_range(days: int = DEFAULT_DAYS) -> tuple[dt.date, dt.date, list[str]]:
    """Return (start, end, messages): the asked range, or the last ``days`` days; swapped if backwards."""
    today = dt.datetime.now(dt.UTC).date()
    end, end_error = _date("to", today)
    start, start_error = _date("from", end - dt.timedelta(days=days - 1))
    errors = [e for e in (start_error, end_error) if e]
    if start > end:
        start, end = end, start
    return start, end, errors
