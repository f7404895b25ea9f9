"""Catalog upkeep: store products, embed only what changed, rebuild and activate the index."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import sqlalchemy as sa

from recommender import IndexStore, ProductRecord, item_document

from .db import get_session
from .models import Merchant, Product
from .search import get_embedder, index_store_for

logger = logging.getLogger(__name__)

EMBED_BATCH = 64


@dataclass(frozen=True)
class SyncSummary:
    """What a catalog sync changed."""

    created: int
    updated: int
    unchanged: int
    embedded: int


def upsert_products(merchant: Merchant, records: Sequence[ProductRecord]) -> SyncSummary:
    """Insert or update products by external id; embed new and changed texts only.

    Runs in the caller's transaction: nothing is written unless the caller commits.
    """
    session = get_session()
    existing = {p.external_id: p for p in session.scalars(sa.select(Product).where(Product.merchant_id == merchant.id))}
    created = updated = unchanged = 0
    to_embed: list[tuple[Product, str]] = []
    for record in records:
        document = item_document(record.as_item())
        digest = hashlib.sha256(document.encode("utf-8")).hexdigest()
        product = existing.get(record.external_id)
        if product is None:
            product = Product(merchant_id=merchant.id, external_id=record.external_id)
            session.add(product)
            existing[record.external_id] = product
            created += 1
        elif product.content_hash == digest and _same_fields(product, record):
            unchanged += 1
            continue
        else:
            updated += 1
        _copy_fields(product, record)
        if product.content_hash != digest or product.embedding is None:
            product.content_hash = digest
            to_embed.append((product, document))
    _embed(to_embed)
    if created or updated:
        merchant.catalog_version += 1
    session.flush()
    return SyncSummary(created, updated, unchanged, len(to_embed))


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
    price = None if product.price is None else float(product.price)
    return (
        price == record.price
        and product.available == record.available
        and product.url == record.url
        and product.image_url == record.image_url
        and product.currency == record.currency
    )


def _embed(pending: list[tuple[Product, str]]) -> None:
    if not pending:
        return
    embedder = get_embedder()
    for start in range(0, len(pending), EMBED_BATCH):
        batch = pending[start : start + EMBED_BATCH]
        vectors = embedder.encode([doc for _, doc in batch])
        for (product, _), vector in zip(batch, vectors, strict=True):
            product.embedding = vector.astype(np.float32).tobytes()


def rebuild_index(merchant: Merchant) -> str:
    """Build a new index version from stored embeddings and make it the active one.

    The new folder is complete before the merchant row points at it, so readers switch
    from one whole index to the next. Returns the new version name.
    """
    session = get_session()
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
    store.write(version, ids, vectors, model=embedder.model_path)
    previous = merchant.active_index
    merchant.active_index = version
    session.flush()
    store.prune(keep={version, previous} - {None})  # type: ignore[arg-type]
    logger.info("index %s of merchant %s holds %d products", version, merchant.slug, len(ids))
    return version
