"""A finished quiz kept as the shopper's profile (with consent), and the age rule it applies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from flask import current_app

from ..merchants import webhooks
from ..models import Merchant
from ..platform.db import transaction
from ..platform.i18n import current_locale
from ..privacy.consent import ConsentState
from ..privacy.email_optin import needs_confirmation, request_confirmation
from ..privacy.explainer import merchant_explainer
from ..privacy.profiles import change_consents, save_response
from ..quizzes.schema import Quiz

CONTACT_ROLES = ("email", "phone")


def keep_profile(
    merchant: Merchant,
    consent: ConsentState,
    quiz: Quiz,
    answers: Mapping[str, Any],
    vector: np.ndarray | None,
    *,
    hidden_fields: Mapping[str, str] | None = None,
    email: str | None = None,
    first_name: str | None = None,
) -> str | None:
    """Keep cleaned, complete ``answers`` and their ``vector`` as the shopper's profile when consent allows.

    Returns the profile's id, or None when `profile` is not granted (nothing is stored then).
    ``hidden_fields`` are what a partner's widget passed through (a campaign id, say); ``email``
    and ``first_name``, when given, stand before the answers with those roles. Below the
    digital-consent age marketing is switched off first; the quiz.completed webhook event is
    queued either way.
    """
    with transaction():
        consent = apply_age_rule(merchant, consent, quiz, answers)  # with or without a profile
        profile = save_response(
            merchant,
            consent,
            quiz.version,
            kept_answers(quiz, answers),
            vector,
            first_name=first_name or _answer_with_role(quiz, answers, "first_name"),
            email=email or _answer_with_role(quiz, answers, "email"),
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
