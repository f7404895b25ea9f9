"""Glue between the app and the recommender: the shared model and each merchant's index.

The model loads lazily once per process; a merchant's index loads on first use and is
reloaded when the merchant's active index version changes. Both live in ``app.extensions``.
Loaded catalogs are kept within ``CATALOG_MEMORY_MB``, least recently used merchants evicted
first (:mod:`quiz.catalog.loaded`).

A version that fails to load (file gone, checksum mismatch) is not tried again on every
request: the failure is kept for ``INDEX_RETRY_SECONDS``, the version loaded before keeps
serving meanwhile, and with none loaded shoppers get :class:`CatalogNotReady` (a 503).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app

from recommender import (
    PRODUCT_FIELDS,
    BatchingEmbedder,
    BatchSettings,
    CatalogIndex,
    CatalogItem,
    Embedder,
    Encoders,
    IndexStore,
    Recommender,
    UniversalEncoder,
)
from recommender.columnar import ColumnarItems
from recommender.errors import IndexLoadError

from ..models import Merchant, Product
from ..platform import metrics
from ..platform.db import get_session
from ..platform.errors import NotReady
from .loaded import MIB, LoadedCatalogs

logger = logging.getLogger(__name__)

EXTENSION = "attune.search"


class CatalogNotReady(NotReady, RuntimeError):
    """The merchant has no index yet (no catalog imported, or the first build is running): 503, Retry-After."""

    retry_after = True


@dataclass(frozen=True)
class IndexFailure:
    """An index version that failed to load, and when it may be tried again."""

    version: str
    reason: str
    retry_at: float  # time.monotonic() value


@dataclass
class SearchState:
    """Per-app search state: the models, the loaded catalogs and the failed loads by merchant id."""

    embedder: Embedder
    encoders: Encoders  # ``embedder`` and the model of each routed language (loaded on first use)
    index_root: Path
    catalogs: LoadedCatalogs
    retry_seconds: float = 30.0
    failures: dict[int, IndexFailure] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    model_ready: threading.Event = field(default_factory=threading.Event)
    model_error: str | None = None
    warm_up_thread: threading.Thread | None = None
    # merchant id -> (active index version, the shop's currency at that version): see shop_currency
    currencies: dict[int, tuple[str, str | None]] = field(default_factory=dict)


def init_app(app: Flask) -> None:
    """Attach the search state to ``app`` (nothing is loaded yet)."""
    threads = app.config["INFERENCE_THREADS"] or None
    embedder = _embedder(app)
    routes = {"es": UniversalEncoder(threads=threads)} if app.config["SPANISH_ENCODER"] else {}
    app.extensions[EXTENSION] = SearchState(
        embedder=embedder,
        encoders=Encoders(embedder, routes),
        index_root=Path(app.config["INDEX_ROOT"]),
        catalogs=LoadedCatalogs(int(app.config["CATALOG_MEMORY_MB"] * MIB)),
        retry_seconds=float(app.config["INDEX_RETRY_SECONDS"]),
    )
    metrics.add_gauges(app, _gauges)


def _embedder(app: Flask) -> Embedder:
    """Return the app's embedder: batching concurrent requests' texts unless ENCODER_BATCHING is off."""
    config = app.config
    threads = config["INFERENCE_THREADS"] or None
    if not config["ENCODER_BATCHING"]:
        return Embedder(config.get("EMBEDDING_MODEL"), threads=threads)
    settings = BatchSettings(
        window_s=float(config["ENCODER_BATCH_WINDOW_MS"]) / 1000,
        max_batch=int(config["ENCODER_MAX_BATCH"]),
        max_wait_s=float(config["ADMISSION_WAIT_SECONDS"]),
    )
    return BatchingEmbedder(config.get("EMBEDDING_MODEL"), threads=threads, settings=settings)


def _gauges(app: Flask) -> list[metrics.Gauge]:
    """This process's indexes and model, for each scrape of /metrics."""
    state: SearchState = app.extensions[EXTENSION]
    figures = state.catalogs.figures()
    return [
        metrics.Gauge("attune_indexes_loaded", "Merchant indexes loaded in this process.", figures.loaded),
        metrics.Gauge(
            "attune_catalog_memory_bytes",
            "Estimated memory of the catalogs loaded in this process.",
            figures.used_bytes,
        ),
        metrics.Gauge(
            "attune_catalog_memory_budget_bytes",
            "The catalog memory budget of this process (CATALOG_MEMORY_MB).",
            figures.budget_bytes,
        ),
        metrics.Gauge(
            "attune_indexes_failing",
            "Merchants whose active index version failed to load in this process.",
            len(state.failures),
        ),
        metrics.Gauge(
            "attune_model_ready",
            "1 once this process's warm-up has loaded the embedding model.",
            state.model_ready.is_set(),
        ),
        *_batch_gauges(state.embedder),
    ]


