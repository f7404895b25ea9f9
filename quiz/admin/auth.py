"""The admin session: who is logged in, and the decorator that requires it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, redirect, request, session, url_for

from ..db import get_session
from ..models import AdminUser, Merchant

F = TypeVar("F", bound=Callable[..., Any])
SESSION_KEY = "attune.admin"


def log_in(user: AdminUser) -> None:
    """Start a fresh session for ``user`` (a new session, so no fixation)."""
    session.clear()
    session[SESSION_KEY] = user.id
    session.permanent = True


def log_out() -> None:
    """End the admin session."""
    session.clear()


def admin_required(view: F) -> F:
    """Require a logged-in admin; puts ``g.admin`` and ``g.merchant`` in place."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        user_id = session.get(SESSION_KEY)
        user = get_session().get(AdminUser, user_id) if isinstance(user_id, int) else None
        if user is None:
            return redirect(url_for("admin.login", next=request.path))
        g.admin = user
        g.merchant = get_session().get(Merchant, user.merchant_id)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def current_merchant() -> Merchant:
    """Return the logged-in admin's merchant."""
    merchant: Merchant = g.merchant
    return merchant
