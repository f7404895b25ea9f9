"""Intent shifts: a returning shopper whose new answers point somewhere else entirely."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class IntentShift(Base):
    """A returning shopper's preferences moved far from what was stored (cosine below the threshold)."""

    __tablename__ = "intent_shift"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchant.id", ondelete="CASCADE"), index=True)
    profile_id: Mapped[str] = mapped_column(sa.ForeignKey("profile.id", ondelete="CASCADE"), index=True)
    similarity: Mapped[float]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
