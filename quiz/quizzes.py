"""Quiz definitions of a merchant: the live version, publishing, and the default quiz."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from flask import current_app

from .db import get_session
from .models import Merchant, QuizDefinition
from .quiz_schema import Quiz, load_quiz

DEFAULT_QUIZ = Path(__file__).parent / "content" / "default_quiz.yaml"
CACHE = "attune.quizzes"


class NoQuiz(LookupError):
    """The merchant has no quiz definition."""


def default_definition() -> dict[str, Any]:
    """Return the raw default quiz that new merchants start from."""
    data: dict[str, Any] = yaml.safe_load(DEFAULT_QUIZ.read_text(encoding="utf-8"))
    return data


def publish(merchant: Merchant, definition: Mapping[str, Any]) -> QuizDefinition:
    """Validate ``definition`` and store it as the merchant's next, live version.

    Raises:
        marshmallow.ValidationError: with dotted paths; nothing is stored.
    """
    quiz = load_quiz(definition)
    session = get_session()
    latest = session.scalar(
        sa.select(sa.func.max(QuizDefinition.version)).where(QuizDefinition.merchant_id == merchant.id)
    )
    row = QuizDefinition(
        merchant_id=merchant.id, version=(latest or 0) + 1, locale=quiz.locale, definition=dict(definition)
    )
    session.add(row)
    session.flush()
    return row


def live_definition(merchant: Merchant) -> QuizDefinition:
    """Return the stored row of the merchant's live quiz."""
    row = get_session().scalar(
        sa.select(QuizDefinition)
        .where(QuizDefinition.merchant_id == merchant.id)
        .order_by(QuizDefinition.version.desc())
        .limit(1)
    )
    if row is None:
        raise NoQuiz(f"{merchant.name} has no quiz yet")
    return row


def live_quiz(merchant: Merchant) -> Quiz:
    """Return the merchant's live quiz, loaded (cached per stored version)."""
    row = live_definition(merchant)
    cache: dict[int, Quiz] = current_app.extensions.setdefault(CACHE, {})
    quiz = cache.get(row.id)
    if quiz is None:
        quiz = load_quiz(row.definition, version=row.version)
        cache[row.id] = quiz
    return quiz
