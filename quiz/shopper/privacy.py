"""The privacy center, reached by the signed link shown with the results."""

from __future__ import annotations

import json
import time
from typing import Any

from flask import Response, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from .. import quizzes
from ..catalog import products
from ..marketing import funnel
from ..models import Merchant
from ..outcomes import experiments
from ..platform import limits
from ..platform.db import get_session, transaction
from ..platform.downloads import attachment
from ..platform.i18n import current_locale
from ..privacy import profiles, receipts
from ..privacy.consent import ConsentEnded, ConsentState, current_state
from ..privacy.explainer import merchant_explainer
from ..privacy.stored_view import stored_answers
from ..shopping import returning
from ..shopping.flow import known_answers
from ..shopping.subjects import Subject, read_token
from . import links, page
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
    data = profiles.export(merchant, subject.subject_id)
    quiz = quizzes.live_quiz(merchant).localized(current_locale())
    answers = (data["profile"] or {}).get("answers") or {}
    return render_template(
        "shopper/privacy.html",
        product_titles=products.titles(merchant, _product_ids(data)),
        merchant=merchant,
        token=token,
        ended=state is not None and state.ended,
        data=data,
        answers=stored_answers(quiz, answers, state.purposes if state else {}),
        quiz=quiz,
        explainer=merchant_explainer(merchant),
        consent_form=form,
        delete_form=DeleteForm(),
    )


def _product_ids(data: dict[str, Any]) -> list[str]:
    """Return the product ids the export's events and orders name (shown by their titles)."""
    events = [e.get("product_id") for e in data.get("events") or []]
    lines = [line.get("product_id") for order in data.get("orders") or [] for line in order.get("items") or []]
    return [i for i in (*events, *lines) if i]


def _confirmed() -> bool:
    """Whether the shopper already saw the confirmation step (its form carries ``confirmed``)."""
    return request.form.get("confirmed") == "yes"


def _ask_to_confirm(token: str, merchant: Merchant, action: str, purposes: dict[str, bool] | None = None) -> str:
    """Render the second step of a withdrawal or deletion: what will be gone, and a button that does it."""
    subject = read_token(token)
    data = profiles.export(merchant, subject.subject_id) if subject else {"profile": None, "saved_quiz": None}
    return render_template(
        "shopper/privacy_confirm.html",
        merchant=merchant,
        token=token,
        action=action,
        purposes=purposes or {},
        profile=data["profile"],
        saved_quiz=data["saved_quiz"],
        form=DeleteForm() if action == "delete" else ConsentChangeForm(formdata=None, data=purposes),
    )


def _withdraws_profile(state: ConsentState | None, purposes: dict[str, bool]) -> bool:
    return state is not None and state.allows("profile") and not purposes.get("profile")


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
    state = current_state(merchant.id, subject.subject_id)
    if _withdraws_profile(state, form.purposes()) and not state.ended and not _confirmed():
        return _ask_to_confirm(token, merchant, "withdraw_profile", form.purposes())
    try:
        with transaction():
            state = profiles.change_consents(
                merchant, subject.subject_id, form.purposes(), explainer, source=channel_name()
            )
    except ConsentEnded:
        gone = gettext("Your data is deleted and every consent withdrawn: this link can no longer change your choices.")
        abort(410, description=gone)
    allowed = [explainer.purpose(p).title for p, on in state.purposes.items() if on]
    notify(gettext("Saved. You now allow: %(purposes)s.", purposes=", ".join(allowed) or gettext("nothing")))
    return redirect(url_for(".privacy", token=token))


@page("/privacy/<token>/delete", methods=["POST"])
def privacy_delete(token: str) -> ResponseReturnValue:
    """Delete the stored profile and withdraw every consent."""
    subject, merchant = _subject_or_404(token)
    if not DeleteForm().validate_on_submit():
        abort(400, description=gettext("The form expired; please reload the page and try again."))
    state = current_state(merchant.id, subject.subject_id)
    if state is not None and state.erased:  # posted again: nothing is left to delete, nothing to record
        return redirect(url_for(".privacy", token=token))
    if not _confirmed():
        return _ask_to_confirm(token, merchant, "delete")
    with transaction():
        profiles.erase(merchant, subject.subject_id, merchant_explainer(merchant), source=channel_name())
    forget(merchant.slug)
    notify(gettext("Your data is deleted and every consent withdrawn. Only the record of that withdrawal remains."))
    return redirect(url_for(".privacy", token=token))


@page("/privacy/<token>/again", methods=["GET", "POST"])
@limits.consent_change
def take_again(token: str) -> ResponseReturnValue:
    """Start the quiz again with the stored answers filled in, at "what changed today?".

    A browser that is not yet the link's subject confirms first, with its own consent decision.
    """
    subject, merchant = _subject_or_404(token)
    state = current_state(merchant.id, subject.subject_id)
    if state is None or state.ended:
        return redirect(url_for(".privacy", token=token))
    if not state.allows("recommendations"):
        notify(gettext("Recommendations are switched off for you. Allow them again below to take the quiz."))
        return redirect(url_for(".privacy", token=token))
    confirm = links.confirm_or_bind(merchant, subject.subject_id, returning.describe(merchant, subject.subject_id))
    if confirm is not None:
        return confirm
    profile = profiles.get_profile(merchant.id, subject.subject_id)
    quiz = quizzes.live_quiz(merchant)
    answers = known_answers(quiz, profile.answers) if profile else {}
    ongoing = load_progress(merchant.slug) if in_widget() else None  # the widget keeps its partner site
    fresh = QuizProgress(token, answers=answers, started_at=time.time())
    save_progress(merchant.slug, ongoing.restarted(fresh) if ongoing else fresh)
    # A new run through the quiz, on the quiz version this shopper is shown.
    funnel.count(
        merchant.id, funnel.run_events("start", channel_name(), experiments.version_for(merchant, subject.subject_id))
    )
    # Returning shoppers rarely change who they are; what they want today is what to ask first.
    start = quiz.sections[1] if answers and len(quiz.sections) > 1 else quiz.sections[0]
    notify(gettext("Welcome back. Your earlier answers are filled in: change what is different today."))
    return redirect(url_for(".section", slug=merchant.slug, section_id=start.id))
