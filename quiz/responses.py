"""A finished quiz: recommendations for the answers and, with consent, a stored profile."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .consent import ConsentState
from .db import transaction
from .models import Merchant
from .profiles import save_response
from .quiz_schema import Quiz
from .recommendations import RecommendationResult, recommend


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
    if first_name is None:
        first_name = next((answers.get(q.id) for q in quiz.questions() if q.role == "first_name"), None)
    with transaction():
        profile = save_response(
            merchant, consent, quiz.version, answers, result.vector, first_name=first_name, email=email
        )
    return Submission(profile.id if profile else None, result)
