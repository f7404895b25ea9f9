"""Diversity in the first page: MMR re-ranking with caps per leaf category and per brand."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from .domain import CatalogItem, Diversity, Reason

# How many of the best candidates MMR chooses among, per item wanted.
POOL_PER_ITEM = 4


class Candidate(NamedTuple):
    """An item that passed the filters, with its score and the reasons its boosts earned."""

    score: float
    item: CatalogItem
    boost_reasons: list[Reason]


def diversify(
    ranked: Sequence[Candidate], limit: int, diversity: Diversity, vector_of: Callable[[int], np.ndarray]
) -> list[Candidate]:
    """Return ``limit`` candidates chosen for relevance and variety, in the order chosen.

    Maximal marginal relevance: each pick maximises ``(1 - w) * score - w * similarity`` to the
    items already picked, skipping items whose leaf category or brand already has ``per_group``
    picks; if the caps leave too few, the best of the rest fill up.
    """
    if diversity.weight <= 0 and diversity.per_group <= 0:
        return list(ranked[:limit])
    pool = list(ranked[: limit * POOL_PER_ITEM])
    similarity = _similarities(pool, vector_of) if diversity.weight > 0 else None
    chosen: list[int] = []
    groups: Counter[tuple[str, str]] = Counter()
    while len(chosen) < min(limit, len(pool)):
        best = _best(pool, chosen, groups, diversity, similarity)
        if best is None:
            break
        chosen.append(best)
        groups.update(_groups(pool[best].item))
    picked = [pool[i] for i in chosen]
    rest = [c for i, c in enumerate(pool) if i not in set(chosen)] + list(ranked[len(pool) :])
    return picked + rest[: limit - len(picked)]


def _groups(item: CatalogItem) -> list[tuple[str, str]]:
    keys = [("category", item.category)] if item.category else []
    return keys + ([("brand", item.brand)] if item.brand else [])


def _similarities(pool: Sequence[Candidate], vector_of: Callable[[int], np.ndarray]) -> np.ndarray:
    matrix = np.stack([vector_of(c.item.id) for c in pool]) if pool else np.zeros((0, 0), dtype=np.float32)
    return matrix @ matrix.T


def _best(
    pool: Sequence[Candidate],
    chosen: list[int],
    groups: Counter[tuple[str, str]],
    diversity: Diversity,
    similarity: np.ndarray | None,
) -> int | None:
    best, best_value = None, -np.inf
    taken = set(chosen)
    for i, candidate in enumerate(pool):
        if i in taken:
            continue
        if diversity.per_group and any(groups[g] >= diversity.per_group for g in _groups(candidate.item)):
            continue
        redundancy = float(similarity[i, chosen].max()) if similarity is not None and chosen else 0.0
        value = (1 - diversity.weight) * candidate.score - diversity.weight * redundancy
        if value > best_value:
            best, best_value = i, value
    return best
