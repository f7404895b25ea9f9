"""Merchant API: shop settings: the add-to-cart address pattern, how long nothing bought is shown again."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields, validate

from ..merchants import cart
from ..models import Merchant
from ..outcomes import bought
from ..platform.db import transaction
from ..platform.errors import ApiError
from ..platform.whole_numbers import WholeNumber
from . import bp
from .auth import current_merchant, merchant_required
from .documented import documented
from .openapi_schemas import SHOP_SETTINGS
from .parsing import json_body

INVALID = "The settings are not valid; nothing was changed."


class SettingsIn(Schema):
    """The settings to change; a field left out stays as it is."""

    cart_url_pattern = fields.String(allow_none=True, validate=validate.Length(max=cart.MAX_LENGTH))
    hide_bought_days = WholeNumber(
        validate=validate.Range(
            0, bought.MAX_HIDE_DAYS, error=f"Give a number of days from 0 (off) to {bought.MAX_HIDE_DAYS}."
        )
    )
    rebuy_categories = fields.List(fields.String(validate=validate.Length(max=500)), validate=validate.Length(max=500))


def _settings(merchant: Merchant) -> dict[str, object]:
    return {
        "cart_url_pattern": merchant.cart_url_pattern,
        "hide_bought_days": merchant.hide_bought_days,
        "rebuy_categories": list(merchant.rebuy_categories or []),
    }


@bp.get("/settings")
@documented(
    "The shop's settings: the add-to-cart address pattern; how many days a bought product stays out of the "
    "buyer's picks and the categories bought again that stay in",
    auth="merchant",
    response=SHOP_SETTINGS,
)
@merchant_required
def get_settings() -> ResponseReturnValue:
    """Return the shop's settings."""
    return jsonify(_settings(current_merchant()))


@bp.patch("/settings")
@documented(
    "Change the shop's settings: cart_url_pattern is an https address with {id} or {sku} (null or blank: none); "
    "hide_bought_days from 0 (off) to 3650; rebuy_categories are categories of the catalog (a top level or a full "
    "path); 422 saying why, nothing changed",
    auth="merchant",
    body=SettingsIn,
    response=SHOP_SETTINGS,
)
@merchant_required
def patch_settings() -> ResponseReturnValue:
    """Change the given settings; 422 with a message per invalid field, nothing changed."""
    data = SettingsIn().load(json_body())
    merchant = current_merchant()
    try:
        with transaction():  # one change: a refused setting leaves the others as they were too
            if "cart_url_pattern" in data:
                cart.set_pattern(merchant, data["cart_url_pattern"])
            if "hide_bought_days" in data or "rebuy_categories" in data:
                bought.change_settings(merchant, data.get("hide_bought_days"), data.get("rebuy_categories"))
    except cart.CartPatternError as exc:
        raise ApiError(422, INVALID, {"cart_url_pattern": [str(exc)]}) from exc
    except bought.BoughtSettingsError as exc:
        raise ApiError(422, INVALID, {name: [message] for name, message in exc.fields.items()}) from exc
    return jsonify(_settings(merchant))
