"""Hybrid scoring: query-form weighting, category evidence and the candidates it adds."""

from __future__ import annotations

import numpy as np

from recommender import CatalogIndex, CatalogItem, Preferences, PriceRange, QueryPart, Recommender
from recommender.category_prior import CategoryPrior
from recommender.fusion import content_share, lexical_weight, reciprocal_rank_fusion
from recommender.index_store import Manifest, VectorIndex, build_index


def test_keyword_queries_weigh_words_and_sentences_weigh_meaning() -> None:
    assert content_share("dewalt 20v drill") == 1.0
    assert content_share("a cage for my rabbit") == 0.4
    assert lexical_weight("dewalt 20v drill") > 1.0
    assert lexical_weight("something warm for my dad who likes the cold") < 0.01
    assert lexical_weight("") == 0.0
    assert content_share("una jaula para mi conejo") == 0.4, "a Spanish sentence is a sentence too"
    assert lexical_weight("una chaqueta impermeable para senderismo") < 0.05
    assert lexical_weight("chaquetas impermeables") > 1.0


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    assert reciprocal_rank_fusion([[1, 2, 3], [2, 3, 9]]) == [2, 3, 1, 9]


class Embedder:
    """Maps the single query text of these tests to a fixed vector."""

    def __init__(self, vector: list[float]) -> None:
        self.vector = np.asarray(vector, dtype=np.float32) / np.linalg.norm(vector)

    def encode(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.vector for _ in texts])

    encode_cached = encode


def item(n: int, title: str, category: str, price: float = 20.0) -> CatalogItem:
    return CatalogItem(id=n, external_id=f"x{n}", title=title, category=category, price=price)


def catalog(items: list[CatalogItem], rows: list[list[float]], built: bool = True) -> CatalogIndex:
    vectors = np.asarray(rows, dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = np.asarray([i.id for i in items])
    manifest = Manifest("v1", "t", vectors.shape[1], len(items), "flat", "")
    index = VectorIndex(build_index(ids, vectors, "flat"), manifest)
    by_id = {i.id: i for i in items}
    return CatalogIndex.build(index, by_id, "v1") if built else CatalogIndex(index, by_id, "v1")


CAGES = [item(1, "Hutch", "Pets > Cages"), item(2, "Wire Pen", "Pets > Cages"), item(3, "Coop", "Pets > Cages")]
OTHERS = [
    item(4, "Rabbit Print Mug", "Kitchen > Mugs"),
    item(5, "Mug", "Kitchen > Mugs"),
    item(6, "Cup", "Kitchen > Mugs"),
]
# The query sits a little closer to the mug with the rabbit print than to any one cage,
# but much closer to the cages as a kind of product.
ROWS = [[0.8, 0.6, 0.0], [0.8, 0.0, 0.6], [0.8, -0.6, 0.0], [0.85, 0.0, -0.53], [0.0, 0.0, 1.0], [0.0, 0.3, 1.0]]


def test_category_evidence_lifts_products_of_the_fitting_kind() -> None:
    prefs = Preferences(parts=(QueryPart("a cage for my rabbit", 1.0, cacheable=False),))
    bare = Recommender(Embedder([1, 0, 0]), catalog(CAGES + OTHERS, ROWS, built=False))  # type: ignore[arg-type]
    built = Recommender(Embedder([1, 0, 0]), catalog(CAGES + OTHERS, ROWS))  # type: ignore[arg-type]
    assert bare.recommend(prefs, limit=1)[0].item_id == 4, "by its own vector the mug is nearest"
    assert built.recommend(prefs, limit=1)[0].item_id in (1, 2, 3)
    # An A/B test's arm without the category prior ranks as if the catalog had no centroids.
    assert built.recommend(prefs, limit=1, category_prior=False)[0].item_id == 4


def test_small_categories_get_no_centroid() -> None:
    items = [*CAGES, item(7, "Lonely Lamp", "Lighting > Lamps")]
    vectors = np.eye(4, dtype=np.float32)[:, :4]
    prior = CategoryPrior.build(np.array([1, 2, 3, 7]), vectors, {i.id: i for i in items})
    assert len(prior.centroids) == 1
    assert prior.similarities(np.array([0, 0, 0, 1.0], dtype=np.float32), np.array([7]))[0] == 0.0


def test_a_keyword_query_finds_an_exact_model_number_the_vectors_miss() -> None:
    items = [item(1, "Cordless Drill", "Tools > Drills"), item(2, "Drill DCD771", "Tools > Drills")]
    items += [item(n, f"Drill {n}", "Tools > Drills") for n in range(3, 30)]
    rows = [[1.0, 0.01 * n, 0.0] for n in range(1, 30)]
    rows[1] = [0.2, 0.0, 1.0]  # the exact model is far away by meaning
    rec = Recommender(Embedder([1, 0, 0]), catalog(items, rows))  # type: ignore[arg-type]
    ranked = [r.item_id for r in rec.recommend(Preferences(parts=(QueryPart("x", 1.0, False),)), limit=3)]
    assert 2 not in ranked
    prefs = Preferences(parts=(QueryPart("x", 1.0, False),), search_text="dcd771 drill")
    assert rec.recommend(prefs, limit=3)[0].item_id == 2


def test_array_filters_agree_with_item_by_item_filters() -> None:
    items = [item(n, f"Thing {n}", ["A > x", "B > y", "C > z"][n % 3], price=float(n * 10)) for n in range(1, 40)]
    items.append(CatalogItem(id=40, external_id="x40", title="No Price", category="A > x"))
    rows = [[1.0, n / 40, (n % 7) / 7] for n in range(1, 41)]
    query = Embedder([1, 0.5, 0.2])
    cases = [
        Preferences(parts=(QueryPart("x", 1.0, False),), budget=PriceRange(50, 200)),
        Preferences(parts=(QueryPart("x", 1.0, False),), categories=frozenset({"B"})),
        Preferences(parts=(QueryPart("x", 1.0, False),), excluded_categories=frozenset({"A", "C"})),
        Preferences(parts=(), budget=PriceRange(None, 90), categories=frozenset({"A", "C"})),
    ]
    for prefs in cases:
        bare = Recommender(query, catalog(items, rows, built=False))  # type: ignore[arg-type]
        built = Recommender(query, catalog(items, rows))  # type: ignore[arg-type]
        strict = lambda recs: {r.item_id for r in recs if not r.fallback}  # noqa: E731
        assert strict(built.recommend(prefs, limit=12)) <= strict(bare.recommend(prefs, limit=40)), prefs
        assert len(strict(built.recommend(prefs, limit=40))) == len(strict(bare.recommend(prefs, limit=40))), prefs
