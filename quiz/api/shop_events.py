"""Events from the merchant's own pages (track.js): views, clicks, carts and purchases.

Browsers post them across origins, so this endpoint answers CORS for the merchant's allowed
origins only (the widget's partner sites); no cookie is read or set, the subject token says who.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue

from .. import merchants
from ..marketing import funnel
from ..merchants import partners
from ..models import Merchant
from ..outcomes import events, references
from ..outcomes.orders import Line
from ..platform import limits
from ..platform.db import transaction
from ..platform.errors import ApiError
from ..privacy.consent import ConsentState, current_state
from ..shopping.flow import consent_for_token
from . import bp
from .auth import bearer_token
from .documented import documented
from .openapi_schemas import EVENT_ACCEPTED
from .outcome_schemas import EventIn, event_in
from .parsing import json_body

PREFLIGHT_MAX_AGE = 600


@bp.route("/m/<slug>/events", methods=["OPTIONS"])
def events_preflight(slug: str) -> ResponseReturnValue:
    """Answer a browser's preflight: allowed for the merchant's own sites, silent for any other."""
    merchant = merchants.get_or_404(slug)
    response = Response(status=204)
    if _allow_origin(response, merchant):
        response.headers["Access-Control-Allow-Methods"] = "POST"
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
    return response


@bp.post("/m/<slug>/events")
@documented(
    "Report a shop event (track.js); stored with `profile` consent, else only counted",
    auth="subject",
    body=EventIn,
    status=202,
    response=EVENT_ACCEPTED,
    limited=True,
)
@limits.events
def post_event(slug: str) -> ResponseReturnValue:
    """Accept an event: stored with the shopper's profile when consented, else only counted.

    Who it is about: the subject token, or else the subject the event's attribution reference
    names (a shop's thank-you page holds the reference from the link, not the token). The event
    and the day's ``shop:<type>`` counter are written in one transaction: counted with what was
    stored, and one commit per event.
    """
    merchant = merchants.get_or_404(slug)
    token_consent = _token_consent(merchant)  # a wrong token is refused before the body is read
    event = _incoming(merchant, event_in.load(json_body()))
    consent = token_consent or _reference_consent(merchant, event)
    try:
        events.check(merchant, event)
    except events.EventError as exc:
        raise ApiError(422, "The event does not fit this shop.", exc.fields) from exc
    with transaction():  # one commit: the event (or only its order id) and the day's counter, or neither
        recorded = events.record(merchant, consent, event)
        if not recorded.duplicate:
            funnel.add(merchant.id, [f"shop:{event.type}"])
    response = jsonify({"stored": recorded.stored, "duplicate": recorded.duplicate})
    response.status_code = 202
    _allow_origin(response, merchant)
    return response


def _token_consent(merchant: Merchant) -> ConsentState | None:
    token = bearer_token()
    if token is None:
        return None
    found = consent_for_token(token)
    if found is None:
        raise ApiError(401, "The subject token is not valid.")
    subject, consent = found
    if subject.merchant_id != merchant.id:
        raise ApiError(403, "This token belongs to another merchant.")
    return consent


def _reference_consent(merchant: Merchant, event: events.IncomingEvent) -> ConsentState:
    state = current_state(merchant.id, event.reference.subject_id) if event.reference else None
    if state is None:
        raise ApiError(401, "Send the subject token as 'Authorization: Bearer TOKEN', or the link's attune_ref.")
    return state


def _incoming(merchant: Merchant, data: dict[str, Any]) -> events.IncomingEvent:
    reference = None
    if data["attune_ref"]:
        reference = references.read(data["attune_ref"], merchant.id)
        if reference is None:
            fields = {"attune_ref": ["Not a reference of this shop."]}
            raise ApiError(422, "The attribution reference is not valid.", fields)
    return events.IncomingEvent(
        type=data["type"],
        product_id=data["product_id"],
        order_id=data["order_id"],
        value=data["value"],
        currency=data["currency"],
        items=[Line(i["product_id"], i["quantity"], i["price"]) for i in data["items"]],
        occurred_at=data["occurred_at"],
        reference=reference,
    )


def _allow_origin(response: Response, merchant: Merchant) -> bool:
    """Let the calling page read the answer when it is one of the merchant's sites; return whether it is."""
    origin = request.headers.get("Origin")
    response.vary.add("Origin")
    if not partners.allows(merchant, origin):
        return False
    response.headers["Access-Control-Allow-Origin"] = str(origin)
    return True
