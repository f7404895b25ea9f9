"""What a shopper did in the shop (views, clicks, carts, purchases), kept only with `profile` consent."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow

# What the shop's own page reports (track.js), and what Attune records itself when it shows results.
EVENT_TYPES = ("product_view", "product_click", "add_to_cart", "purchase")
RECOMMENDED = "recommended"


class ShopperEvent(Base):
    """One event of a consenting shopper's profile; deleted with the profile, never kept without it.

    Shoppers without `profile` consent leave only the day's anonymous counters (funnel_count).
    """

    __tablename__ = "shopper_event"
    __table_args__ = (
        # Per-profile timelines (lifecycle messages, predictive scores) and per-merchant date ranges.
        sa.Index("ix_shopper_event_profile_occurred", "profile_id", "occurred_at"),
        sa.Index("ix_shopper_event_merchant_occurred", "merchant_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchant.id", ondelete="CASCADE"))
    profile_id: Mapped[str] = mapped_column(sa.ForeignKey("profile.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(sa.String(32))  # one of EVENT_TYPES, or RECOMMENDED
    product_id: Mapped[str | None] = mapped_column(sa.String(200))  # the merchant's own product id
    order_id: Mapped[str | None] = mapped_column(sa.String(200))  # the merchant's order id (purchase)
    value: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    items: Mapped[list[dict[str, Any]] | None] = mapped_column(sa.JSON)  # [{product_id, quantity, price}]
    # Where the recommendation behind it was shown (site, widget, email) and on which quiz version.
    channel: Mapped[str | None] = mapped_column(sa.String(16))
    quiz_version: Mapped[int | None]
    occurred_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class TrackedOrder(Base):
    """An order id a shop's page already reported as a purchase: a replay is counted once.

    Holds the merchant's order id only (no shopper), so anonymous purchases are deduplicated too.
    """

    __tablename__ = "tracked_order"
    __table_args__ = (sa.UniqueConstraint("merchant_id", "order_id", name="uq_tracked_order_merchant_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchant.id", ondelete="CASCADE"))
    order_id: Mapped[str] = mapped_column(sa.String(200))
    seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
