"""The personal side of outcomes: what a shopper is shown, what erasure and retention remove.

A profile's events are personal data and go with it. Its orders are the merchant's records: they
are unlinked (totals kept, nothing left that leads back to the shopper).
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from ..models import Exposure, JourneySend, Merchant, Order, Profile, ProfileScore, ShopperEvent, utcnow
from ..platform.db import get_session
from . import experiment_data

DAYS_PER_MONTH = 30.44
logger = logging.getLogger(__name__)


def profile_events(profile_id: str) -> list[dict[str, Any]]:
    """Return the profile's events, oldest first, as plain JSON-ready data."""
    rows = get_session().scalars(
        sa.select(ShopperEvent)
        .where(ShopperEvent.profile_id == profile_id)
        .order_by(ShopperEvent.occurred_at, ShopperEvent.id)
    )
    return [
        {
            "type": e.type,
            "product_id": e.product_id,
            "order_id": e.order_id,
            "value": _money(e.value),
            "currency": e.currency,
            "items": e.items,
            "channel": e.channel,
            "quiz_version": e.quiz_version,
            "occurred_at": e.occurred_at.isoformat(),
        }
        for e in rows
    ]


def profile_messages(profile_id: str) -> list[dict[str, Any]]:
    """Return the journey decisions about the profile, newest first: what was (not) sent and why."""
    rows = get_session().scalars(
        sa.select(JourneySend)
        .where(JourneySend.profile_id == profile_id)
        .order_by(JourneySend.decided_at.desc(), JourneySend.id.desc())
    )
    return [
        {
            "journey": m.kind,
            "channel": m.channel,
            "status": m.status,
            "reason": m.reason,
            "products": m.products,
            "decided_at": m.decided_at.isoformat(),
            "sent_at": m.sent_at.isoformat() if m.sent_at else None,
        }
        for m in rows
    ]


def profile_orders(profile_id: str) -> list[dict[str, Any]]:
    """Return the orders linked to the profile, oldest first, with their lines and how they were linked."""
    rows = get_session().scalars(
        sa.select(Order).where(Order.profile_id == profile_id).order_by(Order.placed_at, Order.id)
    )
    return [
        {
            "order_id": o.order_id,
            "placed_at": o.placed_at.isoformat(),
            "currency": o.currency,
            "total": _money(o.total),
            "cancelled": o.cancelled_at is not None,
            "linked_by": o.linked_by,
            "items": [
                {"product_id": line.product_id, "quantity": line.quantity, "price": _money(line.price)}
                for line in o.lines
            ],
        }
        for o in rows
    ]


def forget_profiles(profiles: sa.Select[tuple[str]]) -> None:
    """Delete the events, scores and message log of the profiles ``profiles`` selects; unlink their orders.

    Called before the profiles themselves are deleted; the foreign keys would do the same, but
    saying it here keeps erasure readable and independent of the database's cascade support.
    """
    session = get_session()
    session.execute(sa.delete(ShopperEvent).where(ShopperEvent.profile_id.in_(profiles)))
    session.execute(sa.delete(ProfileScore).where(ProfileScore.profile_id.in_(profiles)))
    session.execute(sa.delete(JourneySend).where(JourneySend.profile_id.in_(profiles)))
    session.execute(sa.update(Order).where(Order.profile_id.in_(profiles)).values(profile_id=None, linked_by=None))


def purge_old(now: dt.datetime | None = None) -> int:
    """Apply each merchant's retention to events, order links and A/B exposures; return how many events were deleted.

    A profile seen again lives on, but an event older than the merchant's retention period goes,
    and an order placed before it is unlinked, as if the profile had expired then. An A/B exposure
    that old, with or without a profile, becomes its variant's anonymous counts, as at erasure.
    """
    session = get_session()
    now = now or utcnow()
    deleted = folded = 0
    for merchant_id, months in session.execute(sa.select(Merchant.id, Merchant.retention_months)):
        cutoff = now - dt.timedelta(days=DAYS_PER_MONTH * months)
        # First, while the orders that old are still linked: what was bought after an exposure counts.
        folded += experiment_data.fold_exposures(Exposure.merchant_id == merchant_id, Exposure.exposed_at < cutoff)
        result = session.execute(
            sa.delete(ShopperEvent).where(ShopperEvent.merchant_id == merchant_id, ShopperEvent.occurred_at < cutoff)
        )
        deleted += int(getattr(result, "rowcount", 0) or 0)
        session.execute(
            sa.update(Order)
            .where(Order.merchant_id == merchant_id, Order.profile_id.is_not(None), Order.placed_at < cutoff)
            .values(profile_id=None, linked_by=None)
        )
    logger.info(
        "retention: %d events past their merchant's retention deleted, %d A/B exposures kept as counts only",
        deleted,
        folded,
    )
    return deleted


def profile_ids(*conditions: sa.ColumnElement[bool]) -> sa.Select[tuple[str]]:
    """Return a select of the ids of the profiles matching ``conditions``."""
    return sa.select(Profile.id).where(*conditions)


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"
