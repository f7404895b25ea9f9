"""Explainer, quiz sections and results."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from .. import merchants, quizzes
from ..answers import AnswerError, clean_answers
from ..consent import ConsentState, current_state, record_decision
from ..db import transaction
from ..explainer import merchant_explainer
from ..models import Merchant
from ..quiz_schema import Quiz
from ..recommendations import recommend
from ..responses import submit
from ..subjects import Subject, issue_token, read_token
from . import bp
from .forms import ConsentForm, asked_questions, section_form
from .state import QuizProgress, load_progress, save_progress


@bp.get("/")
def home() -> ResponseReturnValue:
    """Show the demo merchant's consent explainer."""
    return explainer(current_app.config["DEMO_MERCHANT"])


@bp.get("/m/<slug>/")
def explainer(slug: str) -> ResponseReturnValue:
    """Show what is collected and why, and ask for a decision."""
    merchant = merchants.get_or_404(slug)
    return _render_explainer(merchant, ConsentForm())


def _render_explainer(merchant: Merchant, form: ConsentForm, status: int = 200) -> ResponseReturnValue:
    return render_template(
        "shopper/explainer.html", merchant=merchant, explainer=merchant_explainer(merchant), form=form
    ), status


@bp.post("/m/<slug>/consent")
def decide(slug: str) -> ResponseReturnValue:
    """Record the shopper's consent decision and start the quiz."""
    merchant = merchants.get_or_404(slug)
    form = ConsentForm()
    if not form.validate_on_submit():
        return _render_explainer(merchant, form, 400)
    with transaction():
        record = record_decision(merchant, form.purposes(), merchant_explainer(merchant), source="site")
    save_progress(slug, QuizProgress(issue_token(Subject(record.subject_id, merchant.id))))
    first = quizzes.live_quiz(merchant).sections[0].id
    return redirect(url_for(".section", slug=slug, section_id=first))


def _consented(merchant: Merchant) -> tuple[QuizProgress, ConsentState] | None:
    """Return the shopper's progress and consent when they may take the quiz."""
    progress = load_progress(merchant.slug)
    subject = read_token(progress.token) if progress else None
    if progress is None or subject is None or subject.merchant_id != merchant.id:
        return None
    state = current_state(merchant.id, subject.subject_id)
    if state is None or not state.allows("recommendations"):
        return None
    return progress, state


def _first_incomplete(quiz: Quiz, answers: dict[str, object]) -> str | None:
    """Return the first section with a missing or invalid answer, if any."""
    try:
        clean_answers(quiz, answers, complete=True)
    except AnswerError as exc:
        return next((s.id for s in quiz.sections if any(q.id in exc.fields for q in s.questions)), quiz.sections[0].id)
    return None


@bp.route("/m/<slug>/quiz/<section_id>", methods=["GET", "POST"])
def section(slug: str, section_id: str) -> ResponseReturnValue:
    """Ask one section of the quiz; on a valid answer go to the next one, or to the results."""
    merchant = merchants.get_or_404(slug)
    allowed = _consented(merchant)
    if allowed is None:
        flash("Please make a choice about your data first.")
        return redirect(url_for(".explainer", slug=slug))
    progress, consent = allowed
    quiz = quizzes.live_quiz(merchant)
    current = quiz.section(section_id)
    if current is None:
        return redirect(url_for(".section", slug=slug, section_id=quiz.sections[0].id))
    index = quiz.sections.index(current)
    earlier_ids = {q.id for s in quiz.sections[:index] for q in s.questions}
    earlier = {k: v for k, v in progress.answers.items() if k in earlier_ids}
    form = section_form(quiz, current, progress.answers)
    if form.is_submitted():
        cleaned = form.clean(earlier)
        if cleaned is not None:
            own = {q.id for q in current.questions}
            progress.answers = {k: v for k, v in progress.answers.items() if k not in own} | cleaned
            save_progress(slug, progress)
            if index + 1 < len(quiz.sections):
                return redirect(url_for(".section", slug=slug, section_id=quiz.sections[index + 1].id))
            return _finish(merchant, quiz, progress, consent)
    return render_template(
        "shopper/section.html",
        merchant=merchant,
        quiz=quiz,
        section=current,
        form=form,
        step=index + 1,
        previous=quiz.sections[index - 1].id if index else None,
        asked=asked_questions(current, earlier),
    ), (422 if form.errors else 200)


def _finish(merchant: Merchant, quiz: Quiz, progress: QuizProgress, consent: ConsentState) -> ResponseReturnValue:
    missing = _first_incomplete(quiz, progress.answers)
    if missing is not None:
        return redirect(url_for(".section", slug=merchant.slug, section_id=missing))
    answers = clean_answers(quiz, progress.answers, complete=True)
    submit(merchant, consent, quiz, answers, current_app.config["RECOMMENDATION_LIMIT"])
    return redirect(url_for(".results", slug=merchant.slug))


@bp.get("/m/<slug>/results")
def results(slug: str) -> ResponseReturnValue:
    """Show the recommendations for the shopper's answers, each with its reasons."""
    merchant = merchants.get_or_404(slug)
    allowed = _consented(merchant)
    if allowed is None:
        return redirect(url_for(".explainer", slug=slug))
    progress, consent = allowed
    quiz = quizzes.live_quiz(merchant)
    missing = _first_incomplete(quiz, progress.answers)
    if missing is not None:
        return redirect(url_for(".section", slug=slug, section_id=missing))
    answers = clean_answers(quiz, progress.answers, complete=True)
    result = recommend(merchant, quiz, answers, current_app.config["RECOMMENDATION_LIMIT"])
    return render_template(
        "shopper/results.html",
        merchant=merchant,
        quiz=quiz,
        result=result,
        consent=consent,
        privacy_token=progress.token,
    )
