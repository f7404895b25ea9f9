"""Explainer, quiz sections and results."""

from __future__ import annotations

import time

from flask import abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from .. import funnel, limits, merchants, products, profiles, quiz_sessions, quizzes
from ..answers import clean_answers
from ..consent import ConsentState, current_state, record_decision
from ..db import transaction
from ..explainer import Explainer, merchant_explainer, stale_purposes
from ..i18n import current_locale
from ..models import Merchant
from ..quiz_flow import (
    answers_before,
    consent_for_token,
    first_incomplete,
    known_answers,
    next_section,
    previous_section,
    says_what_they_want,
    with_section,
)
from ..recommendations import recommend
from ..responses import store_profile
from ..security import safe_url
from ..subjects import Subject, issue_token
from . import page
from .channel import channel_name, notify, partner_site
from .forms import ConsentForm, ReconsentForm, asked_questions, section_form
from .state import QuizProgress, in_widget, load_progress, save_progress
from .widget import announce_completed, announce_step, start_run


@page("/", framed=False)
def home() -> ResponseReturnValue:
    """Show the demo merchant's consent explainer."""
    return explainer(current_app.config["DEMO_MERCHANT"])


@page("/m/<slug>/")
def explainer(slug: str) -> ResponseReturnValue:
    """Show what is collected and why, and ask for a decision."""
    merchant = merchants.get_or_404(slug)
    if in_widget():
        start_run(merchant)
    return _render_explainer(merchant, ConsentForm())


def _explainer(merchant: Merchant) -> Explainer:
    """Return the explainer as this shopper reads it: in their language, naming the partner site if any."""
    return merchant_explainer(merchant, partner=partner_site(merchant.slug))


def _render_explainer(merchant: Merchant, form: ConsentForm, status: int = 200) -> ResponseReturnValue:
    explainer = _explainer(merchant)
    form.explainer_version.data = explainer.version
    return render_template("shopper/explainer.html", merchant=merchant, explainer=explainer, form=form), status


@page("/m/<slug>/consent", methods=["POST"])
@limits.consent_decision
def decide(slug: str) -> ResponseReturnValue:
    """Record the shopper's consent decision and start the quiz."""
    merchant = merchants.get_or_404(slug)
    form = ConsentForm()
    if not form.validate_on_submit():
        return _render_explainer(merchant, form, 400)
    explainer = _explainer(merchant)
    if form.explainer_version.data != explainer.version:
        notify(gettext("This explanation changed while you were reading it. Please read it again and choose."))
        return _render_explainer(merchant, ConsentForm(formdata=None), 409)
    run = load_progress(slug) if in_widget() else QuizProgress(None)
    if run is None:  # the widget's signed state expired or was tampered with
        notify(gettext("This page expired; please choose again."))
        return redirect(url_for(".explainer", slug=slug))
    with transaction():
        record = record_decision(merchant, form.purposes(), explainer, source=channel_name(), origin=run.origin)
    funnel.count(merchant.id, funnel.decision_events(record.purposes))
    run.token = issue_token(Subject(record.subject_id, merchant.id))
    run.started_at = time.time()
    save_progress(slug, run)
    first = quizzes.live_quiz(merchant).sections[0].id
    return redirect(url_for(".section", slug=slug, section_id=first))


def _consented(merchant: Merchant) -> tuple[QuizProgress, ConsentState] | None:
    """Return the shopper's progress and consent when they may take this merchant's quiz."""
    progress = load_progress(merchant.slug)
    found = consent_for_token(progress.token if progress else None)
    if progress is None or found is None:
        return None
    subject, state = found
    if subject.merchant_id != merchant.id or not state.allows("recommendations"):
        return None
    return progress, state


def _to_explainer(slug: str) -> ResponseReturnValue:
    notify(gettext("Please make a choice about your data first."))
    return redirect(url_for(".explainer", slug=slug))


