"""Questions that ask for an address or number: shown only to shoppers who allowed that channel."""

from __future__ import annotations

from collections.abc import Iterable

from ..quizzes.schema import Question, Quiz
from .consent import ConsentState

# The purpose a contact question's answer is for: no address is asked for a channel the shopper refused.
CHANNEL_OF_ROLE = {"email": "email", "phone": "sms"}


def allowed_questions(questions: Iterable[Question], consent: ConsentState, under_age: bool = False) -> list[Question]:
    """Return ``questions`` without the contact questions the shopper's consent does not cover.

    An address is asked for only when its channel is allowed and a profile may be kept: it is kept on
    the profile, so without one it would be asked for and thrown away. Nor is one asked of a shopper
    ``under_age`` (below the digital-consent age), whose email and SMS consent is switched off.
    """
    return [q for q in questions if q.role not in CHANNEL_OF_ROLE or (not under_age and may_ask(consent, q.role))]


def without_unasked(
    quiz: Quiz, answers: dict[str, object], consent: ConsentState, under_age: bool
) -> dict[str, object]:
    """Return ``answers`` less those to contact questions the shopper's consent does not cover.

    Such a question is never asked (``allowed_questions``), so, as for any hidden question, an
    answer to it is neither validated nor kept: an API client that fills every text field gets
    the same result as a shopper on the site.
    """
    asked = {q.id for q in allowed_questions(quiz.questions(), consent, under_age)}
    unasked = {q.id for q in quiz.questions() if q.role in CHANNEL_OF_ROLE and q.id not in asked}
    return {qid: value for qid, value in answers.items() if qid not in unasked}


def may_ask(consent: ConsentState, role: str) -> bool:
    """Return whether the shopper's consent covers keeping an answer with contact ``role``."""
    return consent.allows("profile") and consent.allows(CHANNEL_OF_ROLE[role])


def asks_for(quiz: Quiz, role: str) -> bool:
    """Return whether the quiz has a question with ``role`` (``email`` or ``phone``)."""
    return any(q.role == role for q in quiz.questions())


def editor_warnings(quiz: Quiz) -> list[str]:
    """Return the merchant-facing warnings about contact questions a quiz lacks (English, as the admin is)."""
    warnings = []
    if not asks_for(quiz, "email"):
        warnings.append(
            "No question asks for an email address (a text question with role: email). Shoppers who allow "
            "email are then asked for it only on the results page, and only when they let you keep a profile; "
            "add one so your campaign export can fill up."
        )
    if not asks_for(quiz, "phone"):
        warnings.append(
            "No question asks for a phone number (a text question with role: phone): shoppers who allow SMS "
            "have no way to give you one, so SMS campaigns stay empty."
        )
    return warnings
