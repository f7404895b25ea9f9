"""Attune's matching library: embeddings, FAISS indexes and ranking, with no web framework.

Usable from a notebook::

    from recommender import Embedder, IndexStore, CatalogIndex, Recommender
"""

from .batching import BatchingEmbedder, BatchSettings, Overloaded
from .catalog_index import CatalogIndex
from .domain import (
    FILE_FIELDS,
    NO_DIVERSITY,
    PRODUCT_FIELDS,
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
from .encoders import Encoders, TextEncoder
from .errors import IndexLoadError, ModelLoadError, RecommenderError
from .index_store import IndexStore, Manifest, VectorIndex
from .recommend import Recommender
from .text import document_hash, item_document, keywords
from .universal import UniversalEncoder

__all__ = [
    "BatchSettings",
    "BatchingEmbedder",
    "Overloaded",
    "Boost",
    "CatalogIndex",
    "CatalogItem",
    "Diversity",
    "FILE_FIELDS",
    "NO_DIVERSITY",
    "Embedder",
    "Encoders",
    "IndexLoadError",
    "IndexStore",
    "Manifest",
    "ModelLoadError",
    "Preferences",
    "PriceRange",
    "PRODUCT_FIELDS",
    "ProductRecord",
    "QueryPart",
    "Reason",
    "Recommendation",
    "Recommender",
    "RecommenderError",
    "TextEncoder",
    "UniversalEncoder",
    "VectorIndex",
    "default_model_path",
    "document_hash",
    "item_document",
    "keywords",
]
