"""Catalog import jobs and their progress."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, new_public_id, utcnow

ImportStatus = Literal["queued", "running", "done", "failed"]
ImportMode = Literal["full", "upsert"]


class CatalogImport(Base):
    """One uploaded catalog file and what became of it."""

    __tablename__ = "catalog_import"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_public_id)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchant.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(300))
    format: Mapped[str] = mapped_column(sa.String(32))
    mode: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16), default="queued")
    total: Mapped[int] = mapped_column(default=0)
    processed: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    summary: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # What the merchant should know that kept no product out (ids derived for a file without any).
    warnings: Mapped[list[str]] = mapped_column(sa.JSON, default=list, server_default="[]")
    message: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    heartbeat_at: Mapped[dt.datetime | None]
    # "host:pid" of the process running the import, to tell a dead runner from a slow one.
    worker: Mapped[str] = mapped_column(sa.String(300), default="")
