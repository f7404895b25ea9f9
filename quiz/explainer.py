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

CONTENT = Path(__file__).parent / "content" / "explainer.yaml"
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
    title: str
    intro: str
    sections: tuple[tuple[str, str], ...]
    purposes: tuple[Purpose, ...]

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


@lru_cache(maxsize=1)
def _content() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(CONTENT.read_text(encoding="utf-8"))
    keys = tuple(p["key"] for p in data["purposes"])
    if keys != PURPOSES:
        raise RuntimeError(f"{CONTENT} must list the purposes {PURPOSES}, found {keys}")
    return data


def explainer_for(merchant_name: str, retention_months: int) -> Explainer:
    """Return the current explainer filled in for a merchant."""
    data = _content()

    def fill(text: str) -> str:
        return text.format(merchant=merchant_name, retention_months=retention_months).strip()

    return Explainer(
        version=str(data["version"]),
        title=fill(data["title"]),
        intro=fill(data["intro"]),
        sections=tuple((fill(s["heading"]), fill(s["body"])) for s in data["sections"]),
        purposes=tuple(Purpose(**p) for p in data["purposes"]),
    )


def merchant_explainer(merchant: Merchant) -> Explainer:
    """Return the current explainer of ``merchant``."""
    return explainer_for(merchant.name, merchant.retention_months)
