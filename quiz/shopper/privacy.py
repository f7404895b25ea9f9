"""The privacy center, reached by the signed link shown with the results."""

from __future__ import annotations

import json
import time

from flask import Response, abort, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from .. import funnel, limits, profiles, quizzes, receipts
from ..consent import current_state
from ..db import get_session, transaction
from ..downloads import attachment
from ..explainer import merchant_explainer
from ..i18n import current_locale
from ..models import Merchant
from ..quiz_flow import known_answers
from ..subjects import Subject, read_token
from . import page
from .channel import channel_name, notify
from .forms import ConsentChangeForm, DeleteForm
from .state import QuizProgress, forget, in_widget, load_progress, save_progress


def _subject_or_404(token: str) -> tuple[Subject, Merchant]:
    subject = read_token(token)
    merchant = get_session().get(Merchant, subject.merchant_id) if subject else None
    if subject is None or merchant is None:
        abort(404, description=gettext("This privacy link is not valid."))
    return subject, merchant


@page("/privacy/<token>")
def privacy(token: str) -> ResponseReturnValue:
    """Show everything stored about the shopper, with controls to download, change and delete."""
    subject, merchant = _subject_or_404(token)
    state = current_state(merchant.id, subject.subject_id)
    form = ConsentChangeForm(data=dict(state.purposes) if state else {})
    return render_template(
        "shopper/privacy.html",
        merchant=merchant,
        token=token,
        data=profiles.export(merchant, subject.subject_id),
        quiz=quizzes.live_quiz(merchant).localized(current_locale()),
        explainer=merchant_explainer(merchant),
        consent_form=form,
        delete_form=DeleteForm(),
    )


@page("/privacy/<token>/export.json")
def privacy_export(token: str) -> Response:
    """Download everything stored about the shopper as JSON."""
    subject, merchant = _subject_or_404(token)
    body = json.dumps(profiles.export(merchant, subject.subject_id), indent=2, ensure_ascii=False)
    return attachment(body, "application/json", f"attune-{merchant.slug}-my-data.json")


@page("/privacy/<token>/receipt")
def consent_receipt(token: str) -> ResponseReturnValue:
    """Show the consent receipt: every decision, when, on which text."""
    subject, merchant = _subject_or_404(token)
    return render_template(
        "shopper/receipt.html",
        merchant=merchant,
        token=token,
        receipt=receipts.receipt(merchant, subject.subject_id),
        explainer=merchant_explainer(merchant),
    )


@page("/privacy/<token>/receipt.json")
def consent_receipt_json(token: str) -> Response:
    """Download the consent receipt as JSON."""
    subject, merchant = _subject_or_404(token)
    body = json.dumps(receipts.receipt(merchant, subject.subject_id), indent=2, ensure_ascii=False)
    return attachment(body, "application/json", f"attune-{merchant.slug}-consent-receipt.json")


@page("/privacy/<token>/consents", methods=["POST"])
@limits.consent_change
def privacy_consents(token: str) -> ResponseReturnValue:
    """Change or withdraw consent per purpose."""
    subject, merchant = _subject_or_404(token)
    form = ConsentChangeForm()
    if not form.validate_on_submit():
        abort(400, description=gettext("The form expired; please reload the page and try again."))
    explainer = merchant_explainer(merchant)
    with transaction():
        state = profiles.change_consents(
            merchant, subject.subject_id, form.purposes(), explainer, source=channel_name()
        )
    allowed = [explainer.purpose(p).title for p, on in state.purposes.items() if on]
    notify(gettext("Saved. You now allow: %(purposes)s.", purposes=", ".join(allowed) or gettext("nothing")))
    return redirect(url_for(".privacy", token=token))


@page("/privacy/<token>/delete", methods=["POST"])
def privacy_delete(token: str) -> ResponseReturnValue:
    """Delete the stored profile and withdraw every consent."""
    subject, merchant = _subject_or_404(token)
    if not DeleteForm().validate_on_submit():
        abort(400, description=gettext("The form expired; please reload the page and try again."))
    with transaction():
        profiles.erase(merchant, subject.subject_id, merchant_explainer(merchant), source=channel_name())
    forget(merchant.slug)
    notify(gettext("Your data is deleted and every consent withdrawn. Only the record of that withdrawal remains."))
    return redirect(url_for(".privacy", token=token))


@page("/privacy/<token>/again")
def take_again(token: str) -> ResponseReturnValue:
    """Start the quiz again with the stored answers filled in, at "what changed today?"."""
    subject, merchant = _subject_or_404(token)
    state = current_state(merchant.id, subject.subject_id)
    if state is None or not state.allows("recommendations"):
        notify(gettext("Recommendations are switched off for you. Allow them again below to take the quiz."))
        return redirect(url_for(".privacy", token=token))
    profile = profiles.get_profile(merchant.id, subject.subject_id)
    quiz = quizzes.live_quiz(merchant)
    answers = known_answers(quiz, profile.answers) if profile else {}
    ongoing = load_progress(merchant.slug) if in_widget() else None  # the widget keeps its partner site
    fresh = QuizProgress(token, answers=answers, started_at=time.time())
    save_progress(merchant.slug, ongoing.restarted(fresh) if ongoing else fresh)
    funnel.count(merchant.id, ["start"])  # a new run through the quiz
    # Returning shoppers rarely change who they are; what they want today is what to ask first.
    start = quiz.sections[1] if answers and len(quiz.sections) > 1 else quiz.sections[0]
    notify(gettext("Welcome back. Your earlier answers are filled in: change what is different today."))
    return redirect(url_for(".section", slug=merchant.slug, section_id=start.id))
