"""A merchant's searchable catalog: vectors, items and the structures derived from them."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np

from .category_prior import CategoryPrior
from .domain import CatalogItem
from .errors import RecommenderError
from .index_store import VectorIndex
from .lexical import LexicalIndex
from .prefilter import ItemArrays


@dataclass(frozen=True)
class DenseVectors:
    """Every item's vector in id order, for exact scoring of a whole catalog at once."""

    ids: np.ndarray  # ascending
    matrix: np.ndarray  # items x dimension

    owner: VectorIndex | None = None  # keeps the index whose storage ``matrix`` may view alive

    @classmethod
    def of(cls, vectors: VectorIndex) -> DenseVectors:
        """Return the vectors held by an index, sorted by id (without a copy when they already are)."""
        ids, matrix = vectors.all_vectors(copy=False)
        if len(ids) > 1 and not bool(np.all(ids[1:] > ids[:-1])):
            order = np.argsort(ids)
            ids, matrix = ids[order], np.ascontiguousarray(matrix[order])
        return cls(ids, matrix, vectors)

    def cosines(self, vector: np.ndarray) -> np.ndarray:
        """Return the cosine of ``vector`` with every item (rows of unit vectors)."""
        return self.matrix @ vector

    def rows(self, item_ids: np.ndarray) -> np.ndarray:
        """Return the vectors of ``item_ids`` (each must be in ``ids``)."""
        return self.matrix[np.searchsorted(self.ids, item_ids)]


@dataclass(frozen=True)
class CatalogIndex:
    """The vector index plus the items it points to and, when built, the derived structures.

    ``lexical`` (exact words), ``categories`` (category centroids), ``arrays`` (vectorised
    filters) and ``dense`` (all vectors) are None in a bare catalog, which then ranks by
    meaning alone, item by item.
    """

    vectors: VectorIndex
    items: Mapping[int, CatalogItem]
    version: str
    lexical: LexicalIndex | None = None
    categories: CategoryPrior | None = None
    arrays: ItemArrays | None = None
    dense: DenseVectors | None = None

    @classmethod
    def build(cls, vectors: VectorIndex, items: Mapping[int, CatalogItem], version: str) -> CatalogIndex:
        """Return the catalog with every derived structure built from its vectors and items."""
        dense = DenseVectors.of(vectors)
        return cls(
            vectors,
            items,
            version,
            lexical=LexicalIndex.build(items.values()),
            categories=CategoryPrior.build(dense.ids, dense.matrix, items),
            arrays=ItemArrays.build(items),
            dense=dense,
        )

    def require_lexical(self) -> LexicalIndex:
        """Return the lexical index, or raise when the catalog was built without one."""
        if self.lexical is None:
            raise RecommenderError("this catalog has no lexical index: build it with CatalogIndex.build")
        return self.lexical

    def ids_of(self, external_ids: Collection[str]) -> set[int]:
        """Return the item ids of the given external ids (unknown ones are ignored)."""
        wanted = set(external_ids)
        return {item.id for item in self.items.values() if item.external_id in wanted}
