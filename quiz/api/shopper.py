"""Shopper endpoints of a merchant: quiz, consent, recommendations, responses."""

from __future__ import annotations

from flask import current_app, jsonify
from flask.typing import ResponseReturnValue

from .. import funnel, limits, merchants, quizzes
from ..answers import clean_answers
from ..consent import record_decision
from ..db import transaction
from ..errors import ApiError
from ..explainer import merchant_explainer
from ..i18n import current_locale
from ..models import Merchant
from ..recommendations import recommend
from ..responses import submit
from ..subjects import Subject, issue_token
from . import bp
from .auth import current_subject, subject_required
from .parsing import json_body
from .schemas import consent_in, items_out, quiz_out, recommendations_in, responses_in


def _merchant_for_subject(slug: str) -> Merchant:
    merchant = merchants.get_or_404(slug)
    subject, consent = current_subject()
    if subject.merchant_id != merchant.id:
        raise ApiError(403, "This token belongs to another merchant.")
    if not consent.allows("recommendations"):
        raise ApiError(403, "Recommendations need the 'recommendations' consent.")
    return merchant


def _limit(requested: int | None) -> int:
    return requested or current_app.config["RECOMMENDATION_LIMIT"]


@bp.get("/m/<slug>/quiz")
def get_quiz(slug: str) -> ResponseReturnValue:
    """Return the merchant's live quiz as shoppers of the request's language read it."""
    quiz = quizzes.live_quiz(merchants.get_or_404(slug))
    return jsonify(quiz_out.dump(quiz.localized(current_locale())))


@bp.get("/m/<slug>/explainer")
def get_explainer(slug: str) -> ResponseReturnValue:
    """Return the consent explainer text, its version and the SHA-256 recorded with decisions."""
    merchant = merchants.get_or_404(slug)
    explainer = merchant_explainer(merchant)
    return jsonify(
        {
            "version": explainer.version,
            "locale": explainer.locale,
            "sha256": explainer.sha256,
            "text": explainer.text,
            "purposes": [p.__dict__ for p in explainer.purposes],
        }
    )


@bp.post("/m/<slug>/consents")
@limits.consent_decision
def post_consents(slug: str) -> ResponseReturnValue:
    """Record a consent decision and return the subject token that carries it."""
    merchant = merchants.get_or_404(slug)
    data = consent_in.load(json_body())
    explainer = merchant_explainer(merchant, data["locale"])
    if data["explainer_version"] not in (None, explainer.version):
        raise ApiError(
            422,
            "The explainer changed; show the current one and ask again.",
            {"explainer_version": [f"Current version is {explainer.version}."]},
        )
    with transaction():
        record = record_decision(merchant, data["purposes"], explainer, source="api")
    funnel.count(merchant.id, funnel.decision_events(record.purposes))
    token = issue_token(Subject(record.subject_id, merchant.id))
    return jsonify({"subject_token": token, "purposes": record.purposes, "explainer_version": explainer.version}), 201


@bp.post("/m/<slug>/recommendations")
@limits.recommendations
@subject_required
def post_recommendations(slug: str) -> ResponseReturnValue:
    """Return recommendations for (possibly partial) answers; nothing is stored."""
    merchant = _merchant_for_subject(slug)
    data = recommendations_in.load(json_body())
    quiz = quizzes.live_quiz(merchant)
    answers = clean_answers(quiz, data["answers"], complete=False)
    result = recommend(merchant, quiz, answers, _limit(data["limit"]), data["exclude"], data["diverse"])
    return jsonify({"items": items_out.dump(result.items), "took_ms": round(result.took_ms, 2)})


@bp.post("/m/<slug>/responses")
@limits.recommendations
@subject_required
def post_responses(slug: str) -> ResponseReturnValue:
    """Submit a finished quiz: recommendations, plus a stored profile when consented."""
    merchant = _merchant_for_subject(slug)
    data = responses_in.load(json_body())
    quiz = quizzes.live_quiz(merchant)
    answers = clean_answers(quiz, data["answers"], complete=True)
    _, consent = current_subject()
    submission = submit(
        merchant, consent, quiz, answers, _limit(data["limit"]), email=data["email"], first_name=data["first_name"]
    )
    sections = [f"section:{s.id}" for s in quiz.sections]
    funnel.count(merchant.id, ["complete", *sections, *(f"answered:{qid}" for qid in answers)])
    return jsonify({"profile_id": submission.profile_id, "items": items_out.dump(submission.result.items)}), 201
