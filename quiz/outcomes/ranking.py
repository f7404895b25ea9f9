"""The shop's own ranking settings: what every shopper gets outside an A/B test.

A test of ranking settings (diversity, category prior) has nothing to publish as a quiz
version; its winner's settings are kept on the merchant instead, so the choice outlives the test.
"""

from __future__ import annotations

from typing import Any

from ..models import Merchant

SETTINGS = ("diversity", "category_prior")


def shop_settings(merchant: Merchant) -> dict[str, bool]:
    """Return the shop's ranking settings, each on unless a winner turned it off."""
    stored = merchant.ranking_settings or {}
    return {name: bool(stored.get(name, True)) for name in SETTINGS}


def keep(merchant: Merchant, settings: dict[str, Any]) -> dict[str, bool]:
    """Make ``settings`` (a variant's) the shop's ranking settings; return them as kept."""
    kept = {name: bool(settings.get(name, True)) for name in SETTINGS}
    merchant.ranking_settings = kept
    return kept
