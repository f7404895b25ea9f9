"""BM25F lexical matching on hand-made products whose right answer is obvious."""

from __future__ import annotations

import numpy as np

from recommender import CatalogItem
from recommender.lexical import LexicalIndex, terms

ITEMS = [
    CatalogItem(id=7, external_id="a", title="Storm Rain Jacket", category="Outerwear > Rain Jackets"),
    CatalogItem(id=3, external_id="b", title="Trail Socks", description="Wear them under a rain jacket."),
    CatalogItem(id=5, external_id="c", title="DeWalt 20V Drill", brand="DeWalt", description="Cordless drill."),
    CatalogItem(id=9, external_id="d", title="Ceramic Mug", tags=("kitchen", "coffee")),
]


def test_terms_fold_plurals_and_drop_stop_words() -> None:
    assert terms("The jackets for my Dog's beds") == ["jacket", "dog", "bed"]


def test_a_word_in_the_title_counts_more_than_in_a_description() -> None:
    index = LexicalIndex.build(ITEMS)
    ids, scores = index.top("rain jackets", 5)
    assert ids.tolist() == [7, 3]
    assert scores[0] > scores[1] > 0


def test_rows_follow_ascending_ids_and_unknown_words_score_nothing() -> None:
    index = LexicalIndex.build(ITEMS)
    assert index.ids.tolist() == [3, 5, 7, 9]
    assert not index.scores("submarine periscope").any()
    assert index.top("submarine", 3)[0].size == 0


def test_normalised_scores_say_how_much_of_the_query_a_product_covers() -> None:
    index = LexicalIndex.build(ITEMS)
    shares = index.normalised_scores("dewalt drill")
    best = int(np.argmax(shares))
    assert index.ids[best] == 5
    assert 0 < shares[best] <= 1
    partial = index.normalised_scores("dewalt drill bits mug")
    assert partial[best] < shares[best], "a query the product covers less of scores a smaller share"
    assert index.rows_of(np.array([9, 3])).tolist() == [3, 0]
