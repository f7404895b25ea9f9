"""A finished quiz: recommendations for the answers and, with consent, a stored profile."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .consent import ConsentState
from .db import transaction
from .models import Merchant
from .preferences import build_preferences
from .profiles import save_response
from .quiz_schema import Quiz
from .recommendations import RecommendationResult, recommend
from .search import recommender_for


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
        profile = save_response(
            merchant, consent, quiz.version, answers, result.vector, first_name=first_name, email=email
        )
    return Submission(profile.id if profile else None, result)


def store_profile(merchant: Merchant, consent: ConsentState, quiz: Quiz, answers: Mapping[str, Any]) -> str | None:
    """Keep a finished quiz as the shopper's profile when consent allows; return its id.

    Without `profile` consent nothing is computed or stored.
    """
    if not consent.allows("profile"):
        return None
    vector = recommender_for(merchant).preference_vector(build_preferences(quiz, answers))
    with transaction():
        profile = save_response(
            merchant,
            consent,
            quiz.version,
            answers,
            vector,
            first_name=_answer_with_role(quiz, answers, "first_name"),
            email=_answer_with_role(quiz, answers, "email"),
        )
    return profile.id if profile else None


def _answer_with_role(quiz: Quiz, answers: Mapping[str, Any], role: str) -> str | None:
    return next((answers.get(q.id) for q in quiz.questions() if q.role == role and answers.get(q.id)), None)
