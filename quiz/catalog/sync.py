"""Catalog upkeep: diff incoming products, embed only what changed, apply in one write.

The steps are separate so that the slow one (embedding) holds no write transaction: shoppers
keep writing consent records while a large catalog is embedded. Writing the products and
building the new index version then happen in one transaction, so readers move from one whole
catalog to the next (an exact index builds in well under a second at 50,000 products).
"""

from __future__ import annotations

import errno
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

import numpy as np
import sqlalchemy as sa

from recommender import CatalogItem, IndexStore, ProductRecord, document_hash, item_document

from ..models import Merchant, Product
from ..platform.db import get_session
from .engine import ITEM_COLUMNS, get_encoders, index_store_for, to_item

logger = logging.getLogger(__name__)

EMBED_BATCH = 64
# Texts per model call: large enough to keep the model busy, small enough for live progress.
EMBED_CHUNK = 512
SyncMode = Literal["full", "upsert"]
Progress = Callable[[int], None]


class IndexWriteError(RuntimeError):
    """The new index version could not be written (e.g. the disk is full); the previous one serves on."""


@dataclass(frozen=True)
class SyncSummary:
    """What a catalog sync changed."""

    created: int
    updated: int
    unchanged: int
    embedded: int
    deactivated: int = 0


@dataclass
class SyncPlan:
    """The incoming records with their content hashes and the embeddings still to compute."""

    records: list[ProductRecord]
    hashes: list[str]
    documents: list[str]
    known_hashes: dict[str, str]
    embeddings: dict[int, bytes] = field(default_factory=dict)  # record index -> vector bytes
    # Products whose rows the file had but could not use: a full sync leaves them as they are.
    skipped_ids: frozenset[str] = frozenset()

    def needs_embedding(self) -> list[int]:
        """Return the indexes of records whose text is new or changed."""
        return [
            i
            for i, record in enumerate(self.records)
            if self.known_hashes.get(record.external_id) != self.hashes[i] and i not in self.embeddings
        ]


def plan_sync(
    merchant: Merchant, records: Sequence[ProductRecord], skipped_ids: frozenset[str] = frozenset()
) -> SyncPlan:
    """Return what syncing ``records`` involves; reads only."""
    documents = [item_document(r.as_item()) for r in records]
    models = get_encoders().model_ids()
    hashes = [document_hash(d, models) for d in documents]
    rows = get_session().execute(
        sa.select(Product.external_id, Product.content_hash).where(
            Product.merchant_id == merchant.id, Product.embedding.is_not(None)
        )
    )
    known = {external_id: content_hash for external_id, content_hash in rows}
    return SyncPlan(list(records), hashes, documents, known, skipped_ids=skipped_ids)


def embed_plan(plan: SyncPlan, progress: Progress | None = None) -> None:
    """Embed the plan's new and changed texts, reporting each finished chunk's size.

    Texts go to the model longest first, so each batch pads to a similar length (in file
    order, one long description makes a whole batch of short titles pay for its padding).
    """
    pending = sorted(plan.needs_embedding(), key=lambda i: len(plan.documents[i]), reverse=True)
    encoders = get_encoders()  # each product gets every model's vector, side by side
    for start in range(0, len(pending), EMBED_CHUNK):
        chunk = pending[start : start + EMBED_CHUNK]
        vectors = encoders.encode_documents([plan.documents[i] for i in chunk], batch_size=EMBED_BATCH)
        for i, vector in zip(chunk, vectors, strict=True):
            plan.embeddings[i] = vector.astype(np.float32).tobytes()
        if progress:
            progress(len(chunk))


def apply_sync(merchant: Merchant, plan: SyncPlan, mode: SyncMode = "upsert") -> SyncSummary:
    """Write the plan's products (in the caller's transaction); ``full`` retires missing ones."""
    session = get_session()
    existing = {p.external_id: p for p in session.scalars(sa.select(Product).where(Product.merchant_id == merchant.id))}
    created = updated = unchanged = 0
    for i, record in enumerate(plan.records):
        product = existing.get(record.external_id)
        if product is None:
            product = Product(merchant_id=merchant.id, external_id=record.external_id)
            session.add(product)
            existing[record.external_id] = product
            created += 1
        elif product.content_hash == plan.hashes[i] and _same_fields(product, record):
            unchanged += 1
            continue
        else:
            updated += 1
        _copy_fields(product, record)
        if i in plan.embeddings:
            product.embedding = plan.embeddings[i]
            product.content_hash = plan.hashes[i]
    deactivated = 0
    if mode == "full":
        incoming = {r.external_id for r in plan.records} | plan.skipped_ids
        for external_id, product in existing.items():
            if external_id not in incoming and product.available:
                product.available = False
                deactivated += 1
    if created or updated or deactivated:
        merchant.catalog_version += 1
    session.flush()
    return SyncSummary(created, updated, unchanged, len(plan.embeddings), deactivated)


