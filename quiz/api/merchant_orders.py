"""The merchant's orders, sent by its own systems with the API key."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from ..models import Merchant
from ..outcomes import events, orders, references
from ..platform.db import transaction
from ..platform.errors import ApiError
from . import bp
from .auth import current_merchant, merchant_required
from .documented import documented
from .openapi_schemas import ORDER
from .outcome_schemas import OrderIn, order_in
from .parsing import json_body


@bp.post("/orders")
@documented(
    "Create or update (`created` says which) an order by order_id; cancelled: true reverses it",
    auth="merchant",
    body=OrderIn,
    response=ORDER,
)
@merchant_required
def post_order(**_: Any) -> ResponseReturnValue:
    """Create or update an order by its ``order_id`` (``created`` says which); a cancellation reverses it."""
    merchant = current_merchant()
    incoming = _incoming(merchant, json_body())
    with transaction():
        order, created = orders.record(merchant, incoming)
        body = {**orders.summary(order), "created": created}
    return jsonify(body)


def _incoming(merchant: Merchant, body: dict[str, Any]) -> orders.IncomingOrder:
    data = order_in.load(body)
    reference = None
    if data["attune_ref"]:
        reference = references.read(data["attune_ref"], merchant.id)
        if reference is None:
            fields = {"attune_ref": ["Not a reference of this shop."]}
            raise ApiError(422, "The attribution reference is not valid.", fields)
    currency = events.shop_currency(merchant)
    if currency and data["currency"] != currency:
        raise ApiError(
            422, "The order is not in this shop's currency.", {"currency": [f"This shop sells in {currency}."]}
        )
    return orders.IncomingOrder(
        order_id=data["order_id"],
        placed_at=data["placed_at"],
        currency=data["currency"],
        total=data["total"],
        items=[orders.Line(i["product_id"], i["quantity"], i["price"]) for i in data["items"]],
        email=data["email"],
        profile_id=data["profile_id"],
        reference=reference,
        cancelled=data["cancelled"],
    )
