"""Saved rule segments of a merchant's profiles."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, new_public_id, utcnow


class Segment(Base):
    """A named set of rules; its members are the profiles matching all of them, computed when asked."""

    __tablename__ = "segment"
    __table_args__ = (sa.UniqueConstraint("merchant_id", "name", name="uq_segment_merchant_name"),)

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_public_id)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchant.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    rules: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
