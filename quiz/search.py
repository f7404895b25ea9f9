"""Glue between the app and the recommender: the shared model and each merchant's index.

The model loads lazily once per process; a merchant's index loads on first use and is
reloaded when the merchant's active index version changes. Both live in ``app.extensions``.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app

from recommender import CatalogIndex, CatalogItem, Embedder, IndexStore, Recommender

from .db import get_session
from .models import Merchant, Product

logger = logging.getLogger(__name__)

EXTENSION = "attune.search"


class CatalogNotReady(RuntimeError):
    """The merchant has no index yet (no catalog imported, or the first build is running)."""


@dataclass
class SearchState:
    """Per-app search state: one embedder and the loaded catalogs by merchant id."""

    embedder: Embedder
    index_root: Path
    catalogs: dict[int, CatalogIndex] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def init_app(app: Flask) -> None:
    """Attach the search state to ``app`` (nothing is loaded yet)."""
    app.extensions[EXTENSION] = SearchState(
        embedder=Embedder(app.config.get("EMBEDDING_MODEL"), threads=app.config["INFERENCE_THREADS"] or None),
        index_root=Path(app.config["INDEX_ROOT"]),
    )


def _state() -> SearchState:
    state: SearchState = current_app.extensions[EXTENSION]
    return state


def get_embedder() -> Embedder:
    """Return the app's embedder."""
    return _state().embedder


def index_store_for(merchant_id: int) -> IndexStore:
    """Return the index store holding a merchant's index versions."""
    return IndexStore(_state().index_root / str(merchant_id), current_app.config["HNSW_THRESHOLD"])


def recommender_for(merchant: Merchant) -> Recommender:
    """Return a recommender over the merchant's active index, loading it when it changed."""
    state = _state()
    version = merchant.active_index
    if version is None:
        raise CatalogNotReady(f"{merchant.name} has no searchable catalog yet")
    catalog = state.catalogs.get(merchant.id)
    if catalog is None or catalog.version != version:
        with state.lock:
            catalog = state.catalogs.get(merchant.id)
            if catalog is None or catalog.version != version:
                catalog = _load_catalog(merchant.id, version)
                state.catalogs[merchant.id] = catalog
    return Recommender(state.embedder, catalog)


def _load_catalog(merchant_id: int, version: str) -> CatalogIndex:
    vectors = index_store_for(merchant_id).load(version)
    # Plain rows in batches, not ORM objects: 100,000 of those held at once cost ~500 MiB of heap.
    query = sa.select(*(getattr(Product, name) for name in ITEM_COLUMNS)).where(Product.merchant_id == merchant_id)
    rows = get_session().execute(query.execution_options(yield_per=2000))
    items = {row.id: to_item(row) for row in rows}
    logger.info("loaded index %s of merchant %d (%d vectors)", version, merchant_id, len(vectors))
    return CatalogIndex.build(vectors, items, version)


ITEM_COLUMNS = (
    "id",
    "title",
    "external_id",
    "description",
    "brand",
    "category",
    "tags",
    "price",
    "currency",
    "url",
    "image_url",
    "available",
    "attributes",
)


def to_item(product: Product | sa.Row[Any]) -> CatalogItem:
    """Return the recommender's view of a stored product (an ORM object or a row of ``ITEM_COLUMNS``)."""
    return CatalogItem(
        id=product.id,
        title=product.title,
        external_id=product.external_id,
        description=product.description,
        brand=product.brand,
        category=product.category,
        tags=tuple(product.tags or ()),
        price=None if product.price is None else float(product.price),
        currency=product.currency,
        url=product.url,
        image_url=product.image_url,
        available=product.available,
        attributes=product.attributes or {},
    )


def warm_up(app: Flask, merchant_slug: str) -> threading.Thread:
    """Load the model and one merchant's index in the background, so first results are fast."""

    def run() -> None:
        with app.app_context():
            try:
                get_embedder().encode(["warm up"])
                merchant = get_session().scalar(sa.select(Merchant).where(Merchant.slug == merchant_slug))
                if merchant is not None and merchant.active_index:
                    recommender_for(merchant)
            except Exception:  # a failed warm-up must not stop the server; requests retry
                logger.exception("warm-up failed")

    thread = threading.Thread(target=run, name="attune-warm-up", daemon=True)
    thread.start()
    return thread
