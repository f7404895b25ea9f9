"""The quiz builder: the quiz as forms (no YAML), with suggested signals, a preview and publishing.

Every button posts the whole quiz back: the page works without JavaScript, nothing is stored until
the merchant publishes, and the YAML editor is one button away in both directions.
"""

from __future__ import annotations

import re
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError

from .. import quizzes
from ..catalog.signal_hints import suggestions_for, unmatched
from ..platform.body_limits import QUIZ_DEFINITION, body_limit
from ..platform.db import transaction
from ..quizzes import builder
from ..quizzes.schema import QUESTION_TYPES, ROLES, load_quiz
from ..quizzes.text import definition_text, parse_definition_text
from . import bp
from .auth import admin_required, current_merchant
from .forms import ActionForm, QuizEditorForm
from .quiz_editor import editor_page, preview_pages

TYPE_NAMES = {
    "single": "One answer",
    "multi": "Several answers",
    "text": "Free text",
    "range": "Range (from, to)",
    "scale": "Scale (a number)",
    "boolean": "Yes or no",
    "country": "Country",
}
ROLE_NAMES = {
    "": "None",
    "budget": "Budget",
    "first_name": "First name",
    "email": "Email address",
    "phone": "Phone number",
    "need": "What they are looking for",
}
PATH = re.compile(r"sections\[(\d+)\](?:\.questions\[(\d+)\])?(?:\.options\[(\d+)\])?(?:\.(.+))?$")


@bp.route("/quiz/builder", methods=["GET", "POST"])
@body_limit(QUIZ_DEFINITION)
@admin_required
def quiz_builder() -> ResponseReturnValue:
    """Show the quiz as forms; apply the button pressed; check, preview, publish, or open it as YAML."""
    merchant = current_merchant()
    if request.method == "GET":
        live = quizzes.versions(merchant)
        draft = live[0].definition if live else quizzes.default_definition()
        return _page(dict(draft))
    if not ActionForm().validate_on_submit():
        abort(400, description="The form expired; reload the page and try again.")
    verb = request.form.get("action", "check")
    if verb == "from_yaml":
        return _from_yaml()
    try:
        draft = builder.read_form(request.form)
    except builder.BuilderError as exc:
        abort(400, description=str(exc))
    if verb == "yaml":
        form = QuizEditorForm(formdata=None)
        form.definition.data = definition_text(builder.export(draft))
        return editor_page(form, quizzes.versions(merchant))
    if verb in ("check", "preview", "publish", "publish_confirmed"):
        return _validated(draft, verb)
    if verb.startswith("accept_all:"):
        return _accept_all(draft, builder.parse_action(verb))
    try:
        status = builder.apply(draft, builder.parse_action(verb))
    except builder.BuilderError as exc:
        return _page(draft, status=str(exc)), 422
    return _page(draft, status=status, focus=request.form.get("action", ""))


def _accept_all(draft: dict[str, Any], action: builder.Action) -> ResponseReturnValue:
    """Accept every suggestion still open for one question's answers."""
    if len(action.path) != 2:
        abort(400, description="That button points at no question; reload the builder.")
    prefix = f"s{action.path[0]}.q{action.path[1]}.o"
    accepted = 0
    for place, proposals in (_suggestions(current_merchant(), draft) or {}).items():
        if place.startswith(prefix):
            option = draft["sections"][action.path[0]]["questions"][action.path[1]]["options"][
                int(place[len(prefix) :])
            ]
            for proposal in proposals:
                builder.accept(option, proposal.token)
                accepted += 1
    return _page(draft, status=f"{accepted} suggestion{'s' * (accepted != 1)} accepted; check them below.")


def _from_yaml() -> ResponseReturnValue:
    """Open what the YAML editor holds in the builder (a YAML that cannot be read stays in the editor)."""
    form = QuizEditorForm()
    try:
        draft = parse_definition_text(form.definition.data or "")
    except ValueError as exc:
        form.definition.errors = [str(exc)]
        return editor_page(form, quizzes.versions(current_merchant())), 422
    return _page(draft, status="Opened in the builder; nothing is published until you publish.")


def _validated(draft: dict[str, Any], verb: str) -> ResponseReturnValue:
    definition = builder.export(draft)
    try:
        quiz = load_quiz(definition)
    except ValidationError as exc:
        return _page(draft, errors=exc.messages), 422
    merchant = current_merchant()
    if verb == "publish_confirmed":
        live = quizzes.versions(merchant)
        with transaction():
            row = quizzes.publish(merchant, definition, origin="merchant")
        note = ""
        if live and live[0].origin == "default":
            note = " Its answer choices no longer follow your catalog automatically; edit them here when it changes."
        flash(f"Version {row.version} is live: shoppers who start the quiz now get it.{note}")
        return redirect(url_for("admin.quiz_builder"))
    extra: dict[str, Any] = {"warnings": unmatched(merchant, definition)}
    if verb == "preview":
        extra["preview"] = preview_pages(quiz)
        extra["status"] = "Preview below. Nothing is published until you publish."
    elif verb == "publish":
        extra["confirm"] = True
    else:
        sections = len(quiz.sections)
        extra["status"] = f"No problems: {sections} sections, {sum(1 for _ in quiz.questions())} questions."
    return _page(draft, **extra)