@page("/m/<slug>/quiz/<section_id>", methods=["GET", "POST"])
def section(slug: str, section_id: str) -> ResponseReturnValue:
    """Ask one section of the quiz; on a valid answer go to the next one, or to the results."""
    merchant = merchants.get_or_404(slug)
    allowed = _consented(merchant)
    if allowed is None:
        return _to_explainer(slug)
    progress, consent = allowed
    if stale_purposes(merchant, consent):
        return redirect(url_for(".reconsent", slug=slug))
    quiz = quizzes.live_quiz(merchant).localized(current_locale())
    current = quiz.section(section_id)
    if current is None:
        return redirect(url_for(".section", slug=slug, section_id=quiz.sections[0].id))
    progress.answers = known_answers(quiz, progress.answers)
    earlier = answers_before(quiz, current, progress.answers)
    form = section_form(quiz, current, progress.answers)
    if form.is_submitted():
        cleaned = form.clean(earlier)
        if cleaned is not None:
            progress.answers = with_section(current, progress.answers, cleaned)
            events = progress.first_time([f"section:{current.id}", *(f"answered:{qid}" for qid in cleaned)])
            save_progress(slug, progress)
            funnel.count(merchant.id, events)
            if "later" in request.form:
                return _saved_for_later(merchant, progress, consent)
            following = next_section(quiz, current)
            if following is not None:
                return redirect(url_for(".section", slug=slug, section_id=following.id))
            return _finish(merchant, progress, consent)
    if in_widget():
        announce_step(merchant, progress, consent, current)
    previous = previous_section(quiz, current)
    preview = None
    if says_what_they_want(quiz, earlier):
        endpoint = url_for("api.post_recommendations", slug=slug, lang=current_locale())
        preview = {"endpoint": endpoint, "token": progress.token, "answers": earlier, "limit": 4}
    return render_template(
        "shopper/section.html",
        preview=preview,
        merchant=merchant,
        quiz=quiz,
        section=current,
        form=form,
        step=quiz.sections.index(current) + 1,
        previous=previous.id if previous else None,
        asked=asked_questions(current, earlier),
    ), (422 if form.errors else 200)


def _saved_for_later(merchant: Merchant, progress: QuizProgress, consent: ConsentState) -> ResponseReturnValue:
    """Keep the answers so far and show the link that brings the shopper back to them."""
    with transaction():
        token = quiz_sessions.save(merchant, consent.subject_id, progress.answers)
    # The link opens Attune's own site, also from the widget: it must work in any browser, framed or not.
    link = url_for("shopper.resume", slug=merchant.slug, token=token, _external=True)
    return render_template("shopper/saved.html", merchant=merchant, link=link, days=quiz_sessions.KEEP_DAYS)


@page("/m/<slug>/resume/<token>", framed=False)
def resume(slug: str, token: str) -> ResponseReturnValue:
    """Bring a shopper back to a quiz they saved, on any browser (no cookie needed)."""
    merchant = merchants.get_or_404(slug)
    saved = quiz_sessions.load(merchant, token)
    state = current_state(merchant.id, saved.subject_id) if saved else None
    if saved is None or state is None or not state.allows("recommendations"):
        notify(gettext("This link has expired or its answers were deleted. You are welcome to start again."))
        return redirect(url_for(".explainer", slug=slug))
    quiz = quizzes.live_quiz(merchant)
    answers = known_answers(quiz, saved.answers)
    token_now = issue_token(Subject(saved.subject_id, merchant.id))
    missing = first_incomplete(quiz, answers)
    done = quiz.sections[: quiz.sections.index(missing)] if missing else list(quiz.sections)
    counted = [f"section:{s.id}" for s in done] + [f"answered:{qid}" for qid in answers]
    save_progress(slug, QuizProgress(token_now, answers=answers, started_at=time.time(), counted=counted))
    target = url_for(".section", slug=slug, section_id=missing.id) if missing else url_for(".results", slug=slug)
    notify(gettext("Welcome back: your answers are as you left them."))
    return redirect(target)


