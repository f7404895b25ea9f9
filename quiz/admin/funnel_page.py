"""Funnel analytics page: drop-off per question, opt-in rates, time to finish, click-through."""

from __future__ import annotations

import datetime as dt

from flask import render_template, request
from flask.typing import ResponseReturnValue

from .. import funnel, quizzes
from . import bp
from .auth import admin_required, current_merchant

DEFAULT_DAYS = 30


def _date(name: str, default: dt.date) -> tuple[dt.date, str | None]:
    raw = request.args.get(name, "")
    if not raw:
        return default, None
    try:
        return dt.date.fromisoformat(raw), None
    except ValueError:
        return default, f"'{raw[:20]}' is not a date like 2026-11-23; showing the default."


@bp.get("/funnel")
@admin_required
def funnel_report() -> ResponseReturnValue:
    """Show the quiz funnel for a date range (default: the last 30 days)."""
    today = dt.datetime.now(dt.UTC).date()
    end, end_error = _date("to", today)
    start, start_error = _date("from", end - dt.timedelta(days=DEFAULT_DAYS - 1))
    errors = [e for e in (start_error, end_error) if e]
    if start > end:
        start, end = end, start
    merchant = current_merchant()
    result = funnel.report(merchant, quizzes.live_quiz(merchant), start, end)
    return render_template("admin/funnel.html", merchant=merchant, report=result, errors=errors)
