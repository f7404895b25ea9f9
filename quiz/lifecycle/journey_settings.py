"""Journeys as merchants edit them (API): checked definitions, limits, and each journey's log."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from ..models import Journey, JourneySend, LifecycleSetting, Merchant
from ..platform.db import get_session
from ..platform.whole_numbers import WholeNumber
from ..quizzes.schema import flatten_errors
from . import journeys

MAX_DELAY_HOURS = 24 * 90
LOG_LIMIT = 200


class TextSchema(Schema):
    """A journey's text in one language."""

    subject = fields.String(required=True, validate=validate.Length(1, 200))
    intro = fields.String(load_default="", validate=validate.Length(max=2000))


class JourneySchema(Schema):
    """The parts of a journey a merchant may change (all optional; other fields are ignored)."""

    class Meta:
        unknown = EXCLUDE  # as the OpenAPI document says: extra properties are allowed, and ignored

    enabled = fields.Boolean()
    channel = fields.String(validate=validate.OneOf(("email", "sms")))
    delay_hours = WholeNumber(validate=validate.Range(0, MAX_DELAY_HOURS))
    threshold = fields.Float(validate=validate.Range(0, 1))
    texts = fields.Dict(
        keys=fields.String(validate=validate.OneOf(("en", "es"))),
        values=fields.Nested(TextSchema),
        validate=validate.Length(max=2),
    )


class LimitsSchema(Schema):
    """A merchant's limits across journeys (all optional; other fields are ignored)."""

    class Meta:
        unknown = EXCLUDE  # as the OpenAPI document says: extra properties are allowed, and ignored

    weekly_cap = WholeNumber(validate=validate.Range(0, 50))
    quiet_start = WholeNumber(validate=validate.Range(0, 23))
    quiet_end = WholeNumber(validate=validate.Range(0, 23))
    repeat_days = WholeNumber(validate=validate.Range(1, 365))


def as_dict(journey: Journey) -> dict[str, Any]:
    """Return a journey as the API shows it."""
    return {
        "kind": journey.kind,
        "available": journey.kind in journeys.AVAILABLE,
        "enabled": bool(journey.enabled),
        "channel": journey.channel,
        "delay_hours": journey.delay_hours,
        "threshold": journey.threshold,
        "texts": journey.texts or journeys.default_texts(journey.kind),
    }


def limits_dict(merchant: Merchant) -> dict[str, int]:
    """Return the merchant's limits as the API shows them."""
    found = journeys.limits(merchant)
    return {
        "weekly_cap": found.weekly_cap,
        "quiet_start": found.quiet_start,
        "quiet_end": found.quiet_end,
        "repeat_days": found.repeat_days,
    }


def update(merchant: Merchant, kind: str, data: Any) -> Journey:
    """Change a journey from a raw body; call in a transaction. Raises ValidationError (dotted paths)."""
    try:
        loaded: dict[str, Any] = JourneySchema().load(data)
    except ValidationError as exc:
        raise ValidationError(flatten_errors(exc.messages)) from exc
    if kind not in journeys.AVAILABLE:
        raise ValidationError({"kind": [f"{kind!r} is not a journey Attune runs yet."]})
    return journeys.configure(merchant, kind, **loaded)


def update_limits(merchant: Merchant, data: Any) -> dict[str, int]:
    """Change the merchant's limits from a raw body; call in a transaction. Raises ValidationError."""
    try:
        loaded: dict[str, Any] = LimitsSchema().load(data)
    except ValidationError as exc:
        raise ValidationError(flatten_errors(exc.messages)) from exc
    session = get_session()
    row = session.get(LifecycleSetting, merchant.id)
    if row is None:
        defaults = journeys.Limits()
        row = LifecycleSetting(
            merchant_id=merchant.id,
            weekly_cap=defaults.weekly_cap,
            quiet_start=defaults.quiet_start,
            quiet_end=defaults.quiet_end,
            repeat_days=defaults.repeat_days,
        )
        session.add(row)
    for name, value in loaded.items():
        setattr(row, name, value)
    session.flush()
    return limits_dict(merchant)


def log(merchant: Merchant, kind: str, limit: int = LOG_LIMIT) -> list[dict[str, Any]]:
    """Return a journey's latest decisions, newest first: who, what happened and why."""
    rows = get_session().scalars(
        sa.select(JourneySend)
        .where(JourneySend.merchant_id == merchant.id, JourneySend.kind == kind)
        .order_by(JourneySend.decided_at.desc(), JourneySend.id.desc())
        .limit(limit)
    )
    return [
        {
            "profile_id": r.profile_id,
            "channel": r.channel,
            "status": r.status,
            "reason": r.reason,
            "products": r.products,
            "attempts": r.attempts,
            "decided_at": r.decided_at.isoformat(),
            "sent_at": r.sent_at.isoformat() if r.sent_at else None,
        }
        for r in rows
    ]
