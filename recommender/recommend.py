"""The recommender: a preference query in, ranked and explained catalog items out."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace

import numpy as np

from .catalog_index import CatalogIndex
from .diversity import Candidate, diversify
from .domain import Diversity, Preferences, Reason, Recommendation
from .embedder import Embedder
from .encoders import TextEncoder, category_weight_of, route_language
from .fusion import CATEGORY_WEIGHT, hybrid_scores, lexical_weight
from .lexical import top_rows
from .ranking import boost, explain, fallback_reasons, passes_filters, query_vector

# How many nearest neighbours to look at per requested item before filtering.
OVERSAMPLE = 20
MIN_CANDIDATES = 200
# Gathering rows of the vector matrix costs about this many times scoring rows in place: items
# passing the filters are scored exactly when they are at most this share of the catalog.
GATHER_COST = 10
DEFAULT_DIVERSITY = Diversity()


class Recommender:
    """Match a shopper's preferences against one catalog.

    ``routes`` maps a language to the model its text is matched by (Spanish: the multilingual
    encoder); text in another language, or a catalog without that model's vectors, is matched by
    ``embedder``. The route follows the language of what the shopper typed, or ``prefs.language``
    (the quiz's locale) when the text does not say.
    """

    def __init__(
        self,
        embedder: TextEncoder | Embedder,
        catalog: CatalogIndex,
        routes: Mapping[str, TextEncoder] | None = None,
        category_weight: float = CATEGORY_WEIGHT,
    ) -> None:
        self.embedder = embedder
        self.catalog = catalog
        self.routes = routes or {}
        self.category_weight = category_weight
        # On a language route the query vector is the shopper's own words alone: a multilingual
        # model finds English option labels far closer to English products than Spanish words,
        # so the labels would outweigh what was typed (the options still filter and boost).
        self.typed_only = False

    def route(self, prefs: Preferences) -> str | None:
        """Return the routed language ``prefs`` are matched in, or None for the main model."""
        if not self.routes or not self.catalog.languages:
            return None
        language = route_language(prefs.search_text, self.routes, prefs.language)
        return language if self.catalog.in_language(language) is not None else None

    def _routed(self, prefs: Preferences) -> Recommender | None:
        """Return the recommender over the routed language's vectors, when ``prefs`` take a route."""
        language = self.route(prefs)
        view = self.catalog.in_language(language)
        if language is None or view is None:
            return None
        routed = Recommender(self.routes[language], view, category_weight=category_weight_of(language))
        routed.typed_only = True
        return routed

    def preference_vector(self, prefs: Preferences) -> np.ndarray | None:
        """Return the normalised query vector of ``prefs`` (None when they express nothing).

        From the recommender the app hands out, this is the main model's vector of every part,
        whatever the route: the vector profiles and taste clusters keep.
        """
        parts = [p for p in prefs.parts if not p.cacheable] if self.typed_only else prefs.parts
        return query_vector(self.embedder, parts)

    def recommend(
        self,
        prefs: Preferences,
        limit: int = 12,
        exclude: Collection[int] = (),
        vector: np.ndarray | None = None,
        diversity: Diversity = DEFAULT_DIVERSITY,
        category_prior: bool = True,
        among: Collection[int] | None = None,
    ) -> list[Recommendation]:
        """Return up to ``limit`` items, best and varied first, each with reasons.

        Items that pass every filter come first. When too few do, the rest are the closest
        items outside the budget or the chosen categories, or holding a value the answers set
        aside (``prefs.avoided``), marked ``fallback`` and saying so.
        Pass ``vector`` when :meth:`preference_vector` was already computed for ``prefs``
        (prefs taking a language route are encoded again, by that language's model);
        ``category_prior=False`` scores without the category centroids (an A/B test's arm);
        ``among`` restricts every result (pins and fallbacks too) to those item ids.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        routed = self._routed(prefs)
        if routed is not None:
            return routed.recommend(prefs, limit, exclude, None, diversity, category_prior, among)
        if vector is None:
            vector = self.preference_vector(prefs)
        results = self._pins(prefs, limit, exclude, among)
        exclude = set(exclude) | {r.item_id for r in results}
        wanted = limit - len(results)
        ranked = self._candidates(vector, prefs, wanted, exclude, category_prior, among) if wanted else []
        picked = diversify(ranked, wanted, diversity, self.catalog.vectors.vector)
        results += [
            Recommendation(c.item.id, round(c.score, 4), explain(c.item, prefs, c.boost_reasons)) for c in picked
        ]
        if len(results) < limit and (prefs.budget is not None or prefs.categories or prefs.avoided):
            relaxed = replace(prefs, budget=None, categories=frozenset(), avoided=())
            taken = set(exclude) | {r.item_id for r in results}
            for c in self._candidates(vector, relaxed, limit - len(results), taken, category_prior, among)[
                : limit - len(results)
            ]:
                reasons = fallback_reasons(c.item, prefs)
                results.append(Recommendation(c.item.id, round(c.score, 4), reasons, fallback=True))
        return results

    def _pins(
        self, prefs: Preferences, limit: int, exclude: Collection[int], among: Collection[int] | None = None
    ) -> list[Recommendation]:
        """Return the merchant's pinned items for these answers: available ones, first, once each."""
        if not prefs.pinned:
            return []
        by_external = self.catalog.items_by_external(prefs.pinned)
        pins = []
        for external_id in dict.fromkeys(prefs.pinned):
            item = by_external.get(external_id)
            if (
                item
                and item.available
                and item.id not in exclude
                and (among is None or item.id in among)
                and external_id not in prefs.excluded_items
            ):
                pins.append(Recommendation(item.id, 1.0, (Reason("pinned"),)))
        return pins[:limit]

    def _candidates(
        self,
        vector: np.ndarray | None,
        prefs: Preferences,
        wanted: int,
        exclude: Collection[int],
        category_prior: bool = True,
        among: Collection[int] | None = None,
    ) -> list[Candidate]:
        """Return the best candidates passing ``prefs``' filters (among some items); the whole catalog if need be."""
        total = len(self.catalog.items)
        k = min(total, max(wanted * OVERSAMPLE, MIN_CANDIDATES))
        allowed = self._filtered_ids(prefs, exclude)
        if among is not None:
            only = np.array(sorted(among), dtype=np.int64)
            allowed = only if allowed is None else np.intersect1d(allowed, only)
            if not len(allowed):
                return []
        ranked = self._rank(self._scored(vector, prefs.search_text, k, allowed, category_prior), prefs, k, exclude)
        if len(ranked) < wanted and k < total:
            # Filters were strict: look at the whole catalog rather than return too few.
            scored = self._scored(vector, prefs.search_text, total, allowed, category_prior)
            ranked = self._rank(scored, prefs, k, exclude)
        return ranked

    def hybrid_candidates(self, vector: np.ndarray | None, text: str, k: int) -> list[tuple[int, float]]:
        """Return ``(item id, score)`` of the ``k`` best items for a query vector and its typed text."""
        ids, scores = self._scored(vector, text, k)
        order = np.argsort(-scores, kind="stable")[:k]
        return list(zip(ids[order].tolist(), scores[order].tolist(), strict=True))

    def _filtered_ids(self, prefs: Preferences, exclude: Collection[int]) -> np.ndarray | None:
        """Return the ids passing the budget and category answers (None when there are none).

        The nearest neighbours of a query would often fail such filters (a category, a price
        band), so they are applied before the search rather than after it.
        """
        arrays = self.catalog.arrays
        if arrays is None or not (prefs.budget or prefs.categories or prefs.excluded_categories):
            return None
        return arrays.allowed(prefs, exclude)

    def _scored(
        self,
        vector: np.ndarray | None,
        text: str,
        k: int,
        among: np.ndarray | None = None,
        category_prior: bool = True,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return candidate ids and fused scores, unsorted.

        Candidates are the ``k`` nearest by meaning (every item when ``k`` covers the catalog)
        and the ``k`` best by words, or exactly the items ``among`` when given; each scores its
        cosine, its category's cosine and its lexical share weighted by how keyword-like ``text``
        is (:mod:`recommender.fusion`).
        """
        catalog = self.catalog
        if vector is None:
            ids = among if among is not None else np.fromiter(sorted(catalog.items), dtype=np.int64)
            return ids, np.zeros(len(ids), dtype=np.float32)
        if among is not None and (k >= len(among) or len(among) * GATHER_COST <= len(catalog.items)):
            ids, cosines = among, self._cosines_of(among, vector)  # few enough to score exactly
        elif catalog.dense is not None and k >= len(catalog.dense.ids):
            ids, cosines = catalog.dense.ids, catalog.dense.cosines(vector)
        else:
            ids, cosines = catalog.vectors.search(vector, k, among)
        lexical = catalog.lexical
        weight = lexical_weight(text) if text and lexical is not None else 0.0
        shares = None
        if lexical is not None and weight > 0:
            all_shares = lexical.normalised_scores(text)
            extra = np.setdiff1d(lexical.ids[top_rows(all_shares, k)], ids)
            if among is not None:
                extra = extra[np.isin(extra, among)]
            if len(extra):
                extra_cosines = self._vectors_of(extra) @ vector
                ids = np.concatenate([ids, extra])
                cosines = np.concatenate([cosines, extra_cosines.astype(np.float32)])
            shares = all_shares[lexical.rows_of(ids)]
        categories = catalog.categories if category_prior else None
        prior = categories.similarities(vector, ids) if categories else np.zeros_like(cosines)
        return ids, hybrid_scores(cosines, prior, shares, weight, self.category_weight)

    def _cosines_of(self, item_ids: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """Return the cosine of ``vector`` with some items, by the cheaper of gathering or scoring all."""
        dense = self.catalog.dense
        if dense is not None and len(item_ids) * GATHER_COST > len(dense.ids):
            return dense.cosines(vector)[np.searchsorted(dense.ids, item_ids)]
        return self._vectors_of(item_ids) @ vector

    def _vectors_of(self, item_ids: np.ndarray) -> np.ndarray:
        """Return the stored vectors of some items: one gather when all vectors are in memory."""
        if self.catalog.dense is not None:
            return self.catalog.dense.rows(item_ids)
        return np.stack([self.catalog.vectors.vector(int(i)) for i in item_ids])

    def _rank(
        self, scored: tuple[np.ndarray, np.ndarray], prefs: Preferences, k: int, exclude: Collection[int]
    ) -> list[Candidate]:
        """Return up to ``k`` scored candidates that pass the filters, with their boosts, best first.

        Array filters (availability, budget, categories, exclusions) drop candidates in bulk;
        the per-item checks and boosts then run on the ``k`` best survivors only.
        """
        ids, scores = scored
        if self.catalog.arrays is not None:
            keep = self.catalog.arrays.mask(ids, prefs, exclude)
            ids, scores = ids[keep], scores[keep]
        order = np.argsort(-scores, kind="stable")
        result: list[Candidate] = []
        for position in order.tolist():
            item_id = int(ids[position])
            item = self.catalog.items.get(item_id)
            if item is None or item_id in exclude or not passes_filters(item, prefs):
                continue
            bonus, boost_reasons = boost(item, prefs)
            result.append(Candidate(float(scores[position]) + bonus, item, boost_reasons))
            if len(result) >= k:
                break
        result.sort(key=lambda c: c.score, reverse=True)
        return result
