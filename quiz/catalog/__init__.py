"""A merchant's catalog: imports and the jobs that run them (``jobs``, ``worker``), product sync and
index builds (``sync``), products as the admin and API show them, and the search engine glue
(``engine``: model, indexes and recommender per process).
"""

from .engine import CatalogNotReady
from .sync import rebuild_index, upsert_products

__all__ = ["CatalogNotReady", "rebuild_index", "upsert_products"]
