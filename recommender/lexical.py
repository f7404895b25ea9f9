"""Lexical matching: a BM25F index over the fields of product texts, on a sparse matrix.

Each field (title, category, brand, tags, description) contributes its term counts, normalised
by the field's own length and times a field weight, so a word in a short title counts more than
the same word deep in a description (BM25F: Robertson, Zaragoza and Taylor, 2004).
Terms are lower-cased, accent-folded, stripped of the stop words of their language and stemmed
by the Snowball stemmer of the catalog's language (:mod:`recommender.language`): the catalog's
language is detected from its texts when not given, a query's stop words are those of the
language it is written in, and its words are stemmed like the catalog's so they meet them.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from .domain import CatalogItem
from .language import DEFAULT_LANGUAGE, content_words, detect, detect_many, stem

# Field weights: a title word counts three times a description word.
FIELD_WEIGHTS: Mapping[str, float] = {"title": 3.0, "category": 2.0, "brand": 2.0, "tags": 1.5, "description": 1.0}
K1 = 1.2
B = 0.75  # one length normalisation for every field


# How many items' texts decide a catalog's language.
LANGUAGE_SAMPLE = 2000


def terms(text: str, language: str = DEFAULT_LANGUAGE, text_language: str | None = None) -> list[str]:
    """Return the index terms of ``text`` in order (repeats kept: they are term counts).

    Words are stemmed in ``language`` (the catalog's); stop words are those of ``text_language``,
    the language ``text`` is written in (``language`` when not given).
    """
    return [stem(w, language) for w in content_words(text, text_language or language)]


def catalog_language(items: Iterable[CatalogItem]) -> str:
    """Return the language most of the items' titles and descriptions are written in."""
    texts = (f"{item.title}. {item.description[:300]}" for _, item in zip(range(LANGUAGE_SAMPLE), items, strict=False))
    return detect_many(texts)


def item_fields(item: CatalogItem) -> dict[str, str]:
    """Return the texts of the fields the lexical index reads."""
    return {
        "title": item.title,
        "category": item.category.replace(">", " "),
        "brand": item.brand,
        "tags": " ".join(item.tags),
        "description": item.description,
    }


@dataclass(frozen=True)
class LexicalIndex:
    """BM25F term weights of a set of items (rows) by vocabulary term (columns)."""

    ids: np.ndarray  # item id of each row, ascending
    vocabulary: Mapping[str, int]
    weights: sparse.csc_matrix  # rows x terms: the BM25 weight of each term in each row
    idf: np.ndarray  # per term
    language: str = DEFAULT_LANGUAGE  # the catalog's: its stop words and stemmer

    @classmethod
    def build(
        cls,
        items: Iterable[CatalogItem],
        field_weights: Mapping[str, float] = FIELD_WEIGHTS,
        language: str | None = None,
    ) -> LexicalIndex:
        """Index ``items`` by their fields, in ``language`` (detected from their texts when None).

        Each field's term counts are normalised by that field's length against its average
        length over the catalog, weighted, summed, then saturated once (BM25F): a short title
        that is all query words beats a long one that merely contains them.
        """
        ordered = sorted(items, key=lambda i: i.id)
        language = language or catalog_language(ordered)
        names = [name for name, weight in field_weights.items() if weight]
        vocabulary: dict[str, int] = {}
        # One entry per (item, field, term); typed arrays, not lists, and no term strings kept:
        # millions of small objects would stay in the process's heap after the build.
        rows, fields, cols, counts = array("q"), array("q"), array("q"), array("f")
        lengths = np.zeros((len(ordered), len(names)), dtype=np.float32)
        for row, item in enumerate(ordered):
            texts = item_fields(item)
            for field, name in enumerate(names):
                field_terms = terms(texts[name], language)
                lengths[row, field] = len(field_terms)
                for term, count in Counter(field_terms).items():
                    rows.append(row)
                    fields.append(field)
                    cols.append(vocabulary.setdefault(term, len(vocabulary)))
                    counts.append(count)
        weights = np.asarray([field_weights[name] for name in names], dtype=np.float32)
        ids = np.asarray([item.id for item in ordered], dtype=np.int64)
        return cls._from_entries(ids, vocabulary, lengths, weights, (rows, fields, cols, counts), language)

    @classmethod
    def _from_entries(
        cls,
        ids: np.ndarray,
        vocabulary: dict[str, int],
        lengths: np.ndarray,
        field_weights: np.ndarray,
        entries: tuple[array[int], array[int], array[int], array[float]],
        language: str,
    ) -> LexicalIndex:
        """Return the index from per-field term counts: normalise, weight, sum over fields, saturate."""
        row, field, column = (
            np.frombuffer(a, dtype=np.int64) if len(a) else np.zeros(0, np.int64) for a in entries[:3]
        )
        count = np.frombuffer(entries[3], dtype=np.float32) if len(entries[3]) else np.zeros(0, np.float32)
        average = np.maximum(lengths.mean(axis=0), 1e-9) if len(lengths) else np.ones(lengths.shape[1])
        norm = 1 - B + B * lengths / average
        pseudo = field_weights[field] * count / norm[row, field]
        n = len(ids)
        # Duplicates (one term in several fields of a row) are summed by the conversion.
        summed = sparse.csc_matrix((pseudo, (row, column)), shape=(n, len(vocabulary)), dtype=np.float32)
        summed.sum_duplicates()
        doc_freq = np.diff(summed.indptr)
        idf = np.log1p((n - doc_freq + 0.5) / (doc_freq + 0.5)).astype(np.float32)
        term_of = np.repeat(np.arange(len(vocabulary)), doc_freq)
        summed.data = (summed.data * (K1 + 1) / (summed.data + K1) * idf[term_of]).astype(np.float32)
        return cls(ids, vocabulary, summed, idf, language)

    def __len__(self) -> int:
        return len(self.ids)

    def query_terms(self, text: str) -> list[int]:
        """Return the vocabulary columns of the distinct known terms of ``text``.

        The query's stop words are those of the language it is written in (the catalog's when
        it does not say); its words are stemmed as the catalog's are, so that they meet.
        """
        found = terms(text, self.language, detect(text, default=self.language))
        return list(dict.fromkeys(self.vocabulary[t] for t in found if t in self.vocabulary))

    def scores(self, text: str) -> np.ndarray:
        """Return every row's BM25F score for ``text`` (zeros when no term is known)."""
        columns = self.query_terms(text)
        if not columns:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self.weights[:, columns].sum(axis=1), dtype=np.float32).ravel()

    def top(self, text: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(ids, scores)`` of the ``k`` best-scoring rows with a score above zero, best first."""
        scores = self.scores(text)
        hits = top_rows(scores, k)
        order = hits[np.argsort(-scores[hits], kind="stable")]
        return self.ids[order], scores[order]

    def normalised_scores(self, text: str) -> np.ndarray:
        """Return every row's score as a share (0 to 1) of what a row holding every query term could score.

        The ceiling is the query's own weight, ``sum(idf) * (K1 + 1)`` over its known terms, so a
        score says how much of the query an item's words cover, comparable across queries.
        """
        columns = self.query_terms(text)
        if not columns:
            return np.zeros(len(self.ids), dtype=np.float32)
        ceiling = float(self.idf[columns].sum()) * (K1 + 1)
        return self.scores(text) / ceiling if ceiling > 0 else self.scores(text)

    def rows_of(self, ids: np.ndarray) -> np.ndarray:
        """Return the row of each item id (ids must be indexed)."""
        return np.searchsorted(self.ids, ids)


def top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Return the rows of the ``k`` highest scores above zero, in no particular order."""
    hits = np.flatnonzero(scores > 0)
    if len(hits) > k:
        hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
    return hits
