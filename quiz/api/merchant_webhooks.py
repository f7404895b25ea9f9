"""Merchant API: webhooks and their delivery status."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields, validate

from ..merchants import webhooks
from ..models import Webhook
from ..platform.db import get_session, transaction
from ..platform.errors import ApiError
from . import bp
from .auth import current_merchant, merchant_required
from .documented import documented
from .openapi_schemas import OBJECT, WEBHOOK, Items
from .parsing import is_public_id, json_body


class WebhookIn(Schema):
    """A URL to receive events."""

    url = fields.String(required=True, validate=validate.Length(1, 2000))


def _as_dict(hook: Webhook) -> dict[str, object]:
    return {"id": hook.id, "url": hook.url, "secret": hook.secret, "events": list(webhooks.EVENTS)}


def _hook_or_404(webhook_id: str) -> Webhook:
    hook = webhooks.get(current_merchant(), webhook_id) if is_public_id(webhook_id) else None
    if hook is None:
        raise ApiError(404, "No such webhook.")
    return hook


@bp.get("/webhooks")
@documented("Registered webhooks with their signing secrets", auth="merchant", response=Items(WEBHOOK))
@merchant_required
def list_webhooks() -> ResponseReturnValue:
    """Return the registered webhooks with their signing secrets."""
    return jsonify({"items": [_as_dict(h) for h in webhooks.list_webhooks(current_merchant())]})


@bp.post("/webhooks")
@documented(
    "Register a webhook URL (201 with its secret; 422 if it reaches no public address)",
    auth="merchant",
    body=WebhookIn,
    status=201,
    response=WEBHOOK,
)
@merchant_required
def create_webhook() -> ResponseReturnValue:
    """Register a URL; the response holds the secret that signs its events."""
    data = WebhookIn().load(json_body())
    try:
        with transaction():
            hook = webhooks.register(current_merchant(), data["url"])
    except webhooks.WebhookError as exc:
        raise ApiError(422, str(exc), exc.fields) from exc
    return jsonify(_as_dict(hook)), 201


@bp.delete("/webhooks/<webhook_id>")
@documented("Stop sending events to a URL", auth="merchant", status=204)
@merchant_required
def delete_webhook(webhook_id: str) -> ResponseReturnValue:
    """Stop sending events to a URL (its pending deliveries are dropped)."""
    hook = _hook_or_404(webhook_id)
    with transaction():
        get_session().delete(hook)
    return "", 204


@bp.get("/webhooks/<webhook_id>/deliveries")
@documented("A webhook's deliveries and status", auth="merchant", response=Items(OBJECT))
@merchant_required
def list_deliveries(webhook_id: str) -> ResponseReturnValue:
    """Return a webhook's newest deliveries: status, attempts, last response."""
    return jsonify({"items": [webhooks.as_dict(d) for d in webhooks.deliveries(_hook_or_404(webhook_id))]})
