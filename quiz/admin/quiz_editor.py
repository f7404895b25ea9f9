"""The quiz editor: write the definition, check and preview it, publish it as a new version, roll back."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError

from .. import quizzes
from ..models import QuizDefinition
from ..platform.body_limits import QUIZ_DEFINITION, body_limit
from ..platform.db import transaction
from ..privacy.contact_questions import editor_warnings
from ..quizzes import builder
from ..quizzes.schema import Quiz, Section
from ..quizzes.text import definition_text
from ..shopper.forms import SectionForm, section_form
from . import bp
from .auth import admin_required, current_merchant
from .forms import ActionForm, QuizEditorForm


@bp.route("/quiz", methods=["GET", "POST"])
@body_limit(QUIZ_DEFINITION)
@admin_required
def quiz_editor() -> ResponseReturnValue:
    """Edit the quiz definition: check it, preview it as a shopper would, or publish it as a new version."""
    merchant = current_merchant()
    history = quizzes.versions(merchant)
    form = QuizEditorForm()
    if not form.is_submitted():
        live = history[0].definition if history else quizzes.default_definition()
        form.definition.data = definition_text(live)
        warnings = editor_warnings(quizzes.live_quiz(merchant))
        return editor_page(form, history, warnings=warnings, missing=builder.missing_translations(live))
    loaded = form.clean()
    if loaded is None:
        return editor_page(form, history), 422
    definition, quiz = loaded
    missing = builder.missing_translations(definition)
    if form.publish.data:
        with transaction():
            row = quizzes.publish(merchant, definition, origin="merchant")
        flash(f"Version {row.version} is live.{_untranslated(missing)}")
        return redirect(url_for("admin.quiz_editor"))
    warnings = editor_warnings(quiz)
    if form.preview.data:
        return editor_page(form, history, preview=preview_pages(quiz), warnings=warnings, missing=missing)
    return editor_page(form, history, valid=_summary(quiz), warnings=warnings, missing=missing)


@bp.post("/quiz/versions/<int:version>/rollback")
@admin_required
def quiz_rollback(version: int) -> ResponseReturnValue:
    """Publish an earlier version's definition again as a new version."""
    if not ActionForm().validate_on_submit():
        abort(400, description="The form expired; reload the page and try again.")
    try:
        with transaction():
            row = quizzes.rollback(current_merchant(), version)
    except quizzes.NoSuchVersion:
        abort(404, description="No such quiz version.")
    except ValidationError:
        flash(
            f"Version {version} no longer passes today's checks, so it was not published. "
            "Fix it in the editor and publish it as a new version.",
            "error",
        )
    else:
        flash(f"Version {version} is live again as version {row.version}.")
    return redirect(url_for("admin.quiz_editor"))


def editor_page(form: QuizEditorForm, history: list[QuizDefinition], **extra: Any) -> str:
    """Render the YAML editor holding ``form``'s text."""
    return render_template(
        "admin/quiz_editor.html",
        merchant=current_merchant(),
        form=form,
        live=history[0] if history else None,
        history=history,
        **extra,
    )


def preview_pages(quiz: Quiz) -> list[tuple[Section, SectionForm]]:
    """Build each section's shopper form, blank: not bound to the editor's own POST."""
    pages = []
    for section in quiz.sections:
        form = section_form(quiz, section, {})
        form.process(formdata=None)
        pages.append((section, form))
    return pages


def _untranslated(missing: list[str]) -> str:
    """Return the publish message's note on texts without a translation ("" when every text has both)."""
    if not missing:
        return ""
    count = len(missing)
    return f" {count} text{'s' * (count != 1)} still {'have' if count != 1 else 'has'} no translation: {missing[0]}" + (
        f" and {count - 1} more." if count > 1 else "."
    )


def _summary(quiz: Quiz) -> str:
    sections = len(quiz.sections)
    questions = sum(1 for _ in quiz.questions())
    return f"Valid: {sections} section{'s' * (sections != 1)}, {questions} question{'s' * (questions != 1)}."
