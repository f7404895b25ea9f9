"""Aggregate funnel counters: how many, never who."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class FunnelCount(Base):
    """How often an event happened at a merchant on a day (no shopper is identifiable)."""

    __tablename__ = "funnel_count"
    __table_args__ = (sa.UniqueConstraint("merchant_id", "day", "event", name="uq_funnel_count_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchant.id", ondelete="CASCADE"), index=True)
    day: Mapped[dt.date]
    event: Mapped[str] = mapped_column(sa.String(120))
    count: Mapped[int] = mapped_column(default=0)
