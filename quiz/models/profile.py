"""Shopper profiles, kept only with `profile` consent."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, new_public_id, utcnow


class Profile(Base):
    """A shopper's stored answers and preference embedding."""

    __tablename__ = "profile"
    __table_args__ = (sa.UniqueConstraint("merchant_id", "subject_id", name="uq_profile_merchant_subject"),)

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_public_id)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchant.id", ondelete="CASCADE"), index=True)
    subject_id: Mapped[str] = mapped_column(sa.String(32))
    first_name: Mapped[str | None] = mapped_column(sa.String(100))
    email: Mapped[str | None] = mapped_column(sa.String(320))
    # Double opt-in: the address is marketable only once its owner followed the confirmation link.
    email_confirmed_at: Mapped[dt.datetime | None]
    email_confirm_nonce: Mapped[str | None] = mapped_column(sa.String(32))  # the one link that may confirm
    phone: Mapped[str | None] = mapped_column(sa.String(32))  # kept only with `sms` consent
    answers: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    # Fields a partner's widget passed through (a campaign id, say), kept with the profile.
    hidden_fields: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict, server_default="{}")
    quiz_version: Mapped[int]
    preference_embedding: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    consent_record_id: Mapped[int] = mapped_column(sa.ForeignKey("consent_record.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
