"""BM25F lexical matching on hand-made products whose right answer is obvious."""

from __future__ import annotations

import numpy as np

from recommender import CatalogItem
from recommender.language import detect, fold
from recommender.lexical import LexicalIndex, terms
from recommender.text import keywords, matched_keywords

ITEMS = [
    CatalogItem(id=7, external_id="a", title="Storm Rain Jacket", category="Outerwear > Rain Jackets"),
    CatalogItem(id=3, external_id="b", title="Trail Socks", description="Wear them under a rain jacket."),
    CatalogItem(id=5, external_id="c", title="DeWalt 20V Drill", brand="DeWalt", description="Cordless drill."),
    CatalogItem(id=9, external_id="d", title="Ceramic Mug", tags=("kitchen", "coffee")),
]


def test_terms_fold_plurals_and_drop_stop_words() -> None:
    assert terms("The jackets for my Dog's beds") == ["jacket", "dog", "bed"]
    assert terms("running shoes") == terms("run shoe"), "Snowball's English stemmer, not only plurals"


SPANISH = [
    CatalogItem(id=1, external_id="j", title="Chaqueta impermeable de montaña", category="Ropa > Chaquetas"),
    CatalogItem(id=2, external_id="z", title="Zapatillas de running cómodas", category="Calzado > Zapatillas"),
    CatalogItem(id=3, external_id="t", title="Taza de cerámica para café", category="Cocina > Tazas"),
    CatalogItem(id=4, external_id="m", title="Mochila para la montaña", description="Con funda para la lluvia."),
]


def test_spanish_words_meet_their_plurals_and_accents_in_a_spanish_catalog() -> None:
    index = LexicalIndex.build(SPANISH)
    assert index.language == "es", "the catalog's language is read from its texts"
    assert index.top("chaquetas impermeables", 3)[0].tolist() == [1]
    assert index.top("zapatillas comodas", 3)[0].tolist()[0] == 2, "accents fold: comodas meets cómodas"
    assert index.top("una taza para el cafe", 3)[0].tolist() == [3]
    assert index.top("montana", 3)[0].tolist()[0] in (1, 4)


def test_spanish_stop_words_match_nothing_and_english_words_keep_their_meaning() -> None:
    index = LexicalIndex.build(SPANISH)
    assert not index.scores("para la de").any(), "stop words of the query's language carry nothing"
    english = LexicalIndex.build(ITEMS)
    assert english.language == "en"
    assert english.top("sea kayak rain jacket", 3)[0].tolist()[0] == 7, "'sea' is not dropped from English"


def test_language_of_a_text_and_folding() -> None:
    assert detect("una jaula para mi conejo") == "es"
    assert detect("a cage for my rabbit") == "en"
    assert detect("chaquetas impermeables", default="en") == "en", "nouns alone do not say"
    assert detect("zapatillas cómodas") == "es", "accents do"
    assert detect("sea kayak paddle") == "en"
    assert fold("Cómodas Ñandú") == "comodas nandu"


def test_reasons_name_the_shoppers_own_words_in_either_language() -> None:
    words = keywords("unas chaquetas impermeables para la lluvia")
    assert words == ("chaquetas", "impermeables", "lluvia"), "Spanish stop words go, typed words stay as typed"
    assert matched_keywords(words, SPANISH[0]) == ["chaquetas", "impermeables"]
    assert matched_keywords(keywords("comfortable running shoes"), SPANISH[1]) == ["running"]
    assert matched_keywords(keywords("cómodas"), SPANISH[1]) == ["cómodas"]


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
