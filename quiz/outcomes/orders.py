"""The merchant's orders: recorded idempotently by order id, linked to a profile when they can be."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from ..models import Merchant, Order, OrderLine, Profile, utcnow
from ..platform.db import get_session
from .references import Reference


@dataclass(frozen=True)
class Line:
    """One product of an incoming order."""

    product_id: str
    quantity: int
    price: Decimal


@dataclass(frozen=True)
class IncomingOrder:
    """An order as the merchant sends it (API, Shopify CSV, invoices table)."""

    order_id: str
    placed_at: dt.datetime
    currency: str
    total: Decimal
    items: list[Line] = field(default_factory=list)
    email: str | None = None
    profile_id: str | None = None
    reference: Reference | None = None
    cancelled: bool = False


def record(merchant: Merchant, incoming: IncomingOrder, *, source: str = "api") -> tuple[Order, bool]:
    """Create or update the merchant's order ``incoming.order_id``; return it and whether it is new.

    A repeat replaces the order's fields and lines (the merchant's latest word); a cancellation
    keeps the order with its cancellation time, so it leaves every total. An existing link is
    kept when the repeat brings nothing to link by.
    """
    session = get_session()
    order = session.scalar(
        sa.select(Order).where(Order.merchant_id == merchant.id, Order.order_id == incoming.order_id)
    )
    created = order is None
    if order is None:
        order = Order(merchant_id=merchant.id, order_id=incoming.order_id, source=source)
        session.add(order)
    order.placed_at = incoming.placed_at
    order.currency = incoming.currency.upper()
    order.total = incoming.total
    order.cancelled_at = (order.cancelled_at or utcnow()) if incoming.cancelled else None
    order.lines = [
        OrderLine(merchant_id=merchant.id, product_id=line.product_id, quantity=line.quantity, price=line.price)
        for line in incoming.items
    ]
    if incoming.reference is not None:
        ref = incoming.reference
        order.ref_product_id, order.ref_channel = ref.product_id, ref.channel
        order.ref_quiz_version, order.ref_shown_at = ref.quiz_version, ref.shown_at
    profile_id, linked_by = find_profile(merchant, incoming)
    if profile_id is not None:
        order.profile_id, order.linked_by = profile_id, linked_by
    session.flush()
    return order, created


def find_profile(merchant: Merchant, incoming: IncomingOrder) -> tuple[str | None, str | None]:
    """Return the profile the order belongs to and what linked it, or (None, None).

    In order of trust: the merchant's own ``profile_id``, the attribution reference's subject,
    then an email address that exactly one of the merchant's profiles confirmed (double opt-in).
    """
    session = get_session()
    scope = Profile.merchant_id == merchant.id
    if incoming.profile_id:
        found = session.scalar(sa.select(Profile.id).where(scope, Profile.id == incoming.profile_id))
        if found:
            return found, "profile_id"
    if incoming.reference is not None:
        found = session.scalar(sa.select(Profile.id).where(scope, Profile.subject_id == incoming.reference.subject_id))
        if found:
            return found, "attune_ref"
    if incoming.email:
        matches = session.scalars(
            sa.select(Profile.id)
            .where(scope, Profile.email_confirmed_at.is_not(None))
            .where(sa.func.lower(Profile.email) == incoming.email.strip().lower())
            .limit(2)
        ).all()
        if len(matches) == 1:
            return matches[0], "email"
    return None, None


def summary(order: Order) -> dict[str, Any]:
    """Return what the merchant's API answers about an order (no shopper data but whether it is linked)."""
    return {
        "order_id": order.order_id,
        "placed_at": order.placed_at.isoformat(),
        "currency": order.currency,
        "total": float(order.total),
        "cancelled": order.cancelled_at is not None,
        "linked": order.profile_id is not None,
        "linked_by": order.linked_by,
        "items": [
            {"product_id": line.product_id, "quantity": line.quantity, "price": float(line.price)}
            for line in order.lines
        ],
    }
