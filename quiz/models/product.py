"""Products of a merchant's catalog, with their stored embeddings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class Product(Base):
    """One catalog product; the embedding is the source the FAISS index is built from."""

    __tablename__ = "product"
    __table_args__ = (
        sa.UniqueConstraint("merchant_id", "external_id", name="uq_product_merchant_external"),
        sa.Index("ix_product_merchant_created", "merchant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchant.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str] = mapped_column(sa.String(200))
    title: Mapped[str] = mapped_column(sa.String(500))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    brand: Mapped[str] = mapped_column(sa.String(200), default="")
    category: Mapped[str] = mapped_column(sa.String(500), default="")
    tags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    price: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))
    currency: Mapped[str] = mapped_column(sa.String(3), default="USD")
    url: Mapped[str] = mapped_column(sa.String(2000), default="")
    image_url: Mapped[str] = mapped_column(sa.String(2000), default="")
    available: Mapped[bool] = mapped_column(default=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # SHA-256 of the embedded text: unchanged products are not embedded again.
    content_hash: Mapped[str] = mapped_column(sa.String(64), default="")
    embedding: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    # Added to the catalog (the first import that had it): the new_products journey's "new".
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
