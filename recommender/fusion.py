"""Combining the meaning of a query (embeddings) with its exact words (BM25F)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from .text import STOPWORDS

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
_WORD = re.compile(r"[a-z0-9]+")


def content_share(text: str) -> float:
    """Return the share of the words of ``text`` that are not stop words (0 for no words)."""
    words = _WORD.findall(text.lower())
    return sum(w not in STOPWORDS for w in words) / len(words) if words else 0.0


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
    cosines: np.ndarray, category: np.ndarray, lexical: np.ndarray | None, lexical_weight: float
) -> np.ndarray:
    """Return the fused score of candidates: own cosine, category cosine and weighted lexical share."""
    scores = cosines + np.float32(CATEGORY_WEIGHT) * category
    if lexical is not None and lexical_weight > 0:
        scores = scores + np.float32(lexical_weight) * lexical
    return scores.astype(np.float32, copy=False)
