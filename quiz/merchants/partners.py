"""Partner sites allowed to embed a merchant's quiz widget: their origins, checked and stored."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from ..models import Merchant

MAX_ORIGINS = 50
LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
HOST_NAME = re.compile(rf"^(?=.{{1,253}}$){LABEL}(?:\.{LABEL})*$")


class OriginError(ValueError):
    """Some origins are not valid; ``fields`` maps their position ("origins[2]") to a message."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__("Some origins are not valid.")
        self.fields = fields


def normalise_origin(text: str) -> str:
    """Return ``text`` as an origin ("https://shop.example:8443"), or raise ValueError saying why."""
    value = text.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"{value!r} is not an origin such as https://shop.example.")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"{value!r} has more than scheme, host and port; give just https://shop.example.")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{value!r} has an invalid port.") from exc
    default = {"https": 443, "http": 80}[parts.scheme]
    host = check_host(parts.hostname, value)
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def check_host(hostname: str, value: str) -> str:
    """Return a host name or IP address as an origin writes it, or raise ValueError.

    Only letters, digits, hyphens and dots (after IDNA) or an IP address: a wildcard or CSP
    punctuation in a stored origin would widen ``frame-ancestors``.
    """
    try:
        address = ipaddress.ip_address(hostname)
    except ValueError:
        pass
    else:
        return f"[{address}]" if address.version == 6 else str(address)
    try:
        ascii_host = hostname.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise ValueError(f"{value!r} has an invalid host name.") from exc
    if not HOST_NAME.match(ascii_host):
        raise ValueError(f"{value!r} has an invalid host name (no wildcards or spaces).")
    return ascii_host


def clean_origins(texts: Iterable[str]) -> list[str]:
    """Return the origins normalised, blank lines dropped and duplicates merged.

    Raises:
        OriginError: naming each invalid entry by its position.
    """
    entries = [t for t in texts if t.strip()]
    errors: dict[str, list[str]] = {}
    origins: list[str] = []
    for i, text in enumerate(entries):
        try:
            origin = normalise_origin(text)
        except ValueError as exc:
            errors[f"origins[{i}]"] = [str(exc)]
            continue
        if origin not in origins:
            origins.append(origin)
    if len(origins) > MAX_ORIGINS:
        errors["origins"] = [f"List at most {MAX_ORIGINS} sites."]
    if errors:
        raise OriginError(errors)
    return origins


def set_origins(merchant: Merchant, texts: Iterable[str]) -> list[str]:
    """Replace the merchant's partner origins (call inside a transaction); return them as stored."""
    merchant.partner_origins = clean_origins(texts)
    return list(merchant.partner_origins)


def snippet(merchant: Merchant, script_url: str, locale: str = "en") -> str:
    """Return the HTML a partner pastes into a page to embed the merchant's quiz."""
    return (
        f'<div data-attune-quiz="{merchant.slug}" data-locale="{locale}" data-mode="inline"></div>\n'
        f'<script src="{script_url}" async></script>'
    )


def allows(merchant: Merchant, origin: str | None) -> bool:
    """Return whether ``origin`` may embed the merchant's widget."""
    if not origin:
        return False
    try:
        return normalise_origin(origin) in (merchant.partner_origins or [])
    except ValueError:
        return False
