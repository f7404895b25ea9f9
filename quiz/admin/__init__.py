"""Merchant admin pages under /admin."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import campaigns_page, catalog, funnel_page, keys, quiz_editor, segments_page, session, widget_page  # noqa: E402,F401  (routes register on import)
