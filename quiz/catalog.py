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

from recommender import IndexStore, ProductRecord, document_hash, item_document

from .db import get_session
from .models import Merchant, Product
from .search import get_embedder, index_store_for

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
    hashes = [document_hash(d) for d in documents]
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
    embedder = get_embedder()
    for start in range(0, len(pending), EMBED_CHUNK):
        chunk = pending[start : start + EMBED_CHUNK]
        vectors = embedder.encode([plan.documents[i] for i in chunk], batch_size=EMBED_BATCH)
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


def rebuild_index(merchant: Merchant) -> str:
    """Build a new index version from stored embeddings and make it the active one.

    The new folder is complete before the merchant row points at it, so readers switch
    from one whole index to the next. Returns the new version name.

    Raises:
        IndexWriteError: the files could not be written; no version folder is left and the
            merchant keeps its active index.
    """
    session = get_session()
    session.flush()
    rows = session.execute(
        sa.select(Product.id, Product.embedding)
        .where(Product.merchant_id == merchant.id, Product.embedding.is_not(None))
        .order_by(Product.id)
    ).all()
    embedder = get_embedder()
    dim = embedder.dimension
    ids = np.fromiter((r.id for r in rows), dtype=np.int64, count=len(rows))
    vectors = (
        np.vstack([np.frombuffer(r.embedding, dtype=np.float32) for r in rows])
        if rows
        else np.zeros((0, dim), dtype=np.float32)
    )
    store: IndexStore = index_store_for(merchant.id)
    version = f"v{merchant.catalog_version}-{secrets.token_hex(4)}"
    try:
        store.write(version, ids, vectors, model=embedder.model_path)
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
