"""The quiz editor: write the definition, check and preview it, publish it as a new version, roll back."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError

from .. import quizzes
from ..db import transaction
from ..models import QuizDefinition
from ..quiz_schema import Quiz, Section
from ..quiz_text import definition_text
from ..shopper.forms import SectionForm, section_form
from . import bp
from .auth import admin_required, current_merchant
from .forms import ActionForm, QuizEditorForm


@bp.route("/quiz", methods=["GET", "POST"])
@admin_required
def quiz_editor() -> ResponseReturnValue:
    """Edit the quiz definition: check it, preview it as a shopper would, or publish it as a new version."""
    merchant = current_merchant()
    history = quizzes.versions(merchant)
    form = QuizEditorForm()
    if not form.is_submitted():
        live = history[0].definition if history else quizzes.default_definition()
        form.definition.data = definition_text(live)
        return _editor_page(form, history)
    loaded = form.clean()
    if loaded is None:
        return _editor_page(form, history), 422
    definition, quiz = loaded
    if form.publish.data:
        with transaction():
            row = quizzes.publish(merchant, definition, origin="merchant")
        flash(f"Version {row.version} is live.")
        return redirect(url_for("admin.quiz_editor"))
    if form.preview.data:
        return _editor_page(form, history, preview=_preview(quiz))
    return _editor_page(form, history, valid=_summary(quiz))


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


def _editor_page(form: QuizEditorForm, history: list[QuizDefinition], **extra: Any) -> str:
    return render_template(
        "admin/quiz_editor.html",
        merchant=current_merchant(),
        form=form,
        live=history[0] if history else None,
        history=history,
        **extra,
    )


def _preview(quiz: Quiz) -> list[tuple[Section, SectionForm]]:
    """Build each section's shopper form, blank: not bound to the editor's own POST."""
    pages = []
    for section in quiz.sections:
        form = section_form(quiz, section, {})
        form.process(formdata=None)
        pages.append((section, form))
    return pages


def _summary(quiz: Quiz) -> str:
    sections = len(quiz.sections)
    questions = sum(1 for _ in quiz.questions())
    return f"Valid: {sections} section{'s' * (sections != 1)}, {questions} question{'s' * (questions != 1)}."
