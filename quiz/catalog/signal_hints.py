"""What the quiz builder knows from the catalog: its categories, suggested signals per answer, and
answers that would match no product.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from flask import current_app

from recommender.suggestions import Centroids, Suggestion, catalog_targets, suggest

from ..models import Merchant, Product
from ..platform.db import get_session
from .engine import CatalogNotReady, get_embedder, recommender_for

CACHE = "attune.signal_targets"
_lock = threading.Lock()


def suggestions_for(merchant: Merchant, labels: Sequence[str]) -> list[list[Suggestion]] | None:
    """Return the suggested signals of each answer label; None while the catalog cannot be searched."""
    try:
        recommender = recommender_for(merchant)
    except CatalogNotReady:
        return None
    key = (merchant.id, recommender.catalog.version)
    cache: dict[tuple[int, str], tuple[Centroids, Centroids]] = current_app.extensions.setdefault(CACHE, {})
    with _lock:
        targets = cache.get(key)
    if targets is None:
        targets = catalog_targets(get_embedder(), recommender.catalog)
        with _lock:
            cache.clear()  # one catalog version per merchant is enough; others are rebuilt on use
            cache[key] = targets
    return suggest(get_embedder(), *targets, labels)


def unmatched(merchant: Merchant, definition: Mapping[str, Any]) -> list[str]:
    """Return a warning per answer whose categories and price band hold no available product."""
    warnings: list[str] = []
    session = get_session()
    for section in definition.get("sections") or []:
        for question in section.get("questions") or []:
            for option in question.get("options") or []:
                signals = option.get("signals") or {}
                categories = [c for c in signals.get("categories") or [] if isinstance(c, str)]
                price = signals.get("price")
                if not categories or (price is not None and not isinstance(price, list)):
                    continue
                conditions = [Product.merchant_id == merchant.id, Product.available.is_(True)]
                conditions.append(
                    sa.or_(*(sa.or_(Product.category == c, Product.category.like(f"{c} >%")) for c in categories))
                )
                band = ""
                if isinstance(price, list) and len(price) == 2:
                    low, high = price
                    if isinstance(low, int | float):
                        conditions.append(Product.price >= low)
                        band = f" from {low:g}"
                    if isinstance(high, int | float):
                        conditions.append(Product.price <= high)
                        band += f" up to {high:g}"
                if not session.scalar(sa.select(sa.func.count()).select_from(Product).where(*conditions)):
                    label = _plain(option.get("label"))
                    warnings.append(
                        f"“{label}” can match nothing: no available product in {' or '.join(categories)}{band}."
                    )
    return warnings


def _plain(text: Any) -> str:
    if isinstance(text, dict):
        return str(next((v for v in text.values() if v), ""))
    return str(text or "")