def _batch_gauges(embedder: Embedder) -> list[metrics.Gauge]:
    """The shared encoder's batches, texts and refusals in this process since it started."""
    if not isinstance(embedder, BatchingEmbedder):
        return []
    figures = embedder.figures
    return [
        metrics.Gauge("attune_encoder_batches", "Model calls of the shared encoder in this process.", figures.batches),
        metrics.Gauge("attune_encoder_texts", "Texts encoded in shared model calls in this process.", figures.texts),
        metrics.Gauge(
            "attune_encoder_refused",
            "Requests refused at once because the encoder queue was past ADMISSION_WAIT_SECONDS.",
            figures.refused,
        ),
    ]


def _state() -> SearchState:
    state: SearchState = current_app.extensions[EXTENSION]
    return state


def get_embedder() -> Embedder:
    """Return the app's main embedder (English text, profiles and taste clusters)."""
    return _state().embedder


def get_encoders() -> Encoders:
    """Return every model that embeds the app's catalogs: the main one and each routed language's."""
    return _state().encoders


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
    catalog = state.catalogs.get(merchant.id, version)
    if catalog is None:
        catalog = _switch_to(state, merchant, version)
    return Recommender(state.embedder, catalog, state.encoders.by_language)


def _switch_to(state: SearchState, merchant: Merchant, version: str) -> CatalogIndex:
    """Load ``version`` unless it failed lately; on failure keep serving the version loaded before."""
    with state.lock:
        loaded = state.catalogs.peek(merchant.id)
        if loaded is not None and loaded.version == version:
            return loaded
        failure = state.failures.get(merchant.id)
        if failure is None or failure.version != version or failure.retry_at <= time.monotonic():
            try:
                catalog = _load_catalog(merchant.id, version)
            except IndexLoadError as exc:
                _note_failure(state, merchant, version, str(exc), serving=loaded)
            else:
                state.catalogs.put(merchant.id, catalog)
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


def loaded_catalog(merchant: Merchant) -> CatalogIndex | None:
    """Return the merchant's catalog if this process holds its active version, without loading it."""
    version = merchant.active_index
    catalog = _state().catalogs.peek(merchant.id) if version is not None else None
    return catalog if catalog is not None and catalog.version == version else None


def known_products(merchant: Merchant, external_ids: Collection[str]) -> set[str]:
    """Return which of ``external_ids`` name a product of the merchant's catalog.

    Read from the catalog this process holds at the merchant's active index version (no query: an
    import changes the products and the active version in one transaction, so the two agree);
    from the database when that version is not loaded here, or the merchant has no index.
    """
    wanted = set(external_ids)
    if not wanted:
        return set()
    catalog = loaded_catalog(merchant)
    if catalog is not None:
        return set(catalog.items_by_external(wanted))
    rows = get_session().scalars(
        sa.select(Product.external_id).where(Product.merchant_id == merchant.id, Product.external_id.in_(wanted))
    )
    return set(rows)


