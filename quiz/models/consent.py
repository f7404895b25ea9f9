"""The append-only consent ledger."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from .base import Base, utcnow

ConsentAction = Literal["grant", "change", "withdraw", "erase"]


class LedgerViolation(RuntimeError):
    """Something tried to rewrite or delete a consent record."""


class ConsentRecord(Base):
    """One consent decision, as it was made; never updated or deleted."""

    __tablename__ = "consent_record"
    __table_args__ = (sa.Index("ix_consent_record_subject", "merchant_id", "subject_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchant.id", ondelete="CASCADE"))
    subject_id: Mapped[str] = mapped_column(sa.String(32))
    action: Mapped[str] = mapped_column(sa.String(16))
    purposes: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    explainer_version: Mapped[str] = mapped_column(sa.String(32))
    text_sha256: Mapped[str] = mapped_column(sa.String(64))
    locale: Mapped[str] = mapped_column(sa.String(16), default="en")
    source: Mapped[str] = mapped_column(sa.String(200))
    origin: Mapped[str | None] = mapped_column(sa.String(300))  # the partner site a widget decision was made on
    # How the notice was laid out when the decision was made on its page (receipts.notice_layers);
    # None for decisions made elsewhere (API, privacy page) and for records from before revision 0014.
    notice_layers: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


@event.listens_for(ConsentRecord, "before_update")
@event.listens_for(ConsentRecord, "before_delete")
def _refuse_rewrite(_mapper: Mapper[Any], _connection: Any, target: ConsentRecord) -> None:
    raise LedgerViolation(f"consent record {target.id} is append-only")
