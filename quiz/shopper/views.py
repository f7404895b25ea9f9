"""Explainer, quiz sections, resume and results: the pages of the shopper's run."""

from __future__ import annotations

import logging
import time

from flask import abort, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from .. import merchants
from ..catalog import products
from ..marketing import funnel
from ..merchants import cart
from ..models import Merchant
from ..outcomes import clicks, experiments
from ..platform import limits
from ..platform.db import transaction
from ..platform.i18n import LOCALES, current_locale
from ..platform.security import safe_url
from ..privacy import profiles, quiz_sessions
from ..privacy.consent import ConsentState, current_state, record_decision, stale_purposes
from ..privacy.contact_questions import allowed_questions
from ..privacy.explainer import Explainer, merchant_explainer
from ..quizzes.answers import AnswerError
from ..shopping import returning, run
from ..shopping.flow import (
    answers_before,
    first_incomplete,
    known_answers,
    next_section,
    previous_section,
    says_what_they_want,
    section_at_fault,
    with_section,
)
from ..shopping.responses import below_consent_age
from ..shopping.subjects import Subject, issue_token
from . import links, page
from .channel import channel_name, notify, partner_site
from .contact import contact_status, saved_for_later
from .forms import ConsentForm, ContactEmailForm, ReconsentForm, asked_questions, section_form
from .guards import consented
from .state import QuizProgress, in_widget, load_progress, save_progress
from .widget import announce_completed, announce_step, start_run

logger = logging.getLogger(__name__)


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
        record = record_decision(
            merchant,
            form.purposes(),
            explainer,
            source=channel_name(),
            origin=run.origin,
            notice_layers=form.notice_layers(),
        )
    run.token = issue_token(Subject(record.subject_id, merchant.id))
    run.started_at = time.time()
    save_progress(slug, run)
    quiz = experiments.quiz_for(merchant, record.subject_id)
    funnel.count(merchant.id, funnel.decision_events(record.purposes, channel_name(), quiz.version))
    return redirect(url_for(".section", slug=slug, section_id=quiz.sections[0].id))


@page("/m/<slug>/quiz/<section_id>", methods=["GET", "POST"])
@consented
def section(slug: str, section_id: str) -> ResponseReturnValue:
    """Ask one section of the quiz; on a valid answer go to the next one, or to the results."""
    merchant: Merchant = g.merchant
    progress: QuizProgress = g.progress
    consent: ConsentState = g.consent
    if stale_purposes(merchant, consent):
        return redirect(url_for(".reconsent", slug=slug))
    quiz = experiments.quiz_for(merchant, consent.subject_id).localized(current_locale())
    current = quiz.section(section_id)
    if current is None:
        return redirect(url_for(".section", slug=slug, section_id=quiz.sections[0].id))
    progress.answers = known_answers(quiz, progress.answers)
    earlier = answers_before(quiz, current, progress.answers)
    form = section_form(quiz, current, progress.answers)
    switch_to = request.form.get("switch_lang") if form.is_submitted() else None
    if form.is_submitted() and ("later" in request.form or switch_to):
        answered = form.answered(earlier)
        if answered is not None:
            progress.answers = with_section(current, progress.answers, answered)
            progress.picks = {}  # picked for other answers
            save_progress(slug, progress)
            if switch_to:  # the language switch on a half-filled page: keep what was typed, show it again
                target = switch_to if switch_to in LOCALES else current_locale()
                return redirect(url_for(".section", slug=slug, section_id=current.id, lang=target))
            return saved_for_later(merchant, progress, consent)
    elif form.is_submitted():
        cleaned = form.clean(earlier)
        if cleaned is not None:
            progress.answers = with_section(current, progress.answers, cleaned)
            progress.picks = {}  # picked for other answers
            shown = funnel.shown_events(quiz, {**earlier, **cleaned}, current.questions)
            events = progress.first_time([f"section:{current.id}", *(f"answered:{qid}" for qid in cleaned), *shown])
            save_progress(slug, progress)
            funnel.count(merchant.id, events)
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
        asked=allowed_questions(asked_questions(current, earlier), consent, below_consent_age(quiz, earlier)),
    ), (422 if form.errors else 200)


@page("/m/<slug>/resume/<token>", methods=["GET", "POST"], framed=False)
@limits.consent_change
def resume(slug: str, token: str) -> ResponseReturnValue:
    """Bring a shopper back to a quiz they saved, on any browser (no cookie needed).

    A browser that is not yet the saved quiz's subject confirms first, with its own consent decision.
    """
    merchant = merchants.get_or_404(slug)
    saved = quiz_sessions.load(merchant, token)
    state = current_state(merchant.id, saved.subject_id) if saved else None
    if saved is None or state is None or not state.allows("recommendations"):
        notify(gettext("This link has expired or its answers were deleted. You are welcome to start again."))
        return redirect(url_for(".explainer", slug=slug))
    run = returning.describe(merchant, saved.subject_id, saved_at=saved.updated_at)
    confirm = links.confirm_or_bind(merchant, saved.subject_id, run)
    if confirm is not None:
        return confirm
    quiz = experiments.quiz_for(merchant, saved.subject_id)
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
    """Finish the run (recommend, keep the profile with consent) and show its items on the results page."""
    quiz = experiments.quiz_for(merchant, consent.subject_id)
    limit = current_app.config["RECOMMENDATION_LIMIT"]
    try:
        done = run.finish(merchant, consent, quiz, progress.answers, limit, hidden_fields=progress.hidden)
    except AnswerError as exc:
        return redirect(url_for(".section", slug=merchant.slug, section_id=section_at_fault(quiz, exc).id))
    progress.picks = run.picks(quiz, done.items)
    events = progress.first_time(["complete"])
    if events and progress.started_at is not None:
        events.append(funnel.duration_event(time.time() - progress.started_at))
    if events:  # per channel and quiz version too (counts only)
        events += funnel.run_events("complete", channel_name(), quiz.version)[1:]
    save_progress(merchant.slug, progress)
    funnel.count(merchant.id, events)
    return redirect(url_for(".results", slug=merchant.slug))