def preview_sync(
    merchant: Merchant, records: Sequence[ProductRecord], skipped_ids: frozenset[str], mode: SyncMode = "upsert"
) -> SyncSummary:
    """Return what :func:`apply_sync` would change for ``records``, reading only (``embedded`` is 0)."""
    session = get_session()
    existing = {p.external_id: p for p in session.scalars(sa.select(Product).where(Product.merchant_id == merchant.id))}
    models = get_encoders().model_ids()
    created = updated = unchanged = 0
    for record in records:
        product = existing.get(record.external_id)
        if product is None:
            created += 1
        elif product.content_hash == document_hash(item_document(record.as_item()), models) and _same_fields(
            product, record
        ):
            unchanged += 1
        else:
            updated += 1
    deactivated = 0
    if mode == "full":
        incoming = {r.external_id for r in records} | skipped_ids
        deactivated = sum(1 for key, p in existing.items() if key not in incoming and p.available)
    return SyncSummary(created, updated, unchanged, 0, deactivated)


def upsert_products(merchant: Merchant, records: Sequence[ProductRecord], mode: SyncMode = "upsert") -> SyncSummary:
    """Plan, embed and apply in one go (for small catalogs and the demo)."""
    plan = plan_sync(merchant, records)
    embed_plan(plan)
    return apply_sync(merchant, plan, mode)


def _copy_fields(product: Product, record: ProductRecord) -> None:
    product.title = record.title
    product.description = record.description
    product.brand = record.brand
    product.category = record.category
    product.tags = list(record.tags)
    product.price = None if record.price is None else Decimal(str(record.price))
    product.currency = record.currency
    product.url = record.url
    product.image_url = record.image_url
    product.available = record.available
    product.attributes = dict(record.attributes)


def _same_fields(product: Product, record: ProductRecord) -> bool:
    """Return whether every stored field is unchanged (the embedded text is only part of them)."""
    price = None if product.price is None else float(product.price)
    return (
        product.title == record.title
        and product.description == record.description
        and product.brand == record.brand
        and product.category == record.category
        and list(product.tags or ()) == list(record.tags)
        and price == record.price
        and product.currency == record.currency
        and product.url == record.url
        and product.image_url == record.image_url
        and product.available == record.available
        and (product.attributes or {}) == dict(record.attributes)
    )


def reembed_stale(merchant: Merchant, progress: Progress | None = None) -> int:
    """Embed again the merchant's products embedded by other models than this server's; return how many.

    A product's content hash records the models that embedded it (:func:`recommender.document_hash`),
    so after a change of model every product is stale once, and only once.
    """
    session = get_session()
    models = get_encoders().model_ids()
    columns = [getattr(Product, name) for name in ITEM_COLUMNS]
    query = sa.select(*columns, Product.content_hash).where(
        Product.merchant_id == merchant.id, Product.embedding.is_not(None)
    )
    stale: list[CatalogItem] = []
    hashes: list[str] = []
    documents: list[str] = []
    for row in session.execute(query.execution_options(yield_per=2000)):
        item = to_item(row)
        document = item_document(item)
        content_hash = document_hash(document, models)
        if row.content_hash != content_hash:
            stale.append(item)
            hashes.append(content_hash)
            documents.append(document)
    if not stale:
        return 0
    plan = SyncPlan(list(stale), hashes, documents, {})
    embed_plan(plan, progress)
    for i, item in enumerate(stale):
        session.execute(
            sa.update(Product)
            .where(Product.id == item.id)
            .values(embedding=plan.embeddings[i], content_hash=plan.hashes[i])
        )
    session.flush()
    logger.info("embedded %d products of merchant %s again with %s", len(stale), merchant.slug, ", ".join(models))
    return len(stale)


def rebuild_index(merchant: Merchant) -> str:
    """Build a new index version from stored embeddings and make it the active one.

    The new folder is complete before the merchant row points at it, so readers switch
    from one whole index to the next. Returns the new version name. Each product's stored
    embedding holds every model's vector side by side; each model's go into their own index.
    Products embedded by other models are embedded again first (:func:`reembed_stale`).

    Raises:
        IndexWriteError: the files could not be written; no version folder is left and the
            merchant keeps its active index.
    """
    session = get_session()
    session.flush()
    reembed_stale(merchant)
    rows = session.execute(
        sa.select(Product.id, Product.embedding)
        .where(Product.merchant_id == merchant.id, Product.embedding.is_not(None))
        .order_by(Product.id)
    ).all()
    encoders = get_encoders()
    ids = np.fromiter((r.id for r in rows), dtype=np.int64, count=len(rows))
    stored = (
        np.vstack([np.frombuffer(r.embedding, dtype=np.float32) for r in rows])
        if rows
        else np.zeros((0, encoders.dimension), dtype=np.float32)
    )
    vectors, routed = encoders.split(stored)
    languages = {lang: (encoders.by_language[lang].model_id, routed[lang]) for lang in encoders.languages}
    store: IndexStore = index_store_for(merchant.id)
    version = f"v{merchant.catalog_version}-{secrets.token_hex(4)}"
    try:
        store.write(version, ids, vectors, model=encoders.primary.model_id, languages=languages)
    except OSError as exc:
        logger.error("index %s of merchant %s could not be written: %s", version, merchant.slug, exc)
        if exc.errno == errno.ENOSPC:
            raise IndexWriteError("the server ran out of disk space while writing the search index") from exc
        raise IndexWriteError(f"the search index could not be written ({exc.strerror or exc})") from exc
    previous = merchant.active_index
    merchant.active_index = version
    session.flush()
    store.prune(keep={v for v in (version, previous) if v})
    logger.info("index %s of merchant %s holds %d products", version, merchant.slug, len(ids))
    return version
