"""Reading request bodies."""

from __future__ import annotations

from typing import Any

from flask import request

from ..errors import ApiError


def json_body() -> dict[str, Any]:
    """Return the request's JSON object, or answer 400 saying what to send."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # absurdly deep nesting: refuse like any other bad body
        body = None
    if not isinstance(body, dict):
        raise ApiError(400, "Send a JSON object with Content-Type: application/json.")
    return body
