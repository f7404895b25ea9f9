"""Ranking steps: weighted query vectors, hard filters, boosts and the reasons shown."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .domain import CatalogItem, Preferences, QueryPart, Reason
from .embedder import Embedder
from .text import matched_keywords

MAX_REASONS = 3  # shown under one item


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
    if is_avoided(item, prefs):
        return False
    return all(_attribute_values(item, name) & wanted for name, wanted in prefs.attribute_filters)


def is_avoided(item: CatalogItem, prefs: Preferences) -> bool:
    """Return whether the item holds a value the shopper's answers set aside (only a fallback then)."""
    return any(_attribute_values(item, name) & values for name, values in prefs.avoided)


def _attribute_values(item: CatalogItem, attribute: str) -> set[str]:
    value = item.attributes.get(attribute) if item.attributes else None
    if value is None:
        return set()
    values = value if isinstance(value, (list, tuple)) else [value]
    return {str(v).lower() for v in values}


def boost(item: CatalogItem, prefs: Preferences) -> tuple[float, list[Reason]]:
    """Return the score bonus the item earns from the shopper's boosts, and their reasons."""
    bonus = 0.0
    reasons: list[Reason] = []
    for b in prefs.boosts:
        if b.value.lower() in _attribute_values(item, b.attribute):
            bonus += b.weight
            reason = Reason("boost", text=b.reason)
            if b.reason and reason not in reasons:
                reasons.append(reason)
    return bonus, reasons


def explain(item: CatalogItem, prefs: Preferences, boost_reasons: Sequence[Reason]) -> tuple[Reason, ...]:
    """Return the short reasons shown under a recommendation, most specific first."""
    reasons: list[Reason] = []
    words = matched_keywords(prefs.keywords, item)
    if words:
        reasons.append(Reason("words", words=tuple(words)))
    reasons.extend(boost_reasons)
    if prefs.categories and item.top_category in prefs.categories:
        reasons.append(Reason("category", category=item.top_category))
    if not reasons:
        reasons.append(Reason("close" if prefs.keywords else "fit"))
    # Every item within the budget says so: the budget keeps its place whatever comes before it.
    if prefs.budget is not None and prefs.budget.contains(item.price):
        return (*reasons[: MAX_REASONS - 1], Reason("budget", budget=prefs.budget, currency=item.currency))
    return tuple(reasons[:MAX_REASONS])


def fallback_reasons(item: CatalogItem, prefs: Preferences) -> tuple[Reason, ...]:
    """Return the reasons of an item offered outside the filters: what it misses, then why it is close."""
    reasons: list[Reason] = []
    if prefs.budget is not None and not prefs.budget.contains(item.price):
        over = item.price is not None and prefs.budget.high is not None and item.price > prefs.budget.high
        reasons.append(Reason("over_budget" if over else "outside_budget"))
    if prefs.categories and item.top_category not in prefs.categories:
        reasons.append(Reason("other_category", category=item.top_category))
    if is_avoided(item, prefs):
        reasons.append(Reason("avoided"))
    if prefs.budget is not None and prefs.budget.contains(item.price):
        reasons.append(Reason("budget", budget=prefs.budget, currency=item.currency))
    words = matched_keywords(prefs.keywords, item)
    reasons.append(Reason("words", words=tuple(words)) if words else Reason("close"))
    return tuple(reasons[:MAX_REASONS])
