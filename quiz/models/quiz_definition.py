"""Versioned quiz definitions, one live version per merchant."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class QuizDefinition(Base):
    """A validated quiz definition; the highest version of a merchant is the live one."""

    __tablename__ = "quiz_definition"
    __table_args__ = (sa.UniqueConstraint("merchant_id", "version", name="uq_quiz_definition_merchant_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchant.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    locale: Mapped[str] = mapped_column(sa.String(16), default="en")
    definition: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
