"""Merchant API: the quiz definition and stored profiles."""

from __future__ import annotations

from flask import jsonify, request
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError

from .. import quizzes
from ..lifecycle import scores
from ..platform.body_limits import QUIZ_DEFINITION, body_limit
from ..platform.db import transaction
from ..platform.errors import ApiError
from ..privacy import profiles
from . import bp
from .auth import current_merchant, merchant_required
from .documented import documented
from .openapi_schemas import LIVE_QUIZ, OBJECT, PAGE_EXTRA, QUIZ_BODY, VERSION, Items
from .parsing import is_public_id, json_body
from .schemas import PageIn, page_in


@bp.get("/quiz")
@documented("The live quiz definition with its matching signals", auth="merchant", response=LIVE_QUIZ)
@merchant_required
def get_definition() -> ResponseReturnValue:
    """Return the live quiz definition as stored (signals included) and its version."""
    row = quizzes.live_definition(current_merchant())
    return jsonify({"version": row.version, "definition": row.definition})


@bp.put("/quiz")
@documented(
    "Publish a new quiz version: {definition} or the definition itself (422 with a message per path)",
    auth="merchant",
    body=QUIZ_BODY,
    response=VERSION,
    larger_body=True,
)
@body_limit(QUIZ_DEFINITION)
@merchant_required
def put_definition() -> ResponseReturnValue:
    """Publish a new quiz version; 422 with a message per path when it is invalid."""
    body = json_body()
    definition = body.get("definition", body)
    try:
        with transaction():
            row = quizzes.publish(current_merchant(), definition)
    except ValidationError as exc:
        raise ApiError(422, "The quiz definition is invalid; the live quiz is unchanged.", exc.messages) from exc
    return jsonify({"version": row.version})


@bp.get("/profiles")
@documented("Stored profiles (limit, offset)", auth="merchant", query=PageIn, response=Items(OBJECT, PAGE_EXTRA))
@merchant_required
def list_profiles() -> ResponseReturnValue:
    """Return one page of stored profiles."""
    args = page_in.load(request.args)
    rows, total = profiles.page(current_merchant(), args["limit"], args["offset"])
    return jsonify({"items": [profiles.summary(p) for p in rows], "total": total, **args})


@bp.get("/profiles/<profile_id>")
@documented("One stored profile", auth="merchant", response=OBJECT)
@merchant_required
def get_profile(profile_id: str) -> ResponseReturnValue:
    """Return one stored profile with its current consents and its predictive scores (null: never computed)."""
    profile = profiles.get_by_id(current_merchant(), profile_id) if is_public_id(profile_id) else None
    if profile is None:
        raise ApiError(404, "No such profile.")
    return jsonify({**profiles.summary(profile, detail=True), "scores": scores.as_json(scores.for_profile(profile))})