@page("/m/<slug>/results")
@limits.recommendations
@consented
def results(slug: str) -> ResponseReturnValue:
    """Show the recommendations for the shopper's answers, each with its reasons.

    After the last section these are the finished run's items (kept in the progress); "show me
    something different", a resumed quiz and a changed quiz search again.
    """
    merchant: Merchant = g.merchant
    progress: QuizProgress = g.progress
    consent: ConsentState = g.consent
    if stale_purposes(merchant, consent):
        return redirect(url_for(".reconsent", slug=slug))
    quiz = experiments.quiz_for(merchant, consent.subject_id)
    answers = known_answers(quiz, progress.answers)
    different = request.args.get("different") == "1"
    finished = run.shown(merchant, quiz, progress.picks)
    limit = current_app.config["RECOMMENDATION_LIMIT"]
    try:
        result = None if different else finished
        if result is None:
            result = run.search_again(merchant, consent, quiz, answers, limit, seen=progress.seen if different else ())
        if different and not result.items:
            notify(gettext("You have seen everything that fits your answers; here are the best matches again."))
            result, different = finished or run.search_again(merchant, consent, quiz, answers, limit), False
    except AnswerError as exc:
        return redirect(url_for(".section", slug=slug, section_id=section_at_fault(quiz, exc).id))
    progress.seen = (progress.seen if different else []) + [r.item.external_id for r in result.items]
    save_progress(slug, progress)
    profile = profiles.get_profile(merchant.id, consent.subject_id)
    if in_widget():
        announce_completed(merchant, progress, profile.id if profile else None, result)
    shown = [r.item.external_id for r in result.items]
    with transaction():
        clicks.note_recommended(merchant, consent, shown, channel_name(), quiz.version)
    funnel.count(merchant.id, ["results"])
    return render_template(
        "shopper/results.html",
        merchant=merchant,
        quiz=quiz,
        result=result,
        consent=consent,
        privacy_token=progress.token,
        refs=clicks.references_for(merchant, consent.subject_id, shown, channel_name(), quiz.version),
        contact=contact_status(consent, profile, below_consent_age(quiz, answers)),
        email_form=ContactEmailForm(formdata=None),
        address_invalid=request.args.get("address") == "invalid",
    )


@page("/m/<slug>/consent/again", methods=["GET", "POST"])
@limits.consent_change
@consented
def reconsent(slug: str) -> ResponseReturnValue:
    """Ask again, for just the purposes whose text changed since the shopper allowed them."""
    merchant: Merchant = g.merchant
    progress: QuizProgress = g.progress
    consent: ConsentState = g.consent
    stale = stale_purposes(merchant, consent)
    quiz = experiments.quiz_for(merchant, consent.subject_id)
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
    """Count a click on a recommendation, then open the product's page at the shop.

    A link carrying an attribution reference (``attune_ref``) records the click with the shopper's
    profile when they allow it, and passes the reference on to the shop's page for track.js.
    """
    merchant = merchants.get_or_404(slug)
    product = products.by_external_id(merchant, product_id)
    if product is None or safe_url(product.url) == "#":
        abort(404, description=gettext("This product has no page to open."))
    return _counted_click(merchant, product_id, product.url)


@page("/m/<slug>/cart/<path:product_id>")
def add_to_cart(slug: str, product_id: str) -> ResponseReturnValue:
    """Count a click on a recommendation's "Add to cart", then open the shop's cart with the product in it.

    The address is the merchant's cart pattern with the product's id (``merchants.cart``); the
    attribution reference travels on as with :func:`go`.
    """
    merchant = merchants.get_or_404(slug)
    product = products.by_external_id(merchant, product_id)
    target = cart.cart_url(merchant, product_id) if product is not None and product.available else None
    if target is None:
        abort(404, description=gettext("This product cannot be added to the cart from here."))
    return _counted_click(merchant, product_id, target)


def _counted_click(merchant: Merchant, product_id: str, target: str) -> ResponseReturnValue:
    token = request.args.get(clicks.PARAMETER)
    with transaction():
        ref = clicks.record_click(merchant, product_id, token)
    funnel.count(merchant.id, ["click"])
    return redirect(clicks.landing_url(target, token) if ref is not None and token else target)
