"""The recommender: a preference query in, ranked and explained catalog items out."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace

import numpy as np

from .diversity import Candidate, diversify
from .domain import CatalogItem, Diversity, Preferences, Reason, Recommendation
from .embedder import Embedder
from .index_store import VectorIndex
from .ranking import boost, explain, fallback_reasons, passes_filters, query_vector

# How many nearest neighbours to look at per requested item before filtering.
OVERSAMPLE = 20
MIN_CANDIDATES = 200
DEFAULT_DIVERSITY = Diversity()


@dataclass(frozen=True)
class CatalogIndex:
    """A merchant's searchable catalog: the vector index plus the items it points to."""

    vectors: VectorIndex
    items: Mapping[int, CatalogItem]
    version: str

    def ids_of(self, external_ids: Collection[str]) -> set[int]:
        """Return the item ids of the given external ids (unknown ones are ignored)."""
        wanted = set(external_ids)
        return {item.id for item in self.items.values() if item.external_id in wanted}


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
        diversity: Diversity = DEFAULT_DIVERSITY,
    ) -> list[Recommendation]:
        """Return up to ``limit`` items, best and varied first, each with reasons.

        Items that pass every filter come first. When too few do, the rest are the closest
        items outside the budget or the chosen categories, marked ``fallback`` and saying so.
        Pass ``vector`` when :meth:`preference_vector` was already computed for ``prefs``.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if vector is None:
            vector = self.preference_vector(prefs)
        results = self._pins(prefs, limit, exclude)
        exclude = set(exclude) | {r.item_id for r in results}
        wanted = limit - len(results)
        ranked = self._candidates(vector, prefs, wanted, exclude) if wanted else []
        picked = diversify(ranked, wanted, diversity, self.catalog.vectors.vector)
        results += [
            Recommendation(c.item.id, round(c.score, 4), explain(c.item, prefs, c.boost_reasons)) for c in picked
        ]
        if len(results) < limit and (prefs.budget is not None or prefs.categories):
            relaxed = replace(prefs, budget=None, categories=frozenset())
            taken = set(exclude) | {r.item_id for r in results}
            for c in self._candidates(vector, relaxed, limit - len(results), taken)[: limit - len(results)]:
                reasons = fallback_reasons(c.item, prefs)
                results.append(Recommendation(c.item.id, round(c.score, 4), reasons, fallback=True))
        return results

    def _pins(self, prefs: Preferences, limit: int, exclude: Collection[int]) -> list[Recommendation]:
        """Return the merchant's pinned items for these answers: available ones, first, once each."""
        if not prefs.pinned:
            return []
        by_external = {item.external_id: item for item in self.catalog.items.values()}
        pins = []
        for external_id in dict.fromkeys(prefs.pinned):
            item = by_external.get(external_id)
            if item and item.available and item.id not in exclude and external_id not in prefs.excluded_items:
                pins.append(Recommendation(item.id, 1.0, (Reason("pinned"),)))
        return pins[:limit]

    def _candidates(
        self, vector: np.ndarray | None, prefs: Preferences, wanted: int, exclude: Collection[int]
    ) -> list[Candidate]:
        """Return the candidates passing ``prefs``' filters, best first; the whole catalog if need be."""
        total = len(self.catalog.vectors)
        k = min(total, max(wanted * OVERSAMPLE, MIN_CANDIDATES))
        ranked = self._rank(vector, prefs, k, exclude)
        if len(ranked) < wanted and k < total:
            # Filters were strict: look at the whole catalog rather than return too few.
            ranked = self._rank(vector, prefs, total, exclude)
        return ranked

    def _rank(self, vector: np.ndarray | None, prefs: Preferences, k: int, exclude: Collection[int]) -> list[Candidate]:
        """Return the candidates among the ``k`` nearest that pass the filters, best first."""
        if vector is None:
            ids = np.fromiter(self.catalog.items.keys(), dtype=np.int64)
            scores = np.zeros(len(ids), dtype=np.float32)
        else:
            ids, scores = self.catalog.vectors.search(vector, k)
        scored: list[Candidate] = []
        for item_id, similarity in zip(ids.tolist(), scores.tolist(), strict=True):
            item = self.catalog.items.get(item_id)
            if item is None or item_id in exclude or not passes_filters(item, prefs):
                continue
            bonus, boost_reasons = boost(item, prefs)
            scored.append(Candidate(similarity + bonus, item, boost_reasons))
        scored.sort(key=lambda c: c.score, reverse=True)
        return scored
