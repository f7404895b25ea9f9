"""Merchant API: journeys (switch on, edit text, delay and threshold), their limits and logs."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError

from ..lifecycle import journey_settings, journeys
from ..models import JOURNEY_KINDS
from ..platform.db import transaction
from ..platform.errors import ApiError
from . import bp
from .auth import current_merchant, merchant_required
from .documented import documented
from .openapi_schemas import OBJECT
from .parsing import json_body


def _kind_or_404(kind: str) -> str:
    if kind not in JOURNEY_KINDS:
        raise ApiError(404, "No such journey.")
    return kind


@bp.get("/journeys")
@documented("The journeys, switched on or off, and the limits across them", auth="merchant", response=OBJECT)
@merchant_required
def list_journeys() -> ResponseReturnValue:
    """Return every journey with its settings, and the merchant's limits."""
    merchant = current_merchant()
    return jsonify(
        {
            "items": [journey_settings.as_dict(j) for j in journeys.journeys(merchant)],
            "limits": journey_settings.limits_dict(merchant),
        }
    )


@bp.put("/journeys/limits")
@documented("Change the limits across journeys", auth="merchant", body=journey_settings.LimitsSchema, response=OBJECT)
@merchant_required
def update_journey_limits() -> ResponseReturnValue:
    """Change the weekly cap, quiet hours or repeat window; 422 with field messages when invalid."""
    try:
        with transaction():
            limits = journey_settings.update_limits(current_merchant(), json_body())
    except ValidationError as exc:
        raise ApiError(422, "The limits are invalid; nothing was saved.", exc.messages) from exc
    return jsonify(limits)


@bp.put("/journeys/<kind>")
@documented("Switch a journey on or off; edit", auth="merchant", body=journey_settings.JourneySchema, response=OBJECT)
@merchant_required
def update_journey(kind: str) -> ResponseReturnValue:
    """Change a journey; 422 with field messages when invalid (or not built yet)."""
    _kind_or_404(kind)
    try:
        with transaction():
            journey = journey_settings.update(current_merchant(), kind, json_body())
    except ValidationError as exc:
        raise ApiError(422, "The journey is invalid; nothing was saved.", exc.messages) from exc
    return jsonify(journey_settings.as_dict(journey))


@bp.get("/journeys/<kind>/log")
@documented("A journey's latest decisions: who, what happened and why", auth="merchant", response=OBJECT)
@merchant_required
def journey_log(kind: str) -> ResponseReturnValue:
    """Return the journey's latest 200 decisions, newest first."""
    return jsonify({"items": journey_settings.log(current_merchant(), _kind_or_404(kind))})
