"""The server-rendered shopper pages: explainer, quiz, results, privacy center."""

from flask import Blueprint

bp = Blueprint("shopper", __name__)


@bp.app_template_filter("answer")
def answer_text(value: object) -> str:
    """Render a stored answer of any type for people: lists joined, booleans as yes/no."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(answer_text(v) for v in value)
    return str(value)


from . import privacy, views  # noqa: E402,F401  (routes register on import)
