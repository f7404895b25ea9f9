"""Signals proposed for a quiz answer: the catalog's categories and attribute values closest in meaning.

An answer's label ("For my morning run") is embedded and compared with the centroid of every
top-level category (the mean of its products' vectors) and with the text of every attribute value
shared by enough products (``activity: running``). The closest category is proposed when it stands out;
attribute values are proposed as things to favour when they are close enough and no category
stands out. The merchant
accepts or dismisses each proposal in the quiz builder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .catalog_index import CatalogIndex, DenseVectors
from .domain import CatalogItem
from .embedder import Embedder

# Tuned on the demo catalog's quiz labels (bench/builder_clicks.py): a label's best category needs
# this cosine and this lead over the second best (unless it is CLEAR_CATEGORY_SCORE or more).
MIN_CATEGORY_SCORE = 0.26
MIN_CATEGORY_LEAD = 0.08
CLEAR_CATEGORY_SCORE = 0.5
MIN_ATTRIBUTE_SCORE = 0.55
MIN_ATTRIBUTE_PRODUCTS = 3
MAX_ATTRIBUTE_VALUES = 200
MAX_ATTRIBUTE_SUGGESTIONS = 2


@dataclass(frozen=True)
class Suggestion:
    """One proposed signal: a category to show (``key`` is "category") or an attribute value to favour."""

    key: str
    value: str
    score: float

    @property
    def token(self) -> str:
        """Return the suggestion as one string ("category=Outerwear", "activity=running")."""
        return f"{self.key}={self.value}"


@dataclass(frozen=True)
class Centroids:
    """Unit vectors with their names: ("category", "Outerwear") or ("activity", "running")."""

    names: tuple[tuple[str, str], ...]
    matrix: np.ndarray  # len(names) x dimension


def top_category(category: str) -> str:
    """Return the top level of a category path ("Outerwear > Rain Jackets" -> "Outerwear")."""
    return category.split(">")[0].strip()


def catalog_targets(embedder: Embedder, catalog: CatalogIndex) -> tuple[Centroids, Centroids]:
    """Return the centroids of the catalog's top-level categories and the vectors of its common attribute values."""
    dense = catalog.dense or DenseVectors.of(catalog.vectors)
    groups: dict[tuple[str, str], list[int]] = {}
    attributes: dict[tuple[str, str], list[int]] = {}
    for row, item_id in enumerate(dense.ids.tolist()):
        item = catalog.items.get(int(item_id))
        if item is None:
            continue
        if top := top_category(item.category):
            groups.setdefault(("category", top), []).append(row)
        for pair in _attribute_pairs(item):
            attributes.setdefault(pair, []).append(row)
    common = sorted(
        (pair for pair, rows in attributes.items() if len(rows) >= MIN_ATTRIBUTE_PRODUCTS),
        key=lambda pair: -len(attributes[pair]),
    )[:MAX_ATTRIBUTE_VALUES]
    names = sorted(common)
    values = embedder.encode_cached([value for _, value in names]) if names else np.zeros((0, 0), dtype=np.float32)
    return _centroids(dense.matrix, groups, sorted(groups)), Centroids(tuple(names), values)


def _attribute_pairs(item: CatalogItem) -> set[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for key, value in (item.attributes or {}).items():
        values = value if isinstance(value, list | tuple) else [value]
        for one in values:
            if isinstance(one, str) and len(one) <= 40 and _worded(one):
                pairs.add((str(key), one))
    return pairs


def _worded(value: str) -> bool:
    """Return whether an attribute value is a word a label can mean ("eco"), not a size ("XL", "12")."""
    return sum(ch.isalpha() for ch in value) >= 3 and not (value.isupper() and len(value) <= 4)


def _centroids(
    matrix: np.ndarray, rows: Mapping[tuple[str, str], list[int]], names: list[tuple[str, str]]
) -> Centroids:
    dimension = matrix.shape[1] if matrix.ndim == 2 else 0
    centroids = np.zeros((len(names), dimension), dtype=np.float32)
    for i, name in enumerate(names):
        centroids[i] = matrix[rows[name]].mean(axis=0)
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    return Centroids(tuple(names), centroids)


def suggest(
    embedder: Embedder, categories: Centroids, attributes: Centroids, labels: Sequence[str]
) -> list[list[Suggestion]]:
    """Return the proposals for each label, best first (empty where nothing stands out)."""
    if not labels:
        return []
    vectors = embedder.encode_cached(list(labels))
    proposals: list[list[Suggestion]] = []
    for vector in vectors:
        found: list[Suggestion] = []
        if len(categories.names):
            scores = categories.matrix @ vector
            order = np.argsort(-scores)
            best = float(scores[order[0]])
            lead = best - float(scores[order[1]]) if len(order) > 1 else best
            if best >= MIN_CATEGORY_SCORE and (lead >= MIN_CATEGORY_LEAD or best >= CLEAR_CATEGORY_SCORE):
                found.append(Suggestion("category", categories.names[order[0]][1], round(best, 3)))
        if len(attributes.names) and not found:  # a category says enough; attributes refine answers without one
            scores = attributes.matrix @ vector
            for row in np.argsort(-scores)[:MAX_ATTRIBUTE_SUGGESTIONS]:
                if float(scores[row]) >= MIN_ATTRIBUTE_SCORE:
                    key, value = attributes.names[row]
                    found.append(Suggestion(key, value, round(float(scores[row]), 3)))
        proposals.append(found)
    return proposals
