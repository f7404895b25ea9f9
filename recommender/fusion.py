"""Combining the meaning of a query (embeddings) with its exact words (BM25F)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .language import STOPWORDS, detect, words

RRF_K = 60  # the constant of Cormack, Clarke and Buettcher (2009)


def reciprocal_rank_fusion(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> list[int]:
    """Return the ids of several rankings ordered by the sum of ``1 / (k + rank)`` over them."""
    totals: dict[int, float] = {}
    for ranking in rankings:
        for rank, item_id in enumerate(ranking, start=1):
            totals[item_id] = totals.get(item_id, 0.0) + 1.0 / (k + rank)
    return sorted(totals, key=lambda i: totals[i], reverse=True)


# How much exact words may add to the cosine of a query made only of content words.
LEXICAL_WEIGHT = 2.0
# How sharply the lexical weight falls as a query reads more like a sentence than like keywords.
FORM_EXPONENT = 8
# How much the query's similarity to an item's whole category adds to the item's own.
CATEGORY_WEIGHT = 0.5


def content_share(text: str) -> float:
    """Return the share of the words of ``text`` that are not stop words of its language (0 for none).

    "una jaula para mi conejo" is a sentence in Spanish as "a cage for my rabbit" is in English.
    """
    found = words(text)
    stop = STOPWORDS[detect(text)]
    return sum(w not in stop for w in found) / len(found) if found else 0.0


def lexical_weight(text: str, weight: float = LEXICAL_WEIGHT, exponent: float = FORM_EXPONENT) -> float:
    """Return how much the lexical score counts for a query, by the form of the query.

    Keyword queries ("dewalt 20v drill 1/2 in") are all content words: model numbers, sizes and
    brands that the words must match, and the lexical score counts fully. Needs written as
    sentences ("a cage for my rabbit") carry function words and seldom the catalog's own words:
    there the meaning decides, and lexical matching only breaks near-ties. Measured on both
    development sets (docs/relevance.md): a fixed weight wins on one set and loses on the other.
    """
    return weight * content_share(text) ** exponent


def hybrid_scores(
    cosines: np.ndarray,
    category: np.ndarray,
    lexical: np.ndarray | None,
    lexical_weight: float,
    category_weight: float = CATEGORY_WEIGHT,
) -> np.ndarray:
    """Return the fused score of candidates: own cosine, weighted category cosine and lexical share."""
    scores = cosines + np.float32(category_weight) * category
    if lexical is not None and lexical_weight > 0:
        scores = scores + np.float32(lexical_weight) * lexical
    return scores.astype(np.float32, copy=False)
