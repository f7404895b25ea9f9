"""The server-rendered shopper pages: explainer, quiz, results, privacy center.

Each page is served twice: on Attune's own site (``shopper``) and, under ``/w/``, as the widget
partner sites embed in an iframe (``widget``; see :mod:`quiz.shopper.channel`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Blueprint
from flask.blueprints import BlueprintSetupState
from flask_babel import format_decimal, gettext

from ..quizzes.schema import Question
from .state import WIDGET

bp = Blueprint("shopper", __name__)
widget_bp = Blueprint(WIDGET, __name__, url_prefix="/w")
SITE_PREFIX = "/m"


def page(rule: str, methods: Iterable[str] = ("GET",), framed: bool = True) -> Callable[[Any], Any]:
    """Register a view on the site at ``rule`` and, unless ``framed`` is False, in the widget.

    The widget's rule is the site's without its "/m" prefix, under "/w": "/m/<slug>/" is
    served at "/w/<slug>/" too.
    """

    def register(view: Any) -> Any:
        bp.add_url_rule(rule, view_func=view, methods=list(methods))
        if framed:
            widget_bp.add_url_rule(rule.removeprefix(SITE_PREFIX), view_func=view, methods=list(methods))
        return view

    return register


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


@bp.record_once
def _install_hooks(state: BlueprintSetupState) -> None:
    hooks.install(state.app)


from . import confirm, contact, hooks, privacy, unsubscribe, views, widget  # noqa: E402,F401  (routes register on import)
