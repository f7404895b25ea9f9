"""Ranking logic on hand-made items whose right answer is obvious (no model needed)."""

from __future__ import annotations

import numpy as np

from recommender import (
    NO_DIVERSITY,
    Boost,
    CatalogIndex,
    CatalogItem,
    Diversity,
    Preferences,
    PriceRange,
    Reason,
    Recommendation,
    Recommender,
)
from recommender.index_store import VectorIndex, build_index
from recommender.ranking import explain, passes_filters

JACKET = CatalogItem(
    id=1,
    external_id="J",
    title="Storm Rain Jacket",
    category="Outerwear > Rain Jackets",
    price=120.0,
    tags=("waterproof", "hiking"),
    attributes={"style": ["technical"]},
)
BOOTS = CatalogItem(
    id=2,
    external_id="B",
    title="Ridge Hiking Boots",
    category="Footwear > Hiking Boots",
    price=180.0,
    tags=("hiking",),
    attributes={"style": ["classic"]},
)
SOCKS = CatalogItem(id=3, external_id="", title="Merino Socks", category="Clothing > Socks", price=18.0, tags=("warm",))
GONE = CatalogItem(
    id=4, external_id="", title="Sold Out Parka", category="Outerwear > Insulated Jackets", price=90.0, available=False
)


class FixedEmbedder:
    """Stands in for the model in pure ranking tests: maps known texts to known vectors."""

    def __init__(self, table: dict[str, np.ndarray]) -> None:
        self.table = table

    def encode(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.table[t] for t in texts]).astype(np.float32)

    encode_cached = encode


def catalog() -> CatalogIndex:
    items = {i.id: i for i in (JACKET, BOOTS, SOCKS, GONE)}
    vectors = np.eye(4, dtype=np.float32)  # item n points along axis n-1
    index = build_index(np.array([1, 2, 3, 4]), vectors, "flat")
    from recommender.index_store import Manifest

    manifest = Manifest("v1", "test", 4, 4, "flat", "")
    return CatalogIndex(VectorIndex(index, manifest), items, "v1")


def recommender_for(query: np.ndarray) -> Recommender:
    return Recommender(FixedEmbedder({"q": query}), catalog())  # type: ignore[arg-type]


def prefs(**kwargs: object) -> Preferences:
    from recommender import QueryPart

    return Preferences(parts=(QueryPart("q", 1.0, cacheable=False),), **kwargs)  # type: ignore[arg-type]


def test_nearest_item_comes_first() -> None:
    ranked = recommender_for(np.array([0.1, 0.9, 0.2, 0.0])).recommend(prefs(), limit=3)
    assert [r.item_id for r in ranked] == [2, 3, 1]


def test_unavailable_items_are_never_recommended() -> None:
    ranked = recommender_for(np.array([0, 0, 0, 1.0])).recommend(prefs(), limit=4)
    assert 4 not in [r.item_id for r in ranked]


def strict(recommendations: list[Recommendation]) -> list[int]:
    return [r.item_id for r in recommendations if not r.fallback]


def test_budget_and_category_filters_are_hard() -> None:
    rec = recommender_for(np.array([1.0, 0.5, 0.2, 0.0]))
    assert strict(rec.recommend(prefs(budget=PriceRange(None, 100)), limit=4)) == [3]
    assert strict(rec.recommend(prefs(categories=frozenset({"Footwear"})), limit=4)) == [2]
    no_outerwear = rec.recommend(prefs(excluded_categories=frozenset({"Outerwear"})), limit=4)
    assert [r.item_id for r in no_outerwear] == [2, 3], "excluded categories never come back as fallback"


def test_too_few_matches_are_topped_up_with_labelled_alternatives() -> None:
    rec = recommender_for(np.array([1.0, 0.5, 0.2, 0.0]))
    ranked = rec.recommend(prefs(budget=PriceRange(None, 100), keywords=("hiking",)), limit=3)
    assert [(r.item_id, r.fallback) for r in ranked] == [(3, False), (1, True), (2, True)]
    assert ranked[1].reasons == (Reason("over_budget"), Reason("words", words=("hiking",)))
    picked = rec.recommend(prefs(categories=frozenset({"Footwear"})), limit=2)
    assert picked[1].fallback and picked[1].reasons[0] == Reason("other_category", category="Outerwear")
    assert 4 not in [r.item_id for r in picked], "unavailable items are never a fallback"


