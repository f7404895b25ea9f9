"""Moving through the quiz: who may take it, which section comes next, what has been answered."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..privacy.consent import ConsentState, current_state
from ..quizzes.answers import AnswerError, clean_answers
from ..quizzes.schema import Quiz, Section
from .preferences import build_preferences
from .subjects import Subject, read_token


def consent_for_token(token: str | None) -> tuple[Subject, ConsentState] | None:
    """Return the subject of a token and their latest decision, or None if either is missing."""
    subject = read_token(token) if token else None
    state = current_state(subject.merchant_id, subject.subject_id) if subject else None
    if subject is None or state is None:
        return None
    return subject, state


def known_answers(quiz: Quiz, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Return the answers to questions the live quiz still has (it may have changed meanwhile)."""
    return {qid: value for qid, value in answers.items() if quiz.question(qid) is not None}


def answers_before(quiz: Quiz, section: Section, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Return the answers given in the sections before ``section``."""
    index = quiz.sections.index(section)
    earlier = {q.id for s in quiz.sections[:index] for q in s.questions}
    return {qid: value for qid, value in answers.items() if qid in earlier}


def with_section(section: Section, answers: Mapping[str, Any], cleaned: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``answers`` with the section's answers replaced by ``cleaned``."""
    own = {q.id for q in section.questions}
    return {k: v for k, v in answers.items() if k not in own} | dict(cleaned)


def first_incomplete(quiz: Quiz, answers: Mapping[str, Any]) -> Section | None:
    """Return the first section with a missing or invalid answer, if any."""
    try:
        clean_answers(quiz, answers, complete=True)
    except AnswerError as exc:
        return section_at_fault(quiz, exc)
    return None


def section_at_fault(quiz: Quiz, error: AnswerError) -> Section:
    """Return the first section holding a question ``error`` names (the first section if none does)."""
    return next((s for s in quiz.sections if any(q.id in error.fields for q in s.questions)), quiz.sections[0])


def next_section(quiz: Quiz, section: Section) -> Section | None:
    """Return the section after ``section``, or None after the last."""
    index = quiz.sections.index(section)
    return quiz.sections[index + 1] if index + 1 < len(quiz.sections) else None


def previous_section(quiz: Quiz, section: Section) -> Section | None:
    """Return the section before ``section``, or None for the first."""
    index = quiz.sections.index(section)
    return quiz.sections[index - 1] if index else None


def says_what_they_want(quiz: Quiz, answers: Mapping[str, Any]) -> bool:
    """Return whether the answers so far express any preference to match on (for live previews)."""
    prefs = build_preferences(quiz, answers)
    return bool(prefs.parts or prefs.categories or prefs.budget)
