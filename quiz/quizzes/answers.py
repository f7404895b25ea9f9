"""Validate a shopper's answers against a quiz: one checker for the API and the HTML forms."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from flask_babel import format_decimal, gettext

from ..platform.errors import InvalidFields
from .schema import Question, Quiz

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9 ()./-]{7,24}$")
# Control characters (NUL and friends) have no place in an answer; newlines and tabs become spaces.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class AnswerError(InvalidFields):
    """Answers that do not fit the quiz; ``fields`` maps question ids to messages (answered 422)."""

    field = "answers"

    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__(gettext("Some answers need attention."), fields)


def _comparable(value: Any) -> str:
    """Return a value in one canonical form, so that 5, 5.0 and "5" meet."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"{float(value):g}"
    return str(value)


def is_visible(question: Question, answers: Mapping[str, Any]) -> bool:
    """Return whether every ``show_if`` condition holds for the answers given so far."""
    for qid, wanted in question.show_if.items():
        given = answers.get(qid)
        if given is None:
            return False
        allowed = {_comparable(v) for v in (wanted if isinstance(wanted, list) else [wanted])}
        given_values = {_comparable(v) for v in (given if isinstance(given, list) else [given])}
        if not allowed & given_values:
            return False
    return True


def is_blank(value: Any) -> bool:
    """Return whether a value counts as no answer at all."""
    return value is None or value == "" or value == [] or (isinstance(value, str) and not value.strip())


def clean_answers(
    quiz: Quiz,
    answers: Mapping[str, Any],
    *,
    complete: bool,
    questions: Iterable[Question] | None = None,
    earlier: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the answers to visible questions, normalised; raise :class:`AnswerError` otherwise.

    Args:
        complete: enforce required questions (a final submission) rather than accept a partial set.
        questions: check only these (one section); answers to other questions are then refused.
        earlier: answers already given in earlier sections, for ``show_if``.
    """
    scope = list(questions) if questions is not None else list(quiz.questions())
    known = {q.id for q in scope}
    errors: dict[str, list[str]] = {qid: [gettext("Unknown question.")] for qid in answers if qid not in known}
    cleaned: dict[str, Any] = {}
    context = dict(earlier or {})
    for question in scope:
        if not is_visible(question, context):
            continue  # hidden questions are neither asked nor validated
        value = answers.get(question.id)
        if is_blank(value):
            if complete and question.required:
                errors[question.id] = [gettext("This question needs an answer.")]
            continue
        try:
            cleaned[question.id] = _clean_value(question, value)
        except ValueError as exc:
            errors[question.id] = [str(exc)]
            continue
        context[question.id] = cleaned[question.id]
    if errors:
        raise AnswerError(errors)
    return cleaned


def _clean_value(question: Question, value: Any) -> Any:
    kind = question.type
    if kind in ("single", "country"):
        if not isinstance(value, str):
            raise ValueError(gettext("Pick one of the options."))
        if question.option(value) is None:
            raise ValueError(gettext("%(value)s is not one of the options.", value=repr(value[:50])))
        return value
    if kind == "multi":
        return _clean_multi(question, value)
    if kind == "text":
        return _clean_text(question, value)
    if kind == "range":
        return _clean_range(question, value)
    if kind == "scale":
        number = _number(value)
        if not question.min <= number <= question.max:  # type: ignore[operator]
            raise ValueError(
                gettext("Choose a number from %(low)s to %(high)s.", low=_num(question.min), high=_num(question.max))
            )
        return number
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError(gettext("Answer yes or no."))
        return value
    raise ValueError(f"Unsupported question type {kind!r}.")  # pragma: no cover - schema forbids it


def _clean_text(question: Question, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(gettext("Enter text."))
    text = clean_text(value)
    limit = question.max_length or 0
    if len(text) > limit:
        raise ValueError(
            gettext("Keep it under %(limit)s characters (this is %(length)s).", limit=limit, length=len(text))
        )
    if question.role == "phone" and text and not PHONE.match(text):
        raise ValueError(gettext("Enter a phone number like +34 600 123 456."))
    if question.role == "email" and text and not EMAIL.match(text):
        raise ValueError(gettext("Enter an email address like name@example.com."))
    return text


def clean_text(value: str) -> str:
    """Return typed text without control characters; refuse text that is not valid Unicode."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(gettext("The text contains characters that are not valid Unicode.")) from exc
    return CONTROL.sub(" ", value).strip()


def _clean_multi(question: Question, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(gettext("Pick one or more of the options."))
    chosen = list(dict.fromkeys(value))
    unknown = [v for v in chosen if question.option(v) is None]
    if unknown:
        raise ValueError(gettext("%(value)s is not one of the options.", value=repr(unknown[0][:50])))
    if question.min is not None and len(chosen) < question.min:
        raise ValueError(gettext("Pick at least %(n)s.", n=_num(question.min)))
    if question.max is not None and len(chosen) > question.max:
        raise ValueError(gettext("Pick at most %(n)s.", n=_num(question.max)))
    return chosen


def _clean_range(question: Question, value: Any) -> list[float]:
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError(gettext("Give a range as [low, high]."))
    low, high = _number(value[0]), _number(value[1])
    if low > high:
        raise ValueError(gettext("The lower end must not be above the upper end."))
    if low < question.min or high > question.max:  # type: ignore[operator]
        raise ValueError(gettext("Stay between %(low)s and %(high)s.", low=_num(question.min), high=_num(question.max)))
    return [low, high]


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(gettext("Enter a number."))
    try:
        number = float(value)
    except OverflowError as exc:
        raise ValueError(gettext("Enter a smaller number.")) from exc
    if not math.isfinite(number):
        raise ValueError(gettext("Enter a finite number."))
    return number


def _num(value: float | None) -> str:
    """Return a limit as people of the request's language write numbers."""
    return format_decimal(value or 0)
