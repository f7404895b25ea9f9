"""Attune's matching library: embeddings, FAISS indexes and ranking, with no web framework.

Usable from a notebook::

    from recommender import Embedder, IndexStore, CatalogIndex, Recommender
"""

from .catalog_index import CatalogIndex
from .domain import (
    NO_DIVERSITY,
    Boost,
    CatalogItem,
    Diversity,
    Preferences,
    PriceRange,
    ProductRecord,
    QueryPart,
    Reason,
    Recommendation,
)
from .embedder import Embedder, default_model_path
from .errors import IndexLoadError, ModelLoadError, RecommenderError
from .index_store import IndexStore, Manifest, VectorIndex
from .recommend import Recommender
from .text import document_hash, item_document, keywords

__all__ = [
    "Boost",
    "CatalogIndex",
    "CatalogItem",
    "Diversity",
    "NO_DIVERSITY",
    "Embedder",
    "IndexLoadError",
    "IndexStore",
    "Manifest",
    "ModelLoadError",
    "Preferences",
    "PriceRange",
    "ProductRecord",
    "QueryPart",
    "Reason",
    "Recommendation",
    "Recommender",
    "RecommenderError",
    "VectorIndex",
    "default_model_path",
    "document_hash",
    "item_document",
    "keywords",
]
