"""Merchant API: consent-clean campaign exports."""

from __future__ import annotations

from flask import request
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields, validate

from ..marketing import campaigns, segments
from ..platform.downloads import attachment
from ..platform.errors import ApiError
from . import bp
from .auth import current_merchant, merchant_required
from .documented import documented
from .openapi_schemas import CSV
from .parsing import is_public_id


class ExportIn(Schema):
    """What to export: a channel, a file format and how many products per shopper."""

    channel = fields.String(required=True, validate=validate.OneOf(campaigns.CHANNELS))
    format = fields.String(load_default="csv", validate=validate.OneOf(("csv", "json")))
    products = fields.Integer(load_default=3, validate=validate.Range(0, campaigns.MAX_PRODUCTS))
    segment = fields.String(load_default=None, validate=validate.Length(max=32))


@bp.get("/campaigns/export")
@documented(
    "Download everyone who may be contacted on a channel now (?channel=email|sms&format=csv|json&products=3)",
    auth="merchant",
    query=ExportIn,
    media=(CSV, "application/json"),
)
@merchant_required
def export_campaign() -> ResponseReturnValue:
    """Download everyone the merchant may contact on a channel now (CSV for Klaviyo or Mailchimp, or JSON)."""
    query = ExportIn().load(request.args.to_dict())
    merchant = current_merchant()
    segment = segments.get(merchant, query["segment"]) if is_public_id(query["segment"]) else None
    if query["segment"] and segment is None:
        raise ApiError(404, "No such segment.")
    export = campaigns.export(merchant, query["channel"], query["format"], query["products"], segment)
    return attachment(export.body, export.mimetype, export.filename)
