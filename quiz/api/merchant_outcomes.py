"""The outcome report: quiz-influenced orders and revenue, conversion, per channel and quiz version."""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask.typing import ResponseReturnValue

from ..outcomes import attribution
from . import bp
from .auth import current_merchant, merchant_required
from .documented import documented
from .openapi_schemas import OBJECT
from .outcome_schemas import OutcomesQuery, outcomes_query


@bp.get("/analytics/outcomes")
@documented(
    "Quiz-influenced orders and revenue, conversion, per channel and quiz version, over a date range",
    auth="merchant",
    query=OutcomesQuery,
    response=OBJECT,
)
@merchant_required
def get_outcomes() -> ResponseReturnValue:
    """Return the outcome report of a date range (``from``, ``to``; ``window_days`` optional)."""
    query = outcomes_query.load(request.args.to_dict())
    window = query["window_days"] or current_app.config["ATTRIBUTION_WINDOW_DAYS"]
    return jsonify(attribution.report(current_merchant(), query["from_"], query["to"], window))
