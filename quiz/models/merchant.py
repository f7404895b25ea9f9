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
    # Nothing bought is shown again: a profile's purchases leave its recommendations for this many
    # days (0: shown again at once), except products in these categories (consumables, bought again).
    hide_bought_days: Mapped[int] = mapped_column(default=90, server_default="90")
    rebuy_categories: Mapped[list[str]] = mapped_column(sa.JSON, default=list, server_default="[]")
    # The shop's add-to-cart address with {id} or {sku} for the product id ("https://shop.example/cart/add?id={id}");
    # None: results offer "View in shop" only.
    cart_url_pattern: Mapped[str | None] = mapped_column(sa.String(2000))
    # Ranking settings every shopper gets outside an A/B test ({"diversity": false, ...}; unset: on),
    # left by the winner of a test of ranking settings.
    ranking_settings: Mapped[dict[str, bool]] = mapped_column(sa.JSON, default=dict, server_default="{}")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # First-run checklist moments: the merchant said the quiz is right; a widget first loaded.
    quiz_reviewed_at: Mapped[dt.datetime | None]
    widget_seen_at: Mapped[dt.datetime | None]

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
