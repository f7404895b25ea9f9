"""The consent explainer: its versioned text and the hash of exactly what was shown."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from .models import Merchant

from .i18n import DEFAULT_LOCALE, LOCALES, current_locale

CONTENT = Path(__file__).parent / "content" / "explainer"
PURPOSES = ("recommendations", "profile", "email", "sms")


@dataclass(frozen=True)
class Purpose:
    """One thing a shopper may allow."""

    key: str
    title: str
    why: str
    required: bool = False


@dataclass(frozen=True)
class Explainer:
    """The explainer as shown to a shopper of one merchant."""

    version: str
    locale: str
    title: str
    intro: str
    sections: tuple[tuple[str, str], ...]
    purposes: tuple[Purpose, ...]

    def purpose(self, key: str) -> Purpose:
        """Return the purpose named ``key``."""
        return next(p for p in self.purposes if p.key == key)

    @property
    def text(self) -> str:
        """Return the canonical text the page renders, block by block."""
        blocks = [self.title, self.intro]
        for heading, body in self.sections:
            blocks.extend([heading, body])
        blocks.extend(f"{p.title}: {p.why}" for p in self.purposes)
        return "\n\n".join(blocks)

    @property
    def sha256(self) -> str:
        """Return the SHA-256 hex digest of :attr:`text`."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@lru_cache(maxsize=len(LOCALES))
def _content(locale: str) -> dict[str, Any]:
    """Return one language's explainer, checked against the English one it translates."""
    path = CONTENT / f"{locale}.yaml"
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    keys = tuple(p["key"] for p in data["purposes"])
    if keys != PURPOSES:
        raise RuntimeError(f"{path} must list the purposes {PURPOSES}, found {keys}")
    if locale != DEFAULT_LOCALE:
        english = _content(DEFAULT_LOCALE)
        if data["version"] != english["version"] or len(data["sections"]) != len(english["sections"]):
            raise RuntimeError(f"{path} must translate version {english['version']} section by section")
    return data


def explainer_for(
    merchant_name: str, retention_months: int, locale: str = DEFAULT_LOCALE, partner: str | None = None
) -> Explainer:
    """Return the current explainer filled in for a merchant, in ``locale`` (English if unknown).

    ``partner`` names the site showing the quiz in the widget; it gets a section of its own.
    """
    locale = locale if locale in LOCALES else DEFAULT_LOCALE
    data = _content(locale)

    def fill(text: str) -> str:
        return text.format(merchant=merchant_name, retention_months=retention_months, partner=partner).strip()

    sections = [data["partner_section"]] if partner else []
    sections += data["sections"]

    return Explainer(
        version=str(data["version"]),
        locale=locale,
        title=fill(data["title"]),
        intro=fill(data["intro"]),
        sections=tuple((fill(s["heading"]), fill(s["body"])) for s in sections),
        purposes=tuple(Purpose(**p) for p in data["purposes"]),
    )


def merchant_explainer(merchant: Merchant, locale: str | None = None, partner: str | None = None) -> Explainer:
    """Return the current explainer of ``merchant`` in ``locale`` (default: the request's), on ``partner``'s site."""
    return explainer_for(merchant.name, merchant.retention_months, locale or current_locale(), partner)
