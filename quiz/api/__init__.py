"""The JSON API under /api/v1."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Routes register on import.
from . import me, merchant_campaigns, merchant_catalog, merchant_clusters, merchant_quiz  # noqa: E402,F401,I001
from . import merchant_orders, merchant_segments, merchant_webhooks, merchant_widget  # noqa: E402,F401,I001
from . import merchant_experiments, merchant_journeys, merchant_outcomes, merchant_settings  # noqa: E402,F401
from . import openapi, shop_events, shopper  # noqa: E402,F401
