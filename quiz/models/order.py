"""Orders from the merchant's systems, with their lines; linked to a profile only when it can be."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow

# How an order found its profile: the merchant named it, an attribution reference, a confirmed email.
LINKS = ("profile_id", "attune_ref", "email")


class Order(Base):
    """One of the merchant's orders, idempotent by the merchant's ``order_id``.

    Linked to a profile (``profile_id``) only by the profile id, an attribution reference or an
    email address the profile confirmed; otherwise kept unlinked, for totals only. No email
    address is stored. Erasing the profile unlinks the order and keeps its totals.
    """

    __tablename__ = "shop_order"
    __table_args__ = (
        sa.UniqueConstraint("merchant_id", "order_id", name="uq_shop_order_merchant_order"),
        sa.Index("ix_shop_order_merchant_placed", "merchant_id", "placed_at"),
        sa.Index("ix_shop_order_profile_placed", "profile_id", "placed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchant.id", ondelete="CASCADE"))
    order_id: Mapped[str] = mapped_column(sa.String(200))
    placed_at: Mapped[dt.datetime]
    currency: Mapped[str] = mapped_column(sa.String(3))
    total: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    cancelled_at: Mapped[dt.datetime | None]  # a cancelled order counts in no total
    profile_id: Mapped[str | None] = mapped_column(sa.ForeignKey("profile.id", ondelete="SET NULL"))
    linked_by: Mapped[str | None] = mapped_column(sa.String(16))  # one of LINKS while linked
    # From an attribution reference: the recommendation shown (no shopper), kept after unlinking.
    ref_product_id: Mapped[str | None] = mapped_column(sa.String(200))
    ref_channel: Mapped[str | None] = mapped_column(sa.String(16))
    ref_quiz_version: Mapped[int | None]
    ref_shown_at: Mapped[dt.datetime | None]
    source: Mapped[str] = mapped_column(sa.String(16), default="api")  # api, shopify_csv, invoices
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id"
    )


class OrderLine(Base):
    """One product of an order: the merchant's own product id, how many, at what unit price."""

    __tablename__ = "shop_order_line"
    __table_args__ = (sa.Index("ix_shop_order_line_merchant_product", "merchant_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_pk: Mapped[int] = mapped_column(sa.ForeignKey("shop_order.id", ondelete="CASCADE"), index=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchant.id", ondelete="CASCADE"))
    product_id: Mapped[str] = mapped_column(sa.String(200))
    quantity: Mapped[int]
    price: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))

    order: Mapped[Order] = relationship(back_populates="lines")
