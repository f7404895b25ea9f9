"""Finish later: a quiz's answers so far, kept on request and reached again by a signed link."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..models import Merchant, QuizSession, utcnow
from ..platform.db import get_session

SALT = "attune.resume.v1"
KEEP_DAYS = 7


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def save(merchant: Merchant, subject_id: str, answers: Mapping[str, Any]) -> str:
    """Keep the answers so far and return the token of the link that resumes them."""
    session = get_session()
    row = session.scalar(
        sa.select(QuizSession).where(QuizSession.merchant_id == merchant.id, QuizSession.subject_id == subject_id)
    )
    if row is None:
        row = QuizSession(merchant_id=merchant.id, subject_id=subject_id, answers={})
        session.add(row)
    row.answers, row.updated_at = dict(answers), utcnow()
    session.flush()
    return str(_serializer().dumps(row.id))


def token_for(row: QuizSession) -> str:
    """Return the token of the link that resumes a saved quiz (valid for KEEP_DAYS days from now)."""
    return str(_serializer().dumps(row.id))


def load(merchant: Merchant, token: str) -> QuizSession | None:
    """Return the saved quiz a link points to, or None when it is forged, expired or gone."""
    try:
        session_id = _serializer().loads(token, max_age=KEEP_DAYS * 86400)
    except BadSignature:
        return None
    return get_session().scalar(
        sa.select(QuizSession).where(QuizSession.id == session_id, QuizSession.merchant_id == merchant.id)
    )


def saved_answers(merchant_id: int, subject_id: str) -> dict[str, Any] | None:
    """Return the answers a subject saved to finish later, if any."""
    row = get_session().scalar(
        sa.select(QuizSession).where(QuizSession.merchant_id == merchant_id, QuizSession.subject_id == subject_id)
    )
    return None if row is None else dict(row.answers)


def forget(merchant_id: int, subject_id: str) -> None:
    """Delete a subject's saved quiz (finished, erased or withdrawn)."""
    get_session().execute(
        sa.delete(QuizSession).where(QuizSession.merchant_id == merchant_id, QuizSession.subject_id == subject_id)
    )


def purge_stale(now: dt.datetime | None = None) -> int:
    """Delete saved quizzes not touched for KEEP_DAYS days; return how many."""
    cutoff = (now or utcnow()) - dt.timedelta(days=KEEP_DAYS)
    result = get_session().execute(sa.delete(QuizSession).where(QuizSession.updated_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
