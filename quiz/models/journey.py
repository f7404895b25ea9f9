"""Triggered messages: the journeys a merchant switched on, their rules, and the log of every decision."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow

JOURNEY_KINDS = ("saved_reminder", "no_order_picks", "new_products", "win_back")
# A send log row: recorded "pending" before delivery, then "sent" or "failed" (retried);
# "skipped" and "deferred" say why a candidate got nothing (yet).
SEND_STATUSES = ("pending", "sent", "failed", "skipped", "deferred")


class Journey(Base):
    """One journey of a merchant: switched on or off, its channel, delay and text per language."""

    __tablename__ = "journey"
    __table_args__ = (sa.UniqueConstraint("merchant_id", "kind", name="uq_journey_merchant_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchant.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(32))
    enabled: Mapped[bool] = mapped_column(default=False)
    channel: Mapped[str] = mapped_column(sa.String(8), default="email")
    delay_hours: Mapped[int] = mapped_column(default=24)
    threshold: Mapped[float | None]  # win-back: the churn risk from which a profile gets the message
    texts: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)  # {locale: {subject, intro}}
    # When it was last switched on (new_products looks at products added since, at the earliest).
    enabled_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LifecycleSetting(Base):
    """A merchant's limits across journeys (defaults when there is no row)."""

    __tablename__ = "lifecycle_setting"

    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchant.id", ondelete="CASCADE"), primary_key=True)
    weekly_cap: Mapped[int] = mapped_column(default=2)
    quiet_start: Mapped[int] = mapped_column(default=21)  # hour, shopper's local time
    quiet_end: Mapped[int] = mapped_column(default=9)
    repeat_days: Mapped[int] = mapped_column(default=30)


class JourneySend(Base):
    """One candidate of one journey for one trigger, and what was decided (unique: never sent twice)."""

    __tablename__ = "journey_send"
    __table_args__ = (
        sa.UniqueConstraint("merchant_id", "kind", "profile_id", "trigger_key", name="uq_journey_send_trigger"),
        sa.Index("ix_journey_send_profile_decided", "profile_id", "decided_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchant.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    profile_id: Mapped[str] = mapped_column(sa.ForeignKey("profile.id", ondelete="CASCADE"))
    trigger_key: Mapped[str] = mapped_column(sa.String(64))
    channel: Mapped[str] = mapped_column(sa.String(8))
    status: Mapped[str] = mapped_column(sa.String(16))
    reason: Mapped[str] = mapped_column(sa.String(200), default="")
    products: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    attempts: Mapped[int] = mapped_column(default=0)
    decided_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
