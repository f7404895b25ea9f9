"""Merchant admin pages under /admin."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Routes register on import.
from . import campaigns_page, catalog, clusters_page, explainer_page, funnel_page, keys, quiz_editor  # noqa: E402,F401,I001
from . import segments_page, session, webhooks_page, widget_page  # noqa: E402,F401