def test_boost_can_reorder_close_items_and_says_why() -> None:
    rec = recommender_for(np.array([0.70, 0.72, 0.0, 0.0]))
    plain = rec.recommend(prefs(), limit=2)
    assert plain[0].item_id == 2
    boosted = rec.recommend(prefs(boosts=(Boost("style", "technical", 0.05, "technical build"),)), limit=2)
    assert boosted[0].item_id == 1
    assert Reason("boost", text="technical build") in boosted[0].reasons


def test_exclude_skips_items_already_shown() -> None:
    ranked = recommender_for(np.array([0.1, 0.9, 0.2, 0.0])).recommend(prefs(), limit=2, exclude={2})
    assert [r.item_id for r in ranked] == [3, 1]


def test_reasons_name_matched_words_category_and_budget() -> None:
    p = Preferences(
        parts=(),
        keywords=("waterproof", "jackets", "beach"),
        categories=frozenset({"Outerwear"}),
        budget=PriceRange(50, 150),
    )
    assert explain(JACKET, p, []) == (
        Reason("words", words=("waterproof", "jackets")),
        Reason("category", category="Outerwear"),
        Reason("budget", budget=PriceRange(50, 150), currency="USD"),
    )
    assert explain(SOCKS, Preferences(parts=()), []) == (Reason("fit"),)


def test_filters_reject_unknown_price_under_a_budget() -> None:
    unknown = CatalogItem(id=9, external_id="", title="Mystery", price=None)
    assert not passes_filters(unknown, Preferences(parts=(), budget=PriceRange(0, 10)))
    assert passes_filters(unknown, Preferences(parts=()))


def twins_catalog() -> CatalogIndex:
    """Three near-identical jackets of one brand and category, and two different items."""
    from recommender.index_store import Manifest

    def item(n: int, title: str, category: str, brand: str) -> CatalogItem:
        return CatalogItem(id=n, external_id=str(n), title=title, category=category, brand=brand, price=50.0)

    items = {
        1: item(1, "Jacket A", "Outerwear > Rain", "North"),
        2: item(2, "Jacket A2", "Outerwear > Rain", "North"),
        3: item(3, "Jacket A3", "Outerwear > Rain", "North"),
        4: item(4, "Hat", "Accessories > Hats", "South"),
        5: item(5, "Boots", "Footwear > Boots", "West"),
    }
    # The twins point almost the same way; the hat and boots are a little less relevant but different.
    rows = [[0.95, 0.31, 0], [0.94, 0.34, 0], [0.93, 0.37, 0], [0.8, -0.6, 0], [0.79, 0, 0.61]]
    vectors = np.array(rows, dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = build_index(np.arange(1, 6), vectors, "flat")
    return CatalogIndex(VectorIndex(index, Manifest("v1", "t", 3, 5, "flat", "")), items, "v1")


def test_mmr_and_caps_vary_the_first_page_and_can_be_turned_off() -> None:
    rec = Recommender(FixedEmbedder({"q": np.array([1.0, 0.0, 0.0])}), twins_catalog())  # type: ignore[arg-type]
    plain = [r.item_id for r in rec.recommend(prefs(), limit=3, diversity=NO_DIVERSITY)]
    assert plain == [1, 2, 3]
    varied = [r.item_id for r in rec.recommend(prefs(), limit=3, diversity=Diversity(weight=0.25, per_group=0))]
    assert varied[:2] == [1, 4], "a stronger trade-off puts a different item second"
    assert [r.item_id for r in rec.recommend(prefs(), limit=3)][:2] == [1, 2], "the default is gentler"
    capped = [r.item_id for r in rec.recommend(prefs(), limit=4, diversity=Diversity(weight=0.0, per_group=2))]
    assert capped[:2] == [1, 2] and capped[2] in (4, 5) and capped[3] in (4, 5), "two per brand, then the rest"
    everything = [r.item_id for r in rec.recommend(prefs(), limit=5, diversity=Diversity(weight=0.0, per_group=1))]
    assert sorted(everything) == [1, 2, 3, 4, 5], "caps never make the page shorter"
