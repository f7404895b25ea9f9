"""The JSON API under /api/v1."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import me, merchant_campaigns, merchant_catalog, merchant_quiz, merchant_widget, openapi, shopper  # noqa: E402,F401  (routes register on import)
