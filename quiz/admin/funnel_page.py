"""Funnel analytics page: drop-off per question, opt-in rates, time to finish, click-through."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from .. import quizzes
from ..marketing import funnel
from . import bp
from .auth import admin_required, current_merchant
from .ranges import date_range


@bp.get("/funnel")
@admin_required
def funnel_report() -> ResponseReturnValue:
    """Show the quiz funnel for a date range (default: the last 30 days)."""
    start, end, errors = date_range()
    merchant = current_merchant()
    result = funnel.report(merchant, quizzes.live_quiz(merchant), start, end)
    return render_template("admin/funnel.html", merchant=merchant, report=result, errors=errors)