def shop_currency(merchant: Merchant) -> str | None:
    """Return the currency most of the merchant's products are priced in (None without a catalog).

    Counted once per active index version in this process (the count reads every product of the
    shop); a merchant without an index is counted on every call.
    """
    state = _state()
    version = merchant.active_index
    cached = state.currencies.get(merchant.id)
    if version is not None and cached is not None and cached[0] == version:
        return cached[1]
    currency = get_session().scalar(
        sa.select(Product.currency)
        .where(Product.merchant_id == merchant.id)
        .group_by(Product.currency)
        .order_by(sa.func.count().desc(), Product.currency)
        .limit(1)
    )
    if version is not None:
        state.currencies[merchant.id] = (version, currency)  # one step under the GIL: the latest read wins
    return currency


# These read without the load lock, which a long index load holds: a probe must not wait for it.
# Copying a dict is one step under the GIL, so each copy is consistent.


def index_failures() -> dict[int, IndexFailure]:
    """Return the index versions that failed to load in this process, by merchant id."""
    return dict(_state().failures)


def loaded_versions() -> dict[int, str]:
    """Return the index version each merchant's loaded catalog holds, by merchant id."""
    return _state().catalogs.versions()


def catalog_cache() -> LoadedCatalogs:
    """Return this process's loaded catalogs (sizes, budget, hit/miss/eviction counts)."""
    return _state().catalogs


def index_root() -> Path:
    """Return the folder holding every merchant's index versions."""
    return _state().index_root


def _load_catalog(merchant_id: int, version: str) -> CatalogIndex:
    vectors = index_store_for(merchant_id).load(version)
    stale = stale_models(vectors.manifest.models(), _state().encoders)
    if stale:
        raise IndexLoadError(f"index {version} {stale}: run `flask index rebuild --merchant SLUG` to embed it again")
    # Plain rows in batches, not ORM objects: 100,000 of those held at once cost ~500 MiB of heap.
    query = sa.select(*(getattr(Product, name) for name in ITEM_COLUMNS)).where(Product.merchant_id == merchant_id)
    rows = get_session().execute(query.execution_options(yield_per=2000))
    items = {row.id: to_item(row) for row in rows}
    logger.info("loaded index %s of merchant %d (%d vectors)", version, merchant_id, len(vectors))
    # Built from the items, then kept as columns: the per-product objects are freed (issue 21).
    return dataclasses.replace(CatalogIndex.build(vectors, items, version), items=ColumnarItems.build(items.values()))


def stale_models(recorded: dict[str, str], encoders: Encoders) -> str:
    """Return how an index's models differ from this server's (``""`` when they are the same).

    ``recorded`` is the manifest's model per space ("" the main one, then routed languages). An
    index of the main model alone (written before routing, or with routing off) is still
    searched, by the main model only, as is a routed language this server does not route; an
    index built with another model than this server's never is.
    """
    main = recorded.get("", "")
    if main not in (encoders.primary.model_id, encoders.primary.model_path):
        return f"was built with model {main}, this server embeds with {encoders.primary.model_id}"
    for language, model in recorded.items():
        wanted = encoders.by_language.get(language) if language else None
        if wanted is not None and model != wanted.model_id:
            return f"was built with model {model} for {language} text, this server embeds it with {wanted.model_id}"
    return ""


# The stored product's columns the recommender reads: its database id and the product's fields.
ITEM_COLUMNS = ("id", *PRODUCT_FIELDS)


def to_item(product: Product | sa.Row[Any]) -> CatalogItem:
    """Return the recommender's view of a stored product (an ORM object or a row of ``ITEM_COLUMNS``)."""
    values = {name: getattr(product, name) for name in ITEM_COLUMNS}
    price = values["price"]
    values.update(
        tags=tuple(values["tags"] or ()),
        price=None if price is None else float(price),
        attributes=values["attributes"] or {},
    )
    return CatalogItem(**values)


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
