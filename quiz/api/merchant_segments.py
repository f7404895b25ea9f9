"""Merchant API: rule segments of stored profiles, with live counts."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError

from ..marketing import segments
from ..models import Segment
from ..platform.db import transaction
from ..platform.errors import ApiError
from ..quizzes.store import live_quiz
from . import bp
from .auth import current_merchant, merchant_required
from .documented import documented
from .openapi_schemas import COUNT, SEGMENT, SEGMENT_MEMBERS, Items
from .parsing import is_public_id, json_body


def _segment_or_404(segment_id: str) -> Segment:
    segment = segments.get(current_merchant(), segment_id) if is_public_id(segment_id) else None
    if segment is None:
        raise ApiError(404, "No such segment.")
    return segment


def _invalid(exc: ValidationError) -> ApiError:
    return ApiError(422, "The segment is invalid; nothing was saved.", exc.messages)


@bp.get("/segments")
@documented("Saved segments with their sizes", auth="merchant", response=Items(SEGMENT))
@merchant_required
def list_segments() -> ResponseReturnValue:
    """Return the saved segments with their current sizes."""
    merchant = current_merchant()
    return jsonify(
        {
            "items": [
                segments.as_dict(s, len(segments.members(merchant, s.rules))) for s in segments.list_segments(merchant)
            ]
        }
    )


@bp.post("/segments/count")
@documented(
    "Count the profiles rules select, unsaved",
    auth="merchant",
    body=segments.SegmentSchema,
    defaulted=("name",),
    response=COUNT,
)
@merchant_required
def count_segment() -> ResponseReturnValue:
    """Count the profiles rules would select, without saving them (for live counts while editing)."""
    merchant = current_merchant()
    body = json_body()
    try:
        loaded = segments.clean({"name": "draft", **body}, live_quiz(merchant))
    except ValidationError as exc:
        raise _invalid(exc) from exc
    return jsonify({"count": len(segments.members(merchant, loaded["rules"]))})


@bp.post("/segments")
@documented(
    "Save a segment (422 with a message per path)",
    auth="merchant",
    body=segments.SegmentSchema,
    status=201,
    response=SEGMENT,
)
@merchant_required
def create_segment() -> ResponseReturnValue:
    """Save a new segment; 422 with a message per path when invalid."""
    try:
        with transaction():
            segment = segments.save(current_merchant(), json_body())
    except ValidationError as exc:
        raise _invalid(exc) from exc
    return jsonify(segments.as_dict(segment, len(segments.members(current_merchant(), segment.rules)))), 201


@bp.get("/segments/<segment_id>")
@documented("A segment, its size and members", auth="merchant", response=SEGMENT_MEMBERS)
@merchant_required
def get_segment(segment_id: str) -> ResponseReturnValue:
    """Return a segment, its size and its members' profile ids."""
    segment = _segment_or_404(segment_id)
    found = segments.members(current_merchant(), segment.rules)
    return jsonify({**segments.as_dict(segment, len(found)), "profile_ids": [p.id for p in found]})


@bp.put("/segments/<segment_id>")
@documented("Replace a segment", auth="merchant", body=segments.SegmentSchema, response=SEGMENT)
@merchant_required
def update_segment(segment_id: str) -> ResponseReturnValue:
    """Replace a segment's name and rules."""
    segment = _segment_or_404(segment_id)
    try:
        with transaction():
            segments.save(current_merchant(), json_body(), segment)
    except ValidationError as exc:
        raise _invalid(exc) from exc
    return jsonify(segments.as_dict(segment, len(segments.members(current_merchant(), segment.rules))))


@bp.delete("/segments/<segment_id>")
@documented("Delete a segment", auth="merchant", status=204)
@merchant_required
def delete_segment(segment_id: str) -> ResponseReturnValue:
    """Delete a segment (its profiles stay)."""
    segment = _segment_or_404(segment_id)
    with transaction():
        segments.delete(segment)
    return "", 204
