"""A merchant's searchable catalog: vectors, items and the structures derived from them."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from .category_prior import CategoryPrior
from .columnar import ColumnarItems
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
    # The same catalog seen through each routed language's model (its vectors, dense rows and
    # category centroids; items, words and filters shared): where Spanish text is matched.
    languages: Mapping[str, CatalogIndex] = field(default_factory=dict)

    @classmethod
    def build(cls, vectors: VectorIndex, items: Mapping[int, CatalogItem], version: str) -> CatalogIndex:
        """Return the catalog with every derived structure built from its vectors and items."""
        dense = DenseVectors.of(vectors)
        main = cls(
            vectors,
            items,
            version,
            lexical=LexicalIndex.build(items.values()),
            categories=CategoryPrior.build(dense.ids, dense.matrix, items),
            arrays=ItemArrays.build(items),
            dense=dense,
        )
        return replace(main, languages={lang: main.seen_through(routed) for lang, routed in vectors.languages.items()})

    def seen_through(self, vectors: VectorIndex) -> CatalogIndex:
        """Return this catalog with another model's vectors of the same items (and their centroids)."""
        dense = DenseVectors.of(vectors)
        categories = CategoryPrior.build(dense.ids, dense.matrix, self.items) if self.categories is not None else None
        return replace(self, vectors=vectors, dense=dense, categories=categories, languages={})

    def in_language(self, language: str | None) -> CatalogIndex | None:
        """Return the catalog as the model of a routed language sees it (None when it has no such vectors)."""
        return self.languages.get(language) if language else None

    def require_lexical(self) -> LexicalIndex:
        """Return the lexical index, or raise when the catalog was built without one."""
        if self.lexical is None:
            raise RecommenderError("this catalog has no lexical index: build it with CatalogIndex.build")
        return self.lexical

    def ids_of(self, external_ids: Collection[str]) -> set[int]:
        """Return the item ids of the given external ids (unknown ones are ignored)."""
        if isinstance(self.items, ColumnarItems):
            return self.items.ids_of_external(external_ids)
        wanted = set(external_ids)
        return {item.id for item in self.items.values() if item.external_id in wanted}

    def items_by_external(self, external_ids: Collection[str]) -> dict[str, CatalogItem]:
        """Return the items of the given external ids that exist, by external id."""
        if isinstance(self.items, ColumnarItems):
            return {item.external_id: item for item in map(self.items.__getitem__, self.ids_of(external_ids))}
        wanted = set(external_ids)
        return {item.external_id: item for item in self.items.values() if item.external_id in wanted}
