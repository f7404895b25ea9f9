"""What the shopper side tells the platform below it, once per app: who a request's shopper is
(the per-shopper rate limits count by it) and that an error page rendered (the widget tells its
host page). The platform asks through these hooks and never imports the shopper pages.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request

from ..platform import errors, limits
from ..platform.bearer import bearer_token
from ..shopping.subjects import read_token
from .channel import emit
from .state import load_progress


def install(app: Flask) -> None:
    """Register the shopper's hooks on ``app``."""
    limits.count_shoppers_by(app, subject_of_request)
    errors.error_page.connect(_tell_host_of_error, sender=app)


def subject_of_request() -> str | None:
    """Return the subject id of the request's shopper: a token in the URL, a bearer token, or the quiz state."""
    args = request.view_args or {}
    token = args.get("token") or bearer_token()
    if token is None and "slug" in args:
        progress = load_progress(args["slug"])
        token = progress.token if progress else None
    subject = read_token(token) if token else None
    return subject.subject_id if subject else None


def _tell_host_of_error(sender: Flask, code: int, message: str, **extra: Any) -> None:
    emit("error", status=code, message=message)
