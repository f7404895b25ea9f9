"""Liveness probe."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from .search import EXTENSION

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """Say the process is alive, and how many merchant indexes it has loaded."""
    state = current_app.extensions[EXTENSION]
    return jsonify({"status": "ok", "indexes_loaded": len(state.catalogs)})