def _finish(merchant: Merchant, progress: QuizProgress, consent: ConsentState) -> ResponseReturnValue:
    """Keep the profile (with consent) and show the results; the search itself runs there."""
    quiz = quizzes.live_quiz(merchant)
    missing = first_incomplete(quiz, progress.answers)
    if missing is not None:
        return redirect(url_for(".section", slug=merchant.slug, section_id=missing.id))
    store_profile(merchant, consent, quiz, clean_answers(quiz, progress.answers, complete=True), progress.hidden)
    with transaction():
        quiz_sessions.forget(merchant.id, consent.subject_id)
    events = progress.first_time(["complete"])
    if events and progress.started_at is not None:
        events.append(funnel.duration_event(time.time() - progress.started_at))
    save_progress(merchant.slug, progress)
    funnel.count(merchant.id, events)
    return redirect(url_for(".results", slug=merchant.slug))


@page("/m/<slug>/results")
@limits.recommendations
def results(slug: str) -> ResponseReturnValue:
    """Show the recommendations for the shopper's answers, each with its reasons."""
    merchant = merchants.get_or_404(slug)
    allowed = _consented(merchant)
    if allowed is None:
        return _to_explainer(slug)
    progress, consent = allowed
    if stale_purposes(merchant, consent):
        return redirect(url_for(".reconsent", slug=slug))
    quiz = quizzes.live_quiz(merchant)
    answers = known_answers(quiz, progress.answers)
    missing = first_incomplete(quiz, answers)
    if missing is not None:
        return redirect(url_for(".section", slug=slug, section_id=missing.id))
    cleaned = clean_answers(quiz, answers, complete=True)
    limit = current_app.config["RECOMMENDATION_LIMIT"]
    different = request.args.get("different") == "1"
    result = recommend(merchant, quiz, cleaned, limit, exclude=progress.seen if different else ())
    if different and not result.items:
        notify(gettext("You have seen everything that fits your answers; here are the best matches again."))
        result = recommend(merchant, quiz, cleaned, limit)
        different = False
    progress.seen = (progress.seen if different else []) + [r.item.external_id for r in result.items]
    save_progress(slug, progress)
    if in_widget():
        profile = profiles.get_profile(merchant.id, consent.subject_id)
        announce_completed(merchant, progress, profile.id if profile else None, result)
    funnel.count(merchant.id, ["results"])
    return render_template(
        "shopper/results.html",
        merchant=merchant,
        quiz=quiz,
        result=result,
        consent=consent,
        privacy_token=progress.token,
    )


@page("/m/<slug>/consent/again", methods=["GET", "POST"])
@limits.consent_change
def reconsent(slug: str) -> ResponseReturnValue:
    """Ask again, for just the purposes whose text changed since the shopper allowed them."""
    merchant = merchants.get_or_404(slug)
    allowed = _consented(merchant)
    if allowed is None:
        return _to_explainer(slug)
    progress, consent = allowed
    stale = stale_purposes(merchant, consent)
    quiz = quizzes.live_quiz(merchant)
    following = first_incomplete(quiz, known_answers(quiz, progress.answers))
    onward = url_for(".section", slug=slug, section_id=following.id) if following else url_for(".results", slug=slug)
    if not stale:
        return redirect(onward)
    explainer = _explainer(merchant)
    form = ReconsentForm()
    if form.validate_on_submit():
        purposes = {**consent.purposes, **{key: bool(form[key].data) for key in stale}}
        with transaction():
            record_decision(
                merchant, purposes, explainer, source=channel_name(), subject_id=consent.subject_id, action="change"
            )
        return redirect(onward)
    return render_template("shopper/reconsent.html", merchant=merchant, explainer=explainer, form=form, stale=stale)


@page("/m/<slug>/go/<path:product_id>")
def go(slug: str, product_id: str) -> ResponseReturnValue:
    """Count a click on a recommendation, then open the product's page at the shop."""
    merchant = merchants.get_or_404(slug)
    product = products.by_external_id(merchant, product_id)
    if product is None or safe_url(product.url) == "#":
        abort(404, description=gettext("This product has no page to open."))
    funnel.count(merchant.id, ["click"])
    return redirect(product.url)
