"""Merchant API: the partner sites allowed to embed the quiz widget, and the snippet they paste."""

from __future__ import annotations

from flask import jsonify, url_for
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields, validate

from ..merchants import partners
from ..platform.db import transaction
from ..platform.errors import ApiError
from ..shopper.widget import embed_version
from . import bp
from .auth import current_merchant, merchant_required
from .documented import documented
from .openapi_schemas import WIDGET
from .parsing import json_body


class OriginsIn(Schema):
    """The full list of partner origins ("https://shop.example")."""

    origins = fields.List(fields.String(validate=validate.Length(max=300)), required=True)


def _widget_body() -> dict[str, object]:
    merchant = current_merchant()
    script = url_for("shopper.embed_script", v=embed_version(), _external=True)
    return {"origins": list(merchant.partner_origins), "script": script, "snippet": partners.snippet(merchant, script)}


@bp.get("/widget")
@documented("Partner origins allowed to embed the widget, and the snippet", auth="merchant", response=WIDGET)
@merchant_required
def get_widget() -> ResponseReturnValue:
    """Return the allowed partner origins, the script URL and the snippet to paste."""
    return jsonify(_widget_body())


@bp.put("/widget/origins")
@documented(
    "Replace the allowed partner origins (422 naming each invalid one)",
    auth="merchant",
    body=OriginsIn,
    response=WIDGET,
)
@merchant_required
def put_origins() -> ResponseReturnValue:
    """Replace the allowed partner origins; 422 naming each invalid one, nothing changed."""
    data = OriginsIn().load(json_body())
    try:
        with transaction():
            partners.set_origins(current_merchant(), data["origins"])
    except partners.OriginError as exc:
        raise ApiError(422, "Some origins are not valid; nothing was changed.", exc.fields) from exc
    return jsonify(_widget_body())
