"""The recommender: a preference query in, ranked and explained catalog items out."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np

from .domain import CatalogItem, Preferences, Recommendation
from .embedder import Embedder
from .index_store import VectorIndex
from .ranking import boost, explain, passes_filters, query_vector

# How many nearest neighbours to look at per requested item before filtering.
OVERSAMPLE = 20
MIN_CANDIDATES = 200


@dataclass(frozen=True)
class CatalogIndex:
    """A merchant's searchable catalog: the vector index plus the items it points to."""

    vectors: VectorIndex
    items: Mapping[int, CatalogItem]
    version: str


class Recommender:
    """Match a shopper's preferences against one catalog."""

    def __init__(self, embedder: Embedder, catalog: CatalogIndex) -> None:
        self.embedder = embedder
        self.catalog = catalog

    def preference_vector(self, prefs: Preferences) -> np.ndarray | None:
        """Return the normalised query vector of ``prefs`` (None when they express nothing)."""
        return query_vector(self.embedder, prefs.parts)

    def recommend(
        self,
        prefs: Preferences,
        limit: int = 12,
        exclude: Collection[int] = (),
        vector: np.ndarray | None = None,
    ) -> list[Recommendation]:
        """Return up to ``limit`` items that pass the filters, best first, each with reasons.

        Pass ``vector`` when :meth:`preference_vector` was already computed for ``prefs``.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if vector is None:
            vector = self.preference_vector(prefs)
        total = len(self.catalog.vectors)
        k = min(total, max(limit * OVERSAMPLE, MIN_CANDIDATES))
        ranked = self._rank(vector, prefs, k, exclude)
        if len(ranked) < limit and k < total:
            # Filters were strict: look at the whole catalog rather than return too few.
            ranked = self._rank(vector, prefs, total, exclude)
        # Reasons are worded only for what is shown.
        return [
            Recommendation(item.id, round(score, 4), explain(item, prefs, boost_reasons))
            for score, item, boost_reasons in ranked[:limit]
        ]

    def _rank(
        self, vector: np.ndarray | None, prefs: Preferences, k: int, exclude: Collection[int]
    ) -> list[tuple[float, CatalogItem, list[str]]]:
        """Return ``(score, item, boost reasons)`` of the candidates that pass, best first."""
        if vector is None:
            ids = np.fromiter(self.catalog.items.keys(), dtype=np.int64)
            scores = np.zeros(len(ids), dtype=np.float32)
        else:
            ids, scores = self.catalog.vectors.search(vector, k)
        scored: list[tuple[float, CatalogItem, list[str]]] = []
        for item_id, similarity in zip(ids.tolist(), scores.tolist(), strict=True):
            item = self.catalog.items.get(item_id)
            if item is None or item_id in exclude or not passes_filters(item, prefs):
                continue
            bonus, boost_reasons = boost(item, prefs)
            scored.append((similarity + bonus, item, boost_reasons))
        scored.sort(key=lambda entry: entry[0], reverse=True)
        return scored
