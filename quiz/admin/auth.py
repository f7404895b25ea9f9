"""The admin session: who is logged in, and the decorator that requires it.

The cookie holds the id of a login recorded on the server (quiz/merchants/admin_logins.py), never the
admin's id: a login that was ended (logout, password change, "log out everywhere") or has
outlived ``PERMANENT_SESSION_LIFETIME`` opens nothing, even with a cookie copied before.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, redirect, request, session, url_for

from ..merchants import admin_logins
from ..models import AdminLogin, AdminUser, Merchant
from ..platform.db import get_session, transaction

F = TypeVar("F", bound=Callable[..., Any])
SESSION_KEY = "attune.admin"


def log_in(user: AdminUser) -> None:
    """Start a fresh session for ``user`` (a new session, so no fixation) and record its login."""
    login_id = admin_logins.start(user)
    session.clear()
    session[SESSION_KEY] = login_id
    session.permanent = True


def log_out() -> None:
    """End this browser's login on the server and clear the session."""
    login = _current_login()
    if login is not None:
        with transaction():
            admin_logins.end(login)
    session.clear()


def _current_login() -> AdminLogin | None:
    login_id = session.get(SESSION_KEY)
    if not isinstance(login_id, str) or not login_id:
        return None
    return admin_logins.find_active(login_id, current_app.permanent_session_lifetime)


def admin_required(view: F) -> F:
    """Require a live admin login; puts ``g.admin``, ``g.admin_login`` and ``g.merchant`` in place."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        login = _current_login()
        if login is None:
            session.pop(SESSION_KEY, None)
            return redirect(url_for("admin.login", next=request.path))
        with transaction():
            admin_logins.touch(login)
        g.admin_login = login
        g.admin = get_session().get(AdminUser, login.admin_user_id)
        g.merchant = get_session().get(Merchant, g.admin.merchant_id)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def current_merchant() -> Merchant:
    """Return the logged-in admin's merchant."""
    merchant: Merchant = g.merchant
    return merchant


def current_admin() -> AdminUser:
    """Return the logged-in admin."""
    admin: AdminUser = g.admin
    return admin


def current_login() -> AdminLogin:
    """Return the login this request belongs to."""
    login: AdminLogin = g.admin_login
    return login
