"""Profiles and segments in the admin: browse profiles, write rule segments with live counts."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError

from ..lifecycle import scores
from ..marketing import campaigns, segments
from ..models import Segment
from ..platform.db import transaction
from ..privacy import profiles
from ..quizzes.store import live_quiz
from ..quizzes.text import definition_text
from . import bp
from .auth import admin_required, current_merchant
from .forms import ActionForm, SegmentForm

PAGE = 50
PICKS = 5
EXAMPLE_RULES = """- kind: consent
  purpose: email
- kind: answer
  question: categories
  values: [outerwear, footwear]
- kind: last_seen
  within_days: 90
"""


def _segment_or_404(segment_id: str) -> Segment:
    segment = segments.get(current_merchant(), segment_id)
    if segment is None:
        abort(404, description="No such segment.")
    return segment


@bp.get("/profiles")
@admin_required
def profile_list() -> ResponseReturnValue:
    """Search stored profiles (name, email, answers), optionally within a segment."""
    merchant = current_merchant()
    query = request.args.get("q", "").strip().lower()
    segment = segments.get(merchant, request.args.get("segment", "")) if request.args.get("segment") else None
    found = segments.members(merchant, segment.rules if segment else [])
    if query:
        found = [p for p in found if query in profiles.search_text(p)]
    offset = max(request.args.get("offset", 0, type=int), 0)
    return render_template(
        "admin/profiles.html",
        merchant=merchant,
        rows=found[offset : offset + PAGE],
        total=len(found),
        offset=offset,
        limit=PAGE,
        query=query,
        segment=segment,
        all_segments=segments.list_segments(merchant),
    )


@bp.get("/profiles/<profile_id>")
@admin_required
def profile_detail(profile_id: str) -> ResponseReturnValue:
    """One profile: answers, consents, segments, intent shifts, scores and its top recommendations now."""
    merchant = current_merchant()
    profile = profiles.get_by_id(merchant, profile_id)
    if profile is None:
        abort(404, description="No such profile.")
    quiz = live_quiz(merchant)
    member_of = [s for s in segments.list_segments(merchant) if profile in segments.members(merchant, s.rules)]
    return render_template(
        "admin/profile.html",
        merchant=merchant,
        profile=profile,
        data=profiles.summary(profile),
        quiz=quiz,
        member_of=member_of,
        picks=campaigns.top_products(merchant, quiz, profile, PICKS),
        score=(score := scores.for_profile(profile)),
        score_explained=scores.explain(score),
    )


@bp.route("/segments", methods=["GET", "POST"])
@bp.route("/segments/<segment_id>", methods=["GET", "POST"])
@admin_required
def segment_editor(segment_id: str | None = None) -> ResponseReturnValue:
    """Write a segment's rules, count its profiles, save it."""
    merchant = current_merchant()
    segment = _segment_or_404(segment_id) if segment_id else None
    form = SegmentForm()
    if not form.is_submitted():
        form.name.data = segment.name if segment else ""
        form.rules.data = definition_text({"rules": segment.rules})[len("rules:\n") :] if segment else EXAMPLE_RULES
    count, status = None, 200
    if form.validate_on_submit() and (definition := form.definition()) is not None:
        try:
            if form.save.data:
                with transaction():
                    saved = segments.save(merchant, definition, segment)
                flash(f"Segment {saved.name!r} saved.")
                return redirect(url_for("admin.segment_editor", segment_id=saved.id))
            count = len(segments.members(merchant, segments.clean(definition, live_quiz(merchant))["rules"]))
        except ValidationError as exc:
            form.show_errors(exc.messages)  # type: ignore[arg-type]
    if form.errors:
        status = 422
    listed = [(s, len(segments.members(merchant, s.rules))) for s in segments.list_segments(merchant)]
    return render_template(
        "admin/segments.html",
        merchant=merchant,
        form=form,
        segment=segment,
        count=count,
        listed=listed,
        delete_form=ActionForm(),
    ), status


@bp.post("/segments/count")
@admin_required
def segment_count() -> ResponseReturnValue:
    """Count what the editor's rules select, as they are typed (JSON, for the live count)."""
    form = SegmentForm()
    form.name.data = "draft"
    definition = form.definition()
    if definition is None:
        return jsonify({"error": form.rules.errors[0], "fields": {"rules": form.rules.errors}}), 422
    try:
        loaded = segments.clean({**definition, "name": "draft"}, live_quiz(current_merchant()))
    except ValidationError as exc:
        return jsonify({"error": "The rules are not valid yet.", "fields": exc.messages}), 422
    return jsonify({"count": len(segments.members(current_merchant(), loaded["rules"]))})


@bp.post("/segments/<segment_id>/delete")
@admin_required
def segment_delete(segment_id: str) -> ResponseReturnValue:
    """Delete a segment; its profiles stay."""
    segment = _segment_or_404(segment_id)
    if not ActionForm().validate_on_submit():
        abort(400, description="The form expired; reload the page and try again.")
    with transaction():
        segments.delete(segment)
    flash("Segment deleted. Its profiles are still there.")
    return redirect(url_for("admin.segment_editor"))
