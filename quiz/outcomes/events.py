"""Events from the shop's pages: checked against the catalog, stored with consent, counted always.

The check reads the catalog this process has loaded (its product ids, and the shop's currency
counted once per catalog version): no query when the merchant's active version is loaded.

With `profile` consent an event is stored against the shopper's profile. Without it only the
day's anonymous counter moves (``shop:<type>`` in funnel_count), as the funnel counts today.
A purchase's order id is remembered (without the shopper), so a replay is counted once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..catalog import engine
from ..models import Merchant, Profile, ShopperEvent, TrackedOrder, utcnow
from ..platform.db import get_session
from ..privacy.consent import ConsentState
from .orders import Line
from .references import Reference


class EventError(ValueError):
    """The event does not fit the merchant's shop; ``fields`` says which field and why."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__("The event does not fit this shop.")
        self.fields = fields


@dataclass(frozen=True)
class IncomingEvent:
    """An event as the shop's page reports it."""

    type: str
    product_id: str | None = None
    order_id: str | None = None
    value: Decimal | None = None
    currency: str | None = None
    items: list[Line] = field(default_factory=list)
    occurred_at: dt.datetime | None = None
    reference: Reference | None = None


@dataclass(frozen=True)
class Recorded:
    """What became of an event: stored with a profile, and whether it was a replay (not counted)."""

    stored: bool
    duplicate: bool


def check(merchant: Merchant, event: IncomingEvent) -> None:
    """Raise :class:`EventError` unless every product is in the catalog and the currency is the shop's."""
    errors: dict[str, list[str]] = {}
    named = {event.product_id} if event.product_id else set()
    known = engine.known_products(merchant, named | {line.product_id for line in event.items})
    if event.product_id and event.product_id not in known:
        errors["product_id"] = [f"No product {event.product_id!r} in this shop's catalog."]
    for i, line in enumerate(event.items):
        if line.product_id not in known:
            errors[f"items[{i}].product_id"] = [f"No product {line.product_id!r} in this shop's catalog."]
    currency = shop_currency(merchant)
    if event.currency and currency and event.currency != currency:
        errors["currency"] = [f"This shop sells in {currency}."]
    if errors:
        raise EventError(errors)


def record(merchant: Merchant, consent: ConsentState, event: IncomingEvent) -> Recorded:
    """Store the event with the subject's profile when `profile` consent allows (call in a transaction)."""
    if event.type == "purchase" and event.order_id and not _first_report(merchant.id, event.order_id):
        return Recorded(stored=False, duplicate=True)
    profile_id = _profile_id(merchant.id, consent) if consent.allows("profile") else None
    if profile_id is None:
        return Recorded(stored=False, duplicate=False)
    store(merchant.id, profile_id, event)
    return Recorded(stored=True, duplicate=False)


def store(merchant_id: int, profile_id: str, event: IncomingEvent) -> ShopperEvent:
    """Add the event to the profile's timeline."""
    ref = event.reference
    row = ShopperEvent(
        merchant_id=merchant_id,
        profile_id=profile_id,
        type=event.type,
        product_id=event.product_id,
        order_id=event.order_id,
        value=event.value,
        currency=event.currency,
        items=[
            {"product_id": line.product_id, "quantity": line.quantity, "price": f"{line.price:.2f}"}
            for line in event.items
        ]
        or None,
        channel=ref.channel if ref else None,
        quiz_version=ref.quiz_version if ref else None,
        occurred_at=event.occurred_at or utcnow(),
    )
    get_session().add(row)
    get_session().flush()
    return row


def shop_currency(merchant: Merchant) -> str | None:
    """Return the currency most of the merchant's products are priced in (None without a catalog).

    Counted once per catalog version in this process (:func:`quiz.catalog.engine.shop_currency`).
    """
    return engine.shop_currency(merchant)


def profile_for_subject(merchant_id: int, subject_id: str) -> str | None:
    """Return the id of the subject's profile at the merchant, if one is stored."""
    return get_session().scalar(
        sa.select(Profile.id).where(Profile.merchant_id == merchant_id, Profile.subject_id == subject_id)
    )


def _profile_id(merchant_id: int, consent: ConsentState) -> str | None:
    return profile_for_subject(merchant_id, consent.subject_id)


def _first_report(merchant_id: int, order_id: str) -> bool:
    """Remember that the shop reported ``order_id``; return False when it had been reported before."""
    session = get_session()
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(TrackedOrder.__table__)
        .values(merchant_id=merchant_id, order_id=order_id, seen_at=utcnow())
        .on_conflict_do_nothing(index_elements=["merchant_id", "order_id"])
        .returning(TrackedOrder.__table__.c.id)
    )
    # RETURNING, not rowcount: PostgreSQL's driver does not report 0 rows for a skipped conflict here.
    return session.execute(statement).first() is not None
