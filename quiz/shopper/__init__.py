"""The server-rendered shopper pages: explainer, quiz, results, privacy center."""

from __future__ import annotations

from flask import Blueprint
from flask_babel import format_decimal, gettext

from ..quiz_schema import Question

bp = Blueprint("shopper", __name__)


@bp.app_template_filter("answer")
def answer_text(value: object, question: Question | None = None) -> str:
    """Render a stored answer for people: options by their label, lists joined, booleans as yes/no."""
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, (int, float)):
        return format_decimal(value)
    if isinstance(value, list) and question is not None and question.type == "range" and len(value) == 2:
        return "–".join(answer_text(v) for v in value)
    if isinstance(value, list):
        return ", ".join(answer_text(v, question) for v in value)
    option = question.option(str(value)) if question is not None else None
    return option.label if option is not None else str(value)


from . import privacy, views  # noqa: E402,F401  (routes register on import)
