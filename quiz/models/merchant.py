"""Merchants and their API keys."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


class Merchant(Base):
    """A shop served by this installation; every other row belongs to one."""

    __tablename__ = "merchant"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    retention_months: Mapped[int] = mapped_column(default=24)
    # Bumped whenever products change; the index is rebuilt for each new catalog version.
    catalog_version: Mapped[int] = mapped_column(default=0)
    # Folder name of the index version processes should serve (None until first built).
    active_index: Mapped[str | None] = mapped_column(sa.String(64))
    # Column mapping for generic CSV/JSON catalogs, set once in the admin: our field -> theirs.
    column_mapping: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict, server_default="{}")
    # Sites allowed to embed the quiz widget ("https://shop.example"); none: it cannot be framed.
    partner_origins: Mapped[list[str]] = mapped_column(sa.JSON, default=list, server_default="[]")
    taste_clusters: Mapped[int | None]  # how many taste clusters to form; None: chosen by silhouette
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    api_keys: Mapped[list[ApiKey]] = relationship(back_populates="merchant", cascade="all, delete-orphan")


class ApiKey(Base):
    """A merchant API key, stored only as a SHA-256 digest plus a prefix to recognise it by."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchant.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(sa.String(16))
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]

    @property
    def active(self) -> bool:
        """Return whether the key still authenticates."""
        return self.revoked_at is None

    merchant: Mapped[Merchant] = relationship(back_populates="api_keys")
