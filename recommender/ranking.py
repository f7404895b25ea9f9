"""Ranking steps: weighted query vectors, hard filters, boosts and the reasons shown."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .domain import CatalogItem, Preferences, PriceRange, QueryPart
from .embedder import Embedder
from .text import matched_keywords


def query_vector(embedder: Embedder, parts: Sequence[QueryPart]) -> np.ndarray | None:
    """Return the normalised weighted mean of the parts' embeddings, or None without parts.

    Repeating texts come from the embedder's cache, so a request usually encodes only the
    shopper's own free text.
    """
    parts = [p for p in parts if p.text.strip() and p.weight > 0]
    if not parts:
        return None
    fresh = [p for p in parts if not p.cacheable]
    cached = [p for p in parts if p.cacheable]
    rows: list[np.ndarray] = []
    weights: list[float] = []
    if fresh:
        rows.append(embedder.encode([p.text for p in fresh]))
        weights.extend(p.weight for p in fresh)
    if cached:
        rows.append(embedder.encode_cached([p.text for p in cached]))
        weights.extend(p.weight for p in cached)
    matrix = np.vstack(rows)
    vector = (np.asarray(weights, dtype=np.float32)[:, None] * matrix).sum(axis=0)
    norm = float(np.linalg.norm(vector))
    return (vector / norm).astype(np.float32) if norm > 0 else None


def passes_filters(item: CatalogItem, prefs: Preferences) -> bool:
    """Return whether the item survives the shopper's hard constraints."""
    if not item.available or item.external_id in prefs.excluded_items:
        return False
    if prefs.budget is not None and not prefs.budget.contains(item.price):
        return False
    top = item.top_category
    if prefs.categories and top not in prefs.categories:
        return False
    if top in prefs.excluded_categories:
        return False
    return all(_attribute_values(item, name) & wanted for name, wanted in prefs.attribute_filters)


def _attribute_values(item: CatalogItem, attribute: str) -> set[str]:
    value = item.attributes.get(attribute) if item.attributes else None
    if value is None:
        return set()
    values = value if isinstance(value, (list, tuple)) else [value]
    return {str(v).lower() for v in values}


def boost(item: CatalogItem, prefs: Preferences) -> tuple[float, list[str]]:
    """Return the score bonus the item earns from the shopper's boosts, and their reasons."""
    bonus = 0.0
    reasons: list[str] = []
    for b in prefs.boosts:
        if b.value.lower() in _attribute_values(item, b.attribute):
            bonus += b.weight
            if b.reason and b.reason not in reasons:
                reasons.append(b.reason)
    return bonus, reasons


def budget_reason(budget: PriceRange, currency: str) -> str:
    """Return a budget reason as a shopper would say it: "within your 50-100 budget"."""

    def num(x: float) -> str:
        return f"{x:g}"

    unit = "" if currency in ("", "USD") else f" {currency}"
    if budget.low and budget.high is not None:
        return f"within your {num(budget.low)}-{num(budget.high)}{unit} budget"
    if budget.high is not None:
        return f"under your {num(budget.high)}{unit} budget"
    return f"within your {num(budget.low or 0)}+{unit} budget"


def explain(item: CatalogItem, prefs: Preferences, boost_reasons: Sequence[str]) -> tuple[str, ...]:
    """Return the short reasons shown under a recommendation, most specific first."""
    reasons: list[str] = []
    words = matched_keywords(prefs.keywords, item)
    if words:
        reasons.append("matches: " + ", ".join(words))
    reasons.extend(boost_reasons)
    if prefs.categories and item.top_category in prefs.categories:
        reasons.append(f"in {item.top_category}, a category you picked")
    if prefs.budget is not None and item.price is not None:
        reasons.append(budget_reason(prefs.budget, item.currency))
    if not reasons:
        reasons.append("close to what you described" if prefs.keywords else "a good fit for your answers")
    return tuple(reasons[:3])


def fallback_reasons(item: CatalogItem, prefs: Preferences) -> tuple[str, ...]:
    """Return the reasons of an item offered outside the filters: what it misses, then why it is close."""
    reasons: list[str] = []
    if prefs.budget is not None and not prefs.budget.contains(item.price):
        over = item.price is not None and prefs.budget.high is not None and item.price > prefs.budget.high
        reasons.append("a little over your budget" if over else "outside your budget")
    if prefs.categories and item.top_category not in prefs.categories:
        reasons.append(f"from {item.top_category or 'another category'}, outside the categories you picked")
    words = matched_keywords(prefs.keywords, item)
    reasons.append("matches: " + ", ".join(words) if words else "close to what you described")
    return tuple(reasons[:3])
