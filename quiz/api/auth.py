"""Bearer subject tokens for the shopper API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request

from ..consent import ConsentState, current_state
from ..errors import ApiError
from ..subjects import Subject, read_token

F = TypeVar("F", bound=Callable[..., Any])


def bearer_token() -> str | None:
    """Return the token of an ``Authorization: Bearer`` header, if present."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def subject_required(view: F) -> F:
    """Require a valid subject token; puts ``g.subject`` and ``g.consent`` in place."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        token = bearer_token()
        if token is None:
            raise ApiError(401, "Send the subject token from POST /consents as 'Authorization: Bearer TOKEN'.")
        subject = read_token(token)
        if subject is None:
            raise ApiError(401, "The subject token is not valid.")
        state = current_state(subject.merchant_id, subject.subject_id)
        if state is None:
            raise ApiError(401, "No consent decision is recorded for this token.")
        g.subject, g.consent = subject, state
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def current_subject() -> tuple[Subject, ConsentState]:
    """Return the subject and consent state set by :func:`subject_required`."""
    return g.subject, g.consent
