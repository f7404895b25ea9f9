"""Log in, log out, and the dashboard."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from .. import imports, limits, products
from ..accounts import authenticate
from ..db import transaction
from . import bp
from .auth import admin_required, current_merchant, log_in, log_out
from .forms import ActionForm, LoginForm


def _safe_next(target: str | None) -> str:
    """Return ``target`` if it is a path on this site, else the dashboard."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("admin.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@limits.login
def login() -> ResponseReturnValue:
    """Ask for email and password; after too many failures, 429 (quiz.limits, shared by all workers)."""
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        with transaction():
            user = authenticate(form.email.data, form.password.data)
        if user is not None:
            log_in(user)
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors = ["Wrong email or password."]
        status = 401
    elif form.is_submitted():
        status = 400
    return render_template("admin/login.html", form=form), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End the session."""
    if ActionForm().validate_on_submit():
        log_out()
        flash("You are logged out.")
    return redirect(url_for("admin.login"))


@bp.get("/")
@admin_required
def dashboard() -> ResponseReturnValue:
    """Show the catalog's state and the latest imports."""
    merchant = current_merchant()
    _, total = products.page(merchant, 1, 0)
    return render_template(
        "admin/dashboard.html", merchant=merchant, product_count=total, recent=imports.list_imports(merchant, 5)
    )
