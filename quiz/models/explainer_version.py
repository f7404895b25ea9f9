"""Explainer texts a merchant wrote: each save is a new version, never changed afterwards."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class ExplainerVersion(Base):
    """A merchant's explainer in every language, and for each purpose the version its text dates from."""

    __tablename__ = "explainer_version"
    __table_args__ = (sa.UniqueConstraint("merchant_id", "number", name="uq_explainer_version_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchant.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    version: Mapped[str] = mapped_column(sa.String(32))  # as consent records name it: "m3"
    content: Mapped[dict[str, Any]] = mapped_column(sa.JSON)  # {locale: {title, intro, sections, purposes...}}
    purpose_revisions: Mapped[dict[str, str]] = mapped_column(sa.JSON)  # {purpose: version its text is from}
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
