"""Log in, log out, and the dashboard."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from .. import quizzes
from ..catalog import imports, products
from ..marketing import funnel
from ..merchants import first_run
from ..merchants.accounts import authenticate
from ..platform import limits
from ..platform.db import transaction
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
    """Ask for email and password; after too many failures, 429 (quiz.platform.limits, shared by all workers)."""
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        with transaction():
            user = authenticate(form.email.data, form.password.data)
            if user is not None:
                log_in(user)
        if user is not None:
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors = ["Wrong email or password."]
        status = 401
    elif form.is_submitted():
        status = 400
    return render_template("admin/login.html", form=form), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End this login on the server (a copy of the cookie opens nothing afterwards) and the session."""
    if ActionForm().validate_on_submit():
        log_out()
        flash("You are logged out.")
    return redirect(url_for("admin.login"))


@bp.get("/")
@admin_required
def dashboard() -> ResponseReturnValue:
    """Show the first-run checklist (until it is done), the catalog's state and the latest imports."""
    merchant = current_merchant()
    _, total = products.page(merchant, 1, 0)
    steps = first_run.checklist(merchant)
    try:
        numbers = funnel.overview(merchant, quizzes.live_quiz(merchant), dt.datetime.now(dt.UTC).date())
    except quizzes.NoQuiz:
        numbers = []
    return render_template(
        "admin/dashboard.html",
        merchant=merchant,
        numbers=numbers,
        product_count=total,
        recent=imports.list_imports(merchant, 5),
        first_run=None if first_run.is_complete(steps) else steps,
        action_form=ActionForm(),
    )


@bp.post("/first-run/quiz-reviewed")
@admin_required
def quiz_reviewed() -> ResponseReturnValue:
    """Tick "quiz reviewed" on the first-run checklist."""
    if ActionForm().validate_on_submit():
        with transaction():
            first_run.mark_quiz_reviewed(current_merchant())
        flash("Quiz marked as reviewed.")
    return redirect(url_for("admin.dashboard"))
