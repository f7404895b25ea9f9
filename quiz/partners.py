"""Partner sites allowed to embed a merchant's quiz widget: their origins, checked and stored."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from .models import Merchant

MAX_ORIGINS = 50


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
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 address keeps its brackets in an origin
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


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
