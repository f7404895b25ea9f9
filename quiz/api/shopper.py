"""Shopper endpoints of a merchant: quiz, consent, recommendations, responses."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import current_app, jsonify
from flask.typing import ResponseReturnValue

from .. import merchants, quizzes
from ..catalog.engine import get_embedder
from ..marketing import funnel
from ..models import Merchant
from ..outcomes import clicks, experiments
from ..outcomes.bought import hidden_products as bought_products
from ..platform import limits
from ..platform.db import transaction
from ..platform.errors import ApiError
from ..platform.i18n import current_locale
from ..privacy.consent import ConsentState, record_decision
from ..privacy.contact_questions import without_unasked
from ..privacy.explainer import merchant_explainer
from ..quizzes.answers import clean_answers
from ..quizzes.schema import Quiz
from ..shopping import run
from ..shopping.recommendations import recommend
from ..shopping.responses import below_consent_age
from ..shopping.subjects import Subject, issue_token
from . import bp
from .auth import current_subject, subject_required
from .documented import documented
from .openapi_schemas import CONSENT, EXPLAINER, Items
from .parsing import json_body
from .schemas import (
    ConsentIn,
    ItemOut,
    QuizOut,
    RecommendationsIn,
    ResponsesIn,
    consent_in,
    items_out,
    quiz_out,
    recommendations_in,
    responses_in,
)


def _merchant_for_subject(slug: str) -> Merchant:
    merchant = merchants.get_or_404(slug)
    subject, consent = current_subject()
    if subject.merchant_id != merchant.id:
        raise ApiError(403, "This token belongs to another merchant.")
    if not consent.allows("recommendations"):
        raise ApiError(403, "Recommendations need the 'recommendations' consent.")
    return merchant


def _asked(quiz: Quiz, answers: dict[str, Any], consent: ConsentState) -> dict[str, Any]:
    """Return the answers to questions this shopper is asked (no address for a channel they refused)."""
    return without_unasked(quiz, answers, consent, below_consent_age(quiz, answers))


def _limit(requested: int | None) -> int:
    return requested or current_app.config["RECOMMENDATION_LIMIT"]


@bp.get("/m/<slug>/quiz")
@documented("The merchant's live quiz", response=QuizOut)
def get_quiz(slug: str) -> ResponseReturnValue:
    """Return the merchant's live quiz as shoppers of the request's language read it."""
    quiz = quizzes.live_quiz(merchants.get_or_404(slug))
    return jsonify(quiz_out.dump(quiz.localized(current_locale())))


@bp.get("/m/<slug>/explainer")
@documented("Consent explainer text, version and SHA-256", response=EXPLAINER)
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
@documented(
    "Record a consent decision; returns the subject token",
    body=ConsentIn,
    status=201,
    response=CONSENT,
    limited=True,
)
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
    version = experiments.version_for(merchant, record.subject_id)
    funnel.count(merchant.id, funnel.decision_events(record.purposes, "api", version))
    token = issue_token(Subject(record.subject_id, merchant.id))
    return jsonify({"subject_token": token, "purposes": record.purposes, "explainer_version": explainer.version}), 201


def _refuse_when_busy(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    """Answer 503 busy at once, past the encoder's admission bound, before the view reads anything.

    Token, consent, merchant and quiz are all database reads: under overload a refusal skips them
    and leaves the CPU to the requests let in (the encoder checks again when the text is queued).
    """

    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        get_embedder().check_admission()
        return view(*args, **kwargs)

    return checked


@bp.post("/m/<slug>/recommendations")
@documented(
    "Recommendations for (partial) answers",
    auth="subject",
    body=RecommendationsIn,
    response=Items(ItemOut, (("took_ms", "number"),)),
    limited=True,
)
@limits.recommendations
@_refuse_when_busy
@subject_required
def post_recommendations(slug: str) -> ResponseReturnValue:
    """Return recommendations for (possibly partial) answers; nothing is stored."""
    merchant = _merchant_for_subject(slug)
    data = recommendations_in.load(json_body())
    _, consent = current_subject()
    quiz = experiments.quiz_for(merchant, consent.subject_id)
    answers = clean_answers(quiz, _asked(quiz, data["answers"], consent), complete=False)
    exclude = [*data["exclude"], *bought_products(merchant, subject_id=consent.subject_id)]
    result = recommend(
        merchant, quiz, answers, _limit(data["limit"]), exclude, data["diverse"], subject_id=consent.subject_id
    )
    return jsonify({"items": items_out.dump(result.items), "took_ms": round(result.took_ms, 2)})


@bp.post("/m/<slug>/responses")
@documented(
    "Submit a finished quiz; stores a profile with consent",
    auth="subject",
    body=ResponsesIn,
    status=201,
    response=Items(ItemOut, (("profile_id", ["string", "null"]),)),
    limited=True,
)
@limits.recommendations
@_refuse_when_busy
@subject_required
def post_responses(slug: str) -> ResponseReturnValue:
    """Submit a finished quiz: recommendations, plus a stored profile when consented."""
    merchant = _merchant_for_subject(slug)
    data = responses_in.load(json_body())
    _, consent = current_subject()
    quiz = experiments.quiz_for(merchant, consent.subject_id)
    limit = _limit(data["limit"])
    email, first_name = data["email"], data["first_name"]
    done = run.finish(merchant, consent, quiz, data["answers"], limit, email=email, first_name=first_name)
    with transaction():  # the picks shown, on the profile's timeline (with `profile` consent)
        shown = [r.item.external_id for r in done.items]
        clicks.note_recommended(merchant, consent, shown, "api", quiz.version)
    sections = [f"section:{s.id}" for s in quiz.sections]
    completed = funnel.run_events("complete", "api", quiz.version)
    shown = funnel.shown_events(quiz, done.answers)
    answered = (f"answered:{qid}" for qid in done.answers)
    funnel.count(merchant.id, [*completed, *sections, *answered, *shown])
    return jsonify({"profile_id": done.profile_id, "items": items_out.dump(done.items)}), 201
