"""The admin's own account: active logins, password change, "log out everywhere"."""

from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from ..merchants import accounts, admin_logins
from ..platform import limits
from ..platform.db import transaction
from . import bp
from .auth import admin_required, current_admin, current_login, current_merchant, log_in, log_out
from .forms import ActionForm, PasswordForm


def _account_page(form: PasswordForm | None = None, status: int = 200) -> ResponseReturnValue:
    admin = current_admin()
    lifetime = current_app.permanent_session_lifetime
    logins = admin_logins.active(admin, lifetime)
    return (
        render_template(
            "admin/account.html",
            merchant=current_merchant(),
            admin=admin,
            logins=logins,
            lifetime_hours=lifetime.total_seconds() / 3600,
            this_login=current_login(),
            form=form or PasswordForm(),
            action=ActionForm(),
        ),
        status,
    )


@bp.get("/account")
@admin_required
def account() -> ResponseReturnValue:
    """Show the admin's active logins, the password form and "log out everywhere"."""
    return _account_page()


@bp.post("/account/password")
@admin_required
@limits.password_check
def account_password() -> ResponseReturnValue:
    """Change the password; every other login of this admin ends, this one goes on under a new id.

    The new id matters when the cookie of this very browser was copied: the copy ends too.
    """
    form = PasswordForm()
    if not form.validate_on_submit():
        return _account_page(form, 400 if form.csrf_token.errors else 422)
    admin = current_admin()
    if not accounts.password_matches(admin, form.current_password.data):
        g.wrong_password = True  # counted by limits.password_check
        form.current_password.errors = ["This is not your current password."]
        return _account_page(form, 422)
    if form.new_password.data == form.current_password.data:
        form.new_password.errors = ["The new password must differ from the current one."]
        return _account_page(form, 422)
    with transaction():
        accounts.set_password(admin, form.new_password.data)
        ended = admin_logins.end_all(admin, keep=current_login())
        admin_logins.end(current_login())
        log_in(admin)
    flash(f"Your password was changed. {_sessions(ended)} ended.")
    return redirect(url_for("admin.account"))


@bp.post("/account/logout-everywhere")
@admin_required
def account_logout_everywhere() -> ResponseReturnValue:
    """End every login of this admin, this one included."""
    if not ActionForm().validate_on_submit():
        abort(400, description="The form expired; reload the page and try again.")
    with transaction():
        admin_logins.end_all(current_admin())
    log_out()
    flash("You are logged out everywhere.")
    return redirect(url_for("admin.login"))


def _sessions(count: int) -> str:
    if count == 0:
        return "No other session"
    return "1 other session" if count == 1 else f"{count} other sessions"
