"""Predictive scores of a profile: will it order in the next 90 days, may it leave, what is it worth."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow

# Churn risk bands, from the probability of no order in the next 90 days.
CHURN_BANDS = ("low", "medium", "high")


class ProfileScore(Base):
    """The latest scores of one profile, replaced on each computation.

    ``basis`` is ``orders`` when the profile has orders; ``none`` when it has none: then every
    score is empty (no number is made up). ``model_version`` names the model that produced them
    (``rank-logit-2``, formerly ``rfm-logit-1``; ``rate-1`` when the shop's history was too short to train it).
    """

    __tablename__ = "profile_score"

    profile_id: Mapped[str] = mapped_column(sa.ForeignKey("profile.id", ondelete="CASCADE"), primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchant.id", ondelete="CASCADE"), index=True)
    basis: Mapped[str] = mapped_column(sa.String(16))
    model_version: Mapped[str] = mapped_column(sa.String(32))
    scored_on: Mapped[dt.date]
    computed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    propensity_90d: Mapped[float | None]
    churn_risk: Mapped[float | None]
    churn_band: Mapped[str | None] = mapped_column(sa.String(8))
    expected_orders_90d: Mapped[float | None]
    expected_spend_12m: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))
    # What the explanation says: how many orders, how long since the last, net spend so far.
    orders: Mapped[int] = mapped_column(default=0)
    days_since_last: Mapped[int | None]
    net_spend: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))
