"""Glue between the app and the recommender: the shared model and each merchant's index.

The model loads lazily once per process; a merchant's index loads on first use and is
reloaded when the merchant's active index version changes. Both live in ``app.extensions``.

A version that fails to load (file gone, checksum mismatch) is not tried again on every
request: the failure is kept for ``INDEX_RETRY_SECONDS``, the version loaded before keeps
serving meanwhile, and with none loaded shoppers get :class:`CatalogNotReady` (a 503).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app

from recommender import CatalogIndex, CatalogItem, Embedder, IndexStore, Recommender
from recommender.errors import IndexLoadError

from . import metrics
from .db import get_session
from .models import Merchant, Product

logger = logging.getLogger(__name__)

EXTENSION = "attune.search"


class CatalogNotReady(RuntimeError):
    """The merchant has no index yet (no catalog imported, or the first build is running)."""


@dataclass(frozen=True)
class IndexFailure:
    """An index version that failed to load, and when it may be tried again."""

    version: str
    reason: str
    retry_at: float  # time.monotonic() value


@dataclass
class SearchState:
    """Per-app search state: one embedder, the loaded catalogs and the failed loads by merchant id."""

    embedder: Embedder
    index_root: Path
    retry_seconds: float = 30.0
    catalogs: dict[int, CatalogIndex] = field(default_factory=dict)
    failures: dict[int, IndexFailure] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    model_ready: threading.Event = field(default_factory=threading.Event)
    model_error: str | None = None
    warm_up_thread: threading.Thread | None = None


def init_app(app: Flask) -> None:
    """Attach the search state to ``app`` (nothing is loaded yet)."""
    app.extensions[EXTENSION] = SearchState(
        embedder=Embedder(app.config.get("EMBEDDING_MODEL"), threads=app.config["INFERENCE_THREADS"] or None),
        index_root=Path(app.config["INDEX_ROOT"]),
        retry_seconds=float(app.config["INDEX_RETRY_SECONDS"]),
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
    """Return a recommender over the merchant's active index, loading it when it changed.

    Raises:
        CatalogNotReady: the merchant has no index, or its index cannot be loaded and no
            earlier version is loaded in this process.
    """
    state = _state()
    version = merchant.active_index
    if version is None:
        raise CatalogNotReady(f"{merchant.name} has no searchable catalog yet")
    catalog = state.catalogs.get(merchant.id)
    if catalog is None or catalog.version != version:
        catalog = _switch_to(state, merchant, version)
    return Recommender(state.embedder, catalog)


def _switch_to(state: SearchState, merchant: Merchant, version: str) -> CatalogIndex:
    """Load ``version`` unless it failed lately; on failure keep serving the version loaded before."""
    with state.lock:
        loaded = state.catalogs.get(merchant.id)
        if loaded is not None and loaded.version == version:
            return loaded
        failure = state.failures.get(merchant.id)
        if failure is None or failure.version != version or failure.retry_at <= time.monotonic():
            try:
                catalog = _load_catalog(merchant.id, version)
            except IndexLoadError as exc:
                _note_failure(state, merchant, version, str(exc), serving=loaded)
            else:
                state.catalogs[merchant.id] = catalog
                state.failures.pop(merchant.id, None)
                return catalog
        if loaded is not None:
            return loaded
    raise CatalogNotReady(f"{merchant.name}'s catalog cannot be searched right now; try again shortly")


def _note_failure(
    state: SearchState, merchant: Merchant, version: str, reason: str, serving: CatalogIndex | None
) -> None:
    state.failures[merchant.id] = IndexFailure(version, reason, time.monotonic() + state.retry_seconds)
    metrics.count_index_load_failure()
    fallback = f"still serving {serving.version}" if serving is not None else "nothing to serve meanwhile"
    logger.error(
        "index %s of merchant %s failed to load: %s; %s; next try in %g s",
        version,
        merchant.slug,
        reason,
        fallback,
        state.retry_seconds,
    )


# These two read without the lock, which a long index load holds: a probe must not wait for it.
# Copying a dict is one step under the GIL, so each copy is consistent.


def index_failures() -> dict[int, IndexFailure]:
    """Return the index versions that failed to load in this process, by merchant id."""
    return dict(_state().failures)


def loaded_versions() -> dict[int, str]:
    """Return the index version each merchant's loaded catalog holds, by merchant id."""
    return {merchant_id: catalog.version for merchant_id, catalog in dict(_state().catalogs).items()}


def index_root() -> Path:
    """Return the folder holding every merchant's index versions."""
    return _state().index_root


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


def warm_up(app: Flask, merchant_slug: str | None = None) -> threading.Thread:
    """Load the model, and one merchant's index if named, in the background (started once per app)."""
    state: SearchState = app.extensions[EXTENSION]

    def run() -> None:
        with app.app_context():
            try:
                state.embedder.encode(["warm up"])
            except Exception as exc:  # a failed warm-up must not stop the server; /readyz reports it
                state.model_error = "the embedding model could not be loaded (details in the log)"
                logger.exception("warm-up could not load the model: %s", exc)
                return
            state.model_error = None
            state.model_ready.set()
            if merchant_slug is None:
                return
            try:
                merchant = get_session().scalar(sa.select(Merchant).where(Merchant.slug == merchant_slug))
                if merchant is not None and merchant.active_index:
                    recommender_for(merchant)
            except Exception:  # requests load it again
                logger.exception("warm-up could not load the index of %s", merchant_slug)

    with state.lock:
        running = state.warm_up_thread
        if running is not None and (running.is_alive() or state.model_ready.is_set()):
            return running
        thread = threading.Thread(target=run, name="attune-warm-up", daemon=True)
        state.warm_up_thread = thread
        thread.start()
    return thread


def model_status(app: Flask, wait_s: float = 0.0) -> tuple[bool, str | None]:
    """Return whether the model is loaded (starting the warm-up if needed) and the last load error."""
    state: SearchState = app.extensions[EXTENSION]
    if not state.model_ready.is_set():
        warm_up(app).join(wait_s)
    return state.model_ready.is_set(), state.model_error
