"""The token of an ``Authorization: Bearer`` header (API keys, subject tokens, the metrics token)."""

from __future__ import annotations

from flask import request


def bearer_token() -> str | None:
    """Return the token of an ``Authorization: Bearer`` header, if present."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