def _page(draft: dict[str, Any], errors: Any = None, **extra: Any) -> str:
    """Render the builder for ``draft`` with its suggestions, problems by field and missing translations."""
    merchant = current_merchant()
    history = quizzes.versions(merchant)
    categories = quizzes.catalog_categories(merchant, limit=50)
    suggestions = _suggestions(merchant, draft)
    return render_template(
        "admin/quiz_builder.html",
        merchant=merchant,
        draft=draft,
        own=draft.get("locale", "en"),
        b=builder,
        live=history[0] if history else None,
        categories=categories,
        suggestions=suggestions,
        open_questions={prefix.rsplit(".", 1)[0] for prefix in suggestions or {}},
        rules=_rule_choices(draft),
        field_errors=_by_field(errors) if errors else {},
        problems=_problem_list(errors) if errors else [],
        missing=builder.missing_translations(draft),
        types=[(t, TYPE_NAMES[t]) for t in QUESTION_TYPES],
        roles=[(r, ROLE_NAMES.get(r, r)) for r in ("", *ROLES)],
        **extra,
    )


def _suggestions(merchant: Any, draft: dict[str, Any]) -> dict[str, list[Any]] | None:
    """Return the suggestions still open per option prefix ("s0.q1.o2"); None while the catalog is not ready."""
    places: list[tuple[str, dict[str, Any], str]] = []
    for si, section in enumerate(draft.get("sections") or []):
        for qi, question in enumerate(section.get("questions") or []):
            if question.get("type") not in ("single", "multi"):
                continue
            for oi, option in enumerate(question.get("options") or []):
                if (option.get("signals") or {}).get("any"):
                    continue
                label = builder.text_of(option.get("label"), draft.get("locale", "en"))
                text = label.get(draft.get("locale", "en")) or label["en"] or label["es"]
                if text:
                    places.append((f"s{si}.q{qi}.o{oi}", option, text))
    found = suggestions_for(merchant, [text for _, _, text in places]) if places else []
    if found is None:
        return None
    open_ones: dict[str, list[Any]] = {}
    for (prefix, option, _), proposals in zip(places, found, strict=True):
        dismissed = set(option.get(builder.DISMISSED, []))
        left = [s for s in proposals if s.token not in dismissed and not builder.has_signal(option, s.token)]
        if left:
            open_ones[prefix] = left
    return open_ones


def _rule_choices(draft: dict[str, Any]) -> list[list[tuple[str, str]]]:
    """Return, per question in order, the "ask only when" choices: answers of earlier choice questions."""
    own = draft.get("locale", "en")
    earlier: list[tuple[str, str]] = []
    per_question: list[list[tuple[str, str]]] = []
    for section in draft.get("sections") or []:
        for question in section.get("questions") or []:
            per_question.append(list(earlier))
            if question.get("type") in ("single", "multi", "boolean"):
                asked = _plain(question.get("label"), own) or question.get("id", "")
                for option in question.get("options") or []:
                    said = _plain(option.get("label"), own) or option.get("value", "")
                    earlier.append((f"{question.get('id')}={option.get('value')}", f"“{asked}” is “{said}”"))
    return per_question


def _plain(text: Any, own: str) -> str:
    shown = builder.text_of(text, own)
    return shown.get(own) or shown["en"] or shown["es"]


def _field_name(path: str) -> str:
    """Return the builder field of a schema path: sections[0].questions[1].label -> s0.q1.label."""
    match = PATH.match(path)
    if not match:
        return path
    si, qi, oi, rest = match.groups()
    name = f"s{si}" + (f".q{qi}" if qi is not None else "") + (f".o{oi}" if oi is not None else "")
    return name + (f".{rest}" if rest else "")


def _by_field(messages: Any) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for path, listed in messages.items():
            found.setdefault(_field_name(str(path)), []).extend(str(m) for m in listed)
    return found


def _problem_list(messages: Any) -> list[tuple[str, str, str]]:
    """Return (anchor, where in plain words, message) per problem, for the list above the builder."""
    found = []
    if not isinstance(messages, dict):
        return [("", "The quiz", str(messages))]
    for path, listed in messages.items():
        match = PATH.match(str(path))
        where, anchor = "The quiz", "quiz-settings"
        if match:
            si, qi, oi, rest = match.groups()
            where = f"Section {int(si) + 1}"
            anchor = f"s{si}"
            if qi is not None:
                where += f", question {int(qi) + 1}"
                anchor += f"-q{qi}"
            if oi is not None:
                where += f", answer {int(oi) + 1}"
            if rest:
                where += f" ({rest.replace('signals.', '').replace('_', ' ')})"
        elif path != "_schema":
            where = f"The quiz ({path})"
        for message in listed:
            found.append((anchor, where, str(message)))
    return found
