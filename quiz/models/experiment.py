"""A/B tests of a merchant's quiz versions and ranking settings, and who was shown which variant."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, new_public_id, utcnow

# An experiment's life: drafted, running (shoppers are assigned), stopped (no one is assigned any more).
STATUSES = ("draft", "running", "stopped")
METRICS = ("completion", "conversion", "revenue_per_visitor")


class Experiment(Base):
    """Variants (name, quiz version, ranking settings, weight) compared on one metric."""

    __tablename__ = "experiment"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_public_id)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchant.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    metric: Mapped[str] = mapped_column(sa.String(32))
    variants: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    status: Mapped[str] = mapped_column(sa.String(16), default="draft")
    winner: Mapped[str | None] = mapped_column(sa.String(60))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    stopped_at: Mapped[dt.datetime | None]


class Exposure(Base):
    """A subject's variant of an experiment, from the first time it was shown; completed when it finished."""

    __tablename__ = "experiment_exposure"
    __table_args__ = (sa.UniqueConstraint("experiment_id", "subject_id", name="uq_exposure_experiment_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[str] = mapped_column(sa.ForeignKey("experiment.id", ondelete="CASCADE"), index=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchant.id", ondelete="CASCADE"))
    subject_id: Mapped[str] = mapped_column(sa.String(32))
    variant: Mapped[str] = mapped_column(sa.String(60))
    exposed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[dt.datetime | None]


class ErasedExposures(Base):
    """What erased shoppers of one variant did, as counts: no subject, no time, nothing per shopper.

    A shopper who erases their data leaves an experiment's results as they were (its denominators
    do not shrink silently): their exposure is added here, with whether they finished and what they
    bought after it, and the exposure itself is deleted.
    """

    __tablename__ = "experiment_erased"

    experiment_id: Mapped[str] = mapped_column(sa.ForeignKey("experiment.id", ondelete="CASCADE"), primary_key=True)
    variant: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    exposures: Mapped[int] = mapped_column(default=0)
    completions: Mapped[int] = mapped_column(default=0)
    conversions: Mapped[int] = mapped_column(default=0)
    # The sum and the sum of squares of each erased shopper's revenue: a mean and a variance, no list.
    revenue: Mapped[Decimal] = mapped_column(sa.Numeric(16, 2), default=0)
    revenue_squares: Mapped[Decimal] = mapped_column(sa.Numeric(24, 4), default=0)
