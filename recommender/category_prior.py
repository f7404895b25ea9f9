"""Category evidence: how close a query is to each leaf category as a whole.

A shopper's need usually names a kind of product ("a cage for my rabbit") more than one
product's words. The mean vector of a leaf category's products stands for that kind; adding
the query's similarity to it lifts every product of a fitting category together, so a good
product with a terse title is not lost behind an off-category item that shares a phrase
(cluster-based smoothing, as in Liu and Croft, 2004).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .domain import CatalogItem

# Categories with fewer products than this get no prior: a centroid of one or two products is
# just those products again, and would count their own similarity twice.
MIN_CATEGORY_SIZE = 3


@dataclass(frozen=True)
class CategoryPrior:
    """Unit centroids of the leaf categories, and the centroid row of each item (-1: none)."""

    ids: np.ndarray  # item ids, ascending
    rows: np.ndarray  # centroid row per item id, -1 for items without a usable category
    centroids: np.ndarray  # categories x dimension, unit length

    @classmethod
    def build(cls, ids: np.ndarray, matrix: np.ndarray, items: Mapping[int, CatalogItem]) -> CategoryPrior:
        """Return the centroids of the categories with at least ``MIN_CATEGORY_SIZE`` items.

        ``ids`` are ascending and ``matrix`` holds their unit vectors, row by row.
        """
        categories = [items[i].category if i in items else "" for i in ids.tolist()]
        sizes: dict[str, int] = {}
        for category in categories:
            if category:
                sizes[category] = sizes.get(category, 0) + 1
        kept = sorted(c for c, n in sizes.items() if n >= MIN_CATEGORY_SIZE)
        row_of = {c: r for r, c in enumerate(kept)}
        rows = np.asarray([row_of.get(c, -1) for c in categories], dtype=np.int64)
        centroids = np.zeros((len(kept), matrix.shape[1] if matrix.ndim == 2 else 0), dtype=np.float32)
        if len(kept):
            np.add.at(centroids, rows[rows >= 0], matrix[rows >= 0])
            centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
        return cls(ids, rows, centroids)

    def similarities(self, vector: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Return the query's cosine to the category of each item id (0 where there is none)."""
        if not len(self.centroids) or not len(ids):
            return np.zeros(len(ids), dtype=np.float32)
        per_category = self.centroids @ vector
        positions = np.clip(np.searchsorted(self.ids, ids), 0, len(self.ids) - 1)
        rows = np.where(self.ids[positions] == ids, self.rows[positions], -1)
        return np.where(rows >= 0, per_category[np.maximum(rows, 0)], 0.0).astype(np.float32)
