"""A finished quiz: recommendations for the answers and, with consent, a stored profile."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app

from . import quiz_sessions, webhooks
from .consent import ConsentState
from .db import transaction
from .email_optin import needs_confirmation, request_confirmation
from .explainer import merchant_explainer
from .i18n import current_locale
from .models import Merchant
from .preferences import build_preferences
from .profiles import change_consents, save_response
from .quiz_schema import Quiz
from .recommendations import RecommendationResult, recommend
from .search import recommender_for

CONTACT_ROLES = ("email", "phone")


@dataclass(frozen=True)
class Submission:
    """What a finished quiz produced."""

    profile_id: str | None
    result: RecommendationResult


def submit(
    merchant: Merchant,
    consent: ConsentState,
    quiz: Quiz,
    answers: Mapping[str, Any],
    limit: int,
    *,
    email: str | None = None,
    first_name: str | None = None,
) -> Submission:
    """Recommend for cleaned, complete ``answers`` and keep the profile if consent allows."""
    result = recommend(merchant, quiz, answers, limit)
    first_name = first_name or _answer_with_role(quiz, answers, "first_name")
    email = email or _answer_with_role(quiz, answers, "email")
    with transaction():
        consent = apply_age_rule(merchant, consent, quiz, answers)
        profile = save_response(
            merchant,
            consent,
            quiz.version,
            kept_answers(quiz, answers),
            result.vector,
            first_name=first_name,
            email=email,
            phone=_answer_with_role(quiz, answers, "phone"),
        )
        quiz_sessions.forget(merchant.id, consent.subject_id)  # a quiz saved for later is now done
        _announce(merchant, quiz, profile.id if profile else None)
    if needs_confirmation(profile):
        request_confirmation(merchant, profile, current_locale())
    return Submission(profile.id if profile else None, result)


def store_profile(
    merchant: Merchant,
    consent: ConsentState,
    quiz: Quiz,
    answers: Mapping[str, Any],
    hidden_fields: Mapping[str, str] | None = None,
) -> str | None:
    """Keep a finished quiz as the shopper's profile when consent allows; return its id.

    ``hidden_fields`` are what a partner's widget passed through (a campaign id, say). Without
    `profile` consent nothing is computed or stored.
    """
    with transaction():
        consent = apply_age_rule(merchant, consent, quiz, answers)  # with or without a profile
        if not consent.allows("profile"):
            _announce(merchant, quiz, None)
    if not consent.allows("profile"):
        return None
    vector = recommender_for(merchant).preference_vector(build_preferences(quiz, answers))
    with transaction():
        profile = save_response(
            merchant,
            consent,
            quiz.version,
            kept_answers(quiz, answers),
            vector,
            first_name=_answer_with_role(quiz, answers, "first_name"),
            email=_answer_with_role(quiz, answers, "email"),
            phone=_answer_with_role(quiz, answers, "phone"),
            hidden_fields=hidden_fields,
        )
        _announce(merchant, quiz, profile.id if profile else None)
    if needs_confirmation(profile):
        request_confirmation(merchant, profile, current_locale())
    return profile.id if profile else None


def kept_answers(quiz: Quiz, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Return the answers a profile keeps: all but email and phone, which have consent-checked fields."""
    contact = {q.id for q in quiz.questions() if q.role in CONTACT_ROLES}
    return {qid: value for qid, value in answers.items() if qid not in contact}


def _announce(merchant: Merchant, quiz: Quiz, profile_id: str | None) -> None:
    """Queue the quiz.completed webhook event (no answers: only the profile id, if one is kept)."""
    webhooks.queue(merchant.id, "quiz.completed", {"profile_id": profile_id, "quiz_version": quiz.version})


def _answer_with_role(quiz: Quiz, answers: Mapping[str, Any], role: str) -> str | None:
    return next((answers.get(q.id) for q in quiz.questions() if q.role == role and answers.get(q.id)), None)


def below_consent_age(quiz: Quiz, answers: Mapping[str, Any]) -> bool:
    """Return whether an answer places the shopper below the digital-consent age.

    Age options say so with a ``max_age`` signal (the oldest age in the band).
    """
    limit = current_app.config["DIGITAL_CONSENT_AGE"]
    for question in quiz.questions():
        option = question.option(str(answers.get(question.id))) if question.id in answers else None
        max_age = option.signals.get("max_age") if option else None
        if isinstance(max_age, int) and max_age < limit:
            return True
    return False


def apply_age_rule(merchant: Merchant, consent: ConsentState, quiz: Quiz, answers: Mapping[str, Any]) -> ConsentState:
    """Switch off marketing for shoppers below the digital-consent age (recorded in the ledger)."""
    if not below_consent_age(quiz, answers) or not (consent.allows("email") or consent.allows("sms")):
        return consent
    return change_consents(
        merchant, consent.subject_id, {"email": False, "sms": False}, merchant_explainer(merchant), source="age rule"
    )
