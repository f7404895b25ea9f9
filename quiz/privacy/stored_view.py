"""What the privacy page lists as stored: each field once, and only answers that consent still covers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..quizzes.schema import Question, Quiz

# Roles whose answers the profile keeps in its own fields (first name, address, number), listed there.
OWN_FIELD_ROLES = ("first_name", "email", "phone")
# Answer values that name a contact channel, and the purpose that must allow it.
CHANNEL_PURPOSES = {"email": "email", "sms": "sms"}


@dataclass(frozen=True)
class StoredAnswer:
    """One stored answer as the shopper sees it: the question (None when no longer in the quiz) and the value."""

    qid: str
    question: Question | None
    value: Any


def covered_value(value: Any, allowed: Mapping[str, bool]) -> Any:
    """Return ``value`` without the contact channels the shopper no longer allows (None when nothing is left)."""
    if isinstance(value, list):
        kept = [v for v in value if not _withdrawn_channel(v, allowed)]
        return kept or None
    return None if _withdrawn_channel(value, allowed) else value


def _withdrawn_channel(value: Any, allowed: Mapping[str, bool]) -> bool:
    purpose = CHANNEL_PURPOSES.get(value) if isinstance(value, str) else None
    return purpose is not None and not allowed.get(purpose, False)


def stored_answers(quiz: Quiz, answers: Mapping[str, Any], allowed: Mapping[str, bool]) -> list[StoredAnswer]:
    """Return the answers to list: not those shown as profile fields, not channels whose consent was withdrawn."""
    listed: list[StoredAnswer] = []
    for qid, value in answers.items():
        question = quiz.question(qid)
        if question is not None and question.role in OWN_FIELD_ROLES:
            continue
        shown = covered_value(value, allowed) if question is None or question.options else value
        if shown is not None:
            listed.append(StoredAnswer(qid, question, shown))
    return listed
