"""Merchant admin pages under /admin."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Routes register on import.
from . import account_page, campaigns_page, catalog, clusters_page, explainer_page, funnel_page, keys, quiz_editor  # noqa: E402,F401,I001
from . import docs_page, quiz_builder, segments_page, session, settings_page, webhooks_page, widget_page  # noqa: E402,F401
from . import experiments_page, outcomes_page  # noqa: E402,F401
