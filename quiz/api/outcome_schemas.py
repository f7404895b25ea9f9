"""Marshmallow schemas of the outcome endpoints: shop events and orders."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..models.shopper_event import EVENT_TYPES
from .schemas import PlainText

# Beyond these an amount or a count is a mistake (or an attack), not a purchase.
MAX_AMOUNT = 1_000_000
MAX_QUANTITY = 10_000
MAX_ITEMS = 200
# An event is reported as it happens; one claiming a time far from now is refused.
MAX_EVENT_AGE = dt.timedelta(days=7)
MAX_CLOCK_SKEW = dt.timedelta(minutes=10)


class Amount(fields.Decimal):
    """A sum of money as a JSON number, kept exactly to the cent (never "12.50", never true)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


def _amount(**kwargs: Any) -> Amount:
    return Amount(places=2, allow_nan=False, validate=validate.Range(min=0, max=MAX_AMOUNT), **kwargs)


class ItemIn(Schema):
    """One product of a cart or an order: the merchant's own product id."""

    product_id = PlainText(required=True, validate=validate.Length(min=1, max=200))
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_QUANTITY))
    price = _amount(required=True)


class Currency(fields.String):
    """An ISO 4217 code, upper-cased ("eur" -> "EUR")."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip().upper()
        if len(text) != 3 or not text.isalpha() or not text.isascii():
            raise ValidationError("Give a three-letter currency code such as EUR.")
        return text


class EventIn(Schema):
    """One event the shop's page reports (track.js)."""

    type = fields.String(required=True, validate=validate.OneOf(EVENT_TYPES))
    product_id = PlainText(load_default=None, allow_none=True, validate=validate.Length(min=1, max=200))
    order_id = PlainText(load_default=None, allow_none=True, validate=validate.Length(min=1, max=200))
    value = _amount(load_default=None, allow_none=True)
    currency = Currency(load_default=None, allow_none=True)
    items = fields.List(fields.Nested(ItemIn), load_default=list, validate=validate.Length(max=MAX_ITEMS))
    occurred_at = fields.AwareDateTime(load_default=None, allow_none=True)
    attune_ref = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=500))

    @validates_schema
    def complete(self, data: dict[str, Any], **_: Any) -> None:
        """Each type names what it is about; a purchase its order; an amount its currency."""
        errors: dict[str, list[str]] = {}
        if data["type"] == "purchase":
            if not data["order_id"]:
                errors["order_id"] = ["A purchase names its order id (it is counted once)."]
        elif not data["product_id"]:
            errors["product_id"] = [f"A {data['type']} names the product's id."]
        if (data["value"] is not None or data["items"]) and not data["currency"]:
            errors["currency"] = ["Name the currency of the value and prices."]
        when = data["occurred_at"]
        now = dt.datetime.now(dt.UTC)
        if when is not None and not (now - MAX_EVENT_AGE <= when <= now + MAX_CLOCK_SKEW):
            errors["occurred_at"] = ["Report events as they happen: at most 7 days ago, never in the future."]
        if errors:
            raise ValidationError(errors)


event_in = EventIn()


class OrderIn(Schema):
    """One of the merchant's orders, as its systems send it."""

    order_id = PlainText(required=True, validate=validate.Length(min=1, max=200))
    placed_at = fields.AwareDateTime(required=True)
    currency = Currency(required=True)
    total = _amount(required=True)
    items = fields.List(fields.Nested(ItemIn), required=True, validate=validate.Length(min=1, max=MAX_ITEMS))
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=320))
    profile_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    attune_ref = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=500))
    cancelled = fields.Boolean(load_default=False, truthy={True}, falsy={False})


order_in = OrderIn()


# Reports cover real trading days; far-off dates (year 1) would overflow the window arithmetic.
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2999, 12, 31)


def _trading_day(day: dt.date) -> None:
    if not EARLIEST <= day <= LATEST:
        raise ValidationError(f"Give a date from {EARLIEST} to {LATEST}.")


class OutcomesQuery(Schema):
    """The date range (inclusive, UTC days) and attribution window of an outcome report."""

    from_ = fields.Date(required=True, data_key="from", validate=_trading_day)
    to = fields.Date(required=True, validate=_trading_day)
    window_days = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=90))

    @validates_schema
    def ordered(self, data: dict[str, Any], **_: Any) -> None:
        """The range runs forwards and spans at most a year."""
        if "from_" not in data or "to" not in data:
            return  # already refused, field by field
        if data["to"] < data["from_"]:
            raise ValidationError({"to": ["Give a date on or after 'from'."]})
        if (data["to"] - data["from_"]).days > 366:
            raise ValidationError({"to": ["Ask for a year at most."]})


outcomes_query = OutcomesQuery()
