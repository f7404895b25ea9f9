"""Quizzes a shopper chose to finish later."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, new_public_id, utcnow


class QuizSession(Base):
    """Answers so far of a quiz saved to resume later (deleted when finished, erased or stale)."""

    __tablename__ = "quiz_session"
    __table_args__ = (sa.UniqueConstraint("merchant_id", "subject_id", name="uq_quiz_session_merchant_subject"),)

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_public_id)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchant.id", ondelete="CASCADE"), index=True)
    subject_id: Mapped[str] = mapped_column(sa.String(32))
    answers: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
