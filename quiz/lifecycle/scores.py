"""Stored predictive scores per profile: computed from the merchant's linked orders, read where merchants work.

Every live profile of the merchant gets a row. A profile with orders gets the probability of an
order in the next 90 days, its churn risk (the complement, banded low/medium/high) and expected
spend over the next 12 months; a profile without orders gets a row with basis ``none`` and no
numbers, shown as "no orders yet" (no score is made up from nothing).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from ..models import Merchant, Order, OrderLine, Profile, ProfileScore, utcnow
from ..platform.db import get_session
from .model import HORIZON_DAYS, MODEL_VERSION, Invoice, Prediction, ScoreModel, features, group, rate_predictions

RATE_VERSION = "rate-1"
YEAR_DAYS = 365
# Churn risk (no order in 90 days) from this probability up is "high", from MEDIUM "medium".
HIGH = 0.7
MEDIUM = 0.4


@dataclass(frozen=True)
class ScoreRun:
    """What a computation did for one merchant."""

    merchant: str
    model_version: str
    with_orders: int
    without_orders: int


def band(churn_risk: float) -> str:
    """Return the churn band (``low``, ``medium``, ``high``) of a churn risk."""
    return "high" if churn_risk >= HIGH else "medium" if churn_risk >= MEDIUM else "low"


def histories(merchant: Merchant) -> tuple[dict[str, list[Invoice]], dt.datetime | None]:
    """Return each linked profile's orders as invoices, and when the merchant's first order was placed.

    A cancellation invoice (negative total) counts as a cancellation; an order cancelled in place
    (``cancelled: true`` on a positive total) never happened and is left out.
    """
    session = get_session()
    first = session.scalar(sa.select(sa.func.min(Order.placed_at)).where(Order.merchant_id == merchant.id))
    lines = (
        sa.select(
            OrderLine.order_pk,
            sa.func.count().label("lines"),
            sa.func.coalesce(sa.func.sum(OrderLine.quantity), 0).label("quantity"),
        )
        .group_by(OrderLine.order_pk)
        .subquery()
    )
    rows = session.execute(
        sa.select(Order.profile_id, Order.placed_at, Order.total, Order.cancelled_at, lines.c.lines, lines.c.quantity)
        .outerjoin(lines, lines.c.order_pk == Order.id)
        .where(Order.merchant_id == merchant.id, Order.profile_id.is_not(None))
    )
    invoices = []
    for profile_id, placed_at, total, cancelled_at, line_count, quantity in rows:
        total = float(total)
        if cancelled_at is not None and total >= 0:
            continue
        at = _naive(placed_at)
        invoices.append(Invoice(profile_id, at, total, total < 0, int(line_count or 1), int(quantity or 1)))
    return group(invoices), _naive(first) if first is not None else None


def compute(merchant: Merchant, now: dt.datetime | None = None) -> ScoreRun:
    """Score every live profile of the merchant and replace its stored scores; call inside a transaction."""
    now = _naive(now or utcnow())
    by_profile, first = histories(merchant)
    buyers = sorted(p for p, h in by_profile.items() if any(not i.cancelled and i.at < now for i in h))
    rows = [features(by_profile[p], now) for p in buyers]
    observed = (now - first).total_seconds() / 86400 if first is not None else 1.0
    version, predictions = _predict(by_profile, rows, now, first, observed)
    scored = dict(zip(buyers, zip(rows, predictions, strict=True), strict=True))
    session = get_session()
    session.execute(sa.delete(ProfileScore).where(ProfileScore.merchant_id == merchant.id))
    live = session.scalars(
        sa.select(Profile.id).where(Profile.merchant_id == merchant.id, Profile.expires_at > utcnow())
    )
    with_orders = without = 0
    for profile_id in live:
        if profile_id in scored:
            row, prediction = scored[profile_id]
            session.add(_score(merchant, profile_id, version, now, row, prediction))
            with_orders += 1
        else:
            session.add(
                ProfileScore(
                    profile_id=profile_id,
                    merchant_id=merchant.id,
                    basis="none",
                    model_version=version,
                    scored_on=now.date(),
                    orders=0,
                )
            )
            without += 1
    return ScoreRun(merchant.slug, version, with_orders, without)


def _predict(
    by_profile: dict[str, list[Invoice]],
    rows: list[list[float]],
    now: dt.datetime,
    first: dt.datetime | None,
    observed: float,
) -> tuple[str, list[Prediction]]:
    """Return the model version used and a prediction per row: the trained model, else the rate baseline."""
    if not rows or first is None:
        return MODEL_VERSION, []
    try:
        model = ScoreModel(HORIZON_DAYS).fit(by_profile, now, first)
    except ValueError:
        return RATE_VERSION, rate_predictions(rows, observed)
    return MODEL_VERSION, model.predict(rows, observed)


def _score(
    merchant: Merchant, profile_id: str, version: str, now: dt.datetime, row: list[float], prediction: Prediction
) -> ProfileScore:
    propensity = min(max(prediction.probability, 0.0), 1.0)
    spend = max(prediction.spend, 0.0) * YEAR_DAYS / HORIZON_DAYS
    return ProfileScore(
        profile_id=profile_id,
        merchant_id=merchant.id,
        basis="orders",
        model_version=version,
        scored_on=now.date(),
        propensity_90d=round(propensity, 4),
        churn_risk=round(1 - propensity, 4),
        churn_band=band(1 - propensity),
        expected_orders_90d=round(max(prediction.purchases, 0.0), 3),
        expected_spend_12m=Decimal(f"{spend:.2f}"),
        orders=int(row[2]),
        days_since_last=math.floor(row[0]),
        net_spend=Decimal(f"{row[5]:.2f}"),
    )


def compute_all(merchants: list[Merchant], each: Callable[[ScoreRun], None] | None = None) -> list[ScoreRun]:
    """Compute every merchant's scores, one transaction each; call ``each`` after each merchant."""
    runs = []
    session = get_session()
    for merchant in merchants:
        try:
            run = compute(merchant)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        runs.append(run)
        if each is not None:
            each(run)
    return runs


def for_profile(profile: Profile) -> ProfileScore | None:
    """Return the profile's stored scores (None: never computed)."""
    return get_session().get(ProfileScore, profile.id)


def explain(score: ProfileScore | None) -> str:
    """Return the scores in words for the admin: what they rest on, never more than that."""
    if score is None:
        return "Not scored yet: run `flask --app app scores compute`."
    if score.basis != "orders":
        return "No orders yet: nothing to predict from, so no score."
    times = "once" if score.orders == 1 else f"{score.orders} times"
    last = "today" if score.days_since_last == 0 else f"{score.days_since_last} days ago"
    return f"Ordered {times}, last {last}; {score.net_spend} net so far."


def as_json(score: ProfileScore | None) -> dict[str, Any] | None:
    """Return the stored scores as the API shows them (None: never computed)."""
    if score is None:
        return None
    return {
        "basis": score.basis,
        "model_version": score.model_version,
        "scored_on": score.scored_on.isoformat(),
        "propensity_90d": score.propensity_90d,
        "churn_risk": score.churn_risk,
        "churn_band": score.churn_band,
        "expected_orders_90d": score.expected_orders_90d,
        "expected_spend_12m": float(score.expected_spend_12m) if score.expected_spend_12m is not None else None,
        "orders": score.orders,
        "days_since_last_order": score.days_since_last,
        "explanation": explain(score),
    }


def _naive(moment: dt.datetime) -> dt.datetime:
    """Return a time as naive UTC (SQLite gives naive times back, PostgreSQL aware ones)."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo is not None else moment
