"""Contact from the shopper's pages: the saved-for-later page's emailed link, and the results' word on email.

The results say one of: check your inbox, confirmed, why not (age), or where to send picks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import abort, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from ..models import Merchant, Profile
from ..outcomes import experiments
from ..platform import limits
from ..platform.db import transaction
from ..platform.i18n import current_locale
from ..privacy import email_optin, profiles, quiz_sessions, resume_mail
from ..privacy.consent import ConsentState
from ..shopping.responses import below_consent_age
from . import page
from .channel import notify
from .forms import ContactEmailForm, SavedLinkForm
from .guards import consented
from .state import QuizProgress

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ContactStatus:
    """What the results say about contact: ``kind`` is "under_age", "check_inbox", "confirmed" or "ask"."""

    kind: str
    address: str | None = None


def contact_status(consent: ConsentState, profile: Profile | None, under_age: bool) -> ContactStatus | None:
    """Return what to tell the shopper about email on the results page (None: nothing to say)."""
    if under_age:
        return ContactStatus("under_age")
    if not consent.allows("email") or profile is None:
        return None
    if profile.email and profile.email_confirmed_at is not None:
        return ContactStatus("confirmed", profile.email)
    if profile.email:
        return ContactStatus("check_inbox", profile.email)
    return ContactStatus("ask")


def saved_for_later(
    merchant: Merchant,
    progress: QuizProgress,
    consent: ConsentState,
    mail_form: SavedLinkForm | None = None,
    mailed_to: str | None = None,
) -> str:
    """Keep the answers so far and show the link that brings the shopper back to them.

    With email consent (and not below the digital-consent age) the page also offers to email the link,
    to the address the shopper gave if any.
    """
    with transaction():
        token = quiz_sessions.save(merchant, consent.subject_id, progress.answers)
    # The link opens Attune's own site, also from the widget: it must work in any browser, framed or not.
    link = url_for("shopper.resume", slug=merchant.slug, token=token, _external=True)
    quiz = experiments.quiz_for(merchant, consent.subject_id)
    if consent.allows("email") and not below_consent_age(quiz, progress.answers):
        known = _known_address(merchant, progress, consent)
        mail_form = mail_form or SavedLinkForm(formdata=None, data={"email": known})
    else:
        mail_form = None
    return render_template(
        "shopper/saved.html",
        merchant=merchant,
        link=link,
        days=quiz_sessions.KEEP_DAYS,
        mail_form=mail_form,
        mailed_to=mailed_to,
    )


def _known_address(merchant: Merchant, progress: QuizProgress, consent: ConsentState) -> str | None:
    """Return the address the shopper already gave: in this run's answers, else on their profile."""
    quiz = experiments.quiz_for(merchant, consent.subject_id)
    given = next((progress.answers.get(q.id) for q in quiz.questions() if q.role == "email"), None)
    profile = None if given else profiles.get_profile(merchant.id, consent.subject_id)
    return given or (profile.email if profile else None)


@page("/m/<slug>/saved/email", methods=["POST"])
@limits.consent_change
@consented
def email_saved_link(slug: str) -> ResponseReturnValue:
    """Email the link of the quiz saved for later to the address the shopper gives (with email consent)."""
    merchant: Merchant = g.merchant
    progress: QuizProgress = g.progress
    consent: ConsentState = g.consent
    form = SavedLinkForm()
    if not form.validate_on_submit():
        abort(400, description=gettext("The form expired; please reload the page and try again."))
    if not consent.allows("email"):
        return saved_for_later(merchant, progress, consent)
    address = (form.email.data or "").strip()
    if not email_optin.valid_address(address):
        form.email.errors = [gettext("Enter an email address like name@example.com.")]
        return saved_for_later(merchant, progress, consent, mail_form=form), 422
    with transaction():
        token = quiz_sessions.save(merchant, consent.subject_id, progress.answers)
    link = email_optin.public_url(url_for("shopper.resume", slug=slug, token=token))
    try:
        resume_mail.send_resume_link(merchant, address, link, quiz_sessions.KEEP_DAYS, current_locale())
    except Exception:  # the answers are saved and the link is on the page: say so, do not fail
        logger.exception("could not email a saved quiz's link for %s", slug)
        notify(gettext("We could not send the email just now. Copy the link instead."))
        return saved_for_later(merchant, progress, consent)
    return saved_for_later(merchant, progress, consent, mailed_to=address)


@page("/m/<slug>/results/email", methods=["POST"])
@consented
def results_email(slug: str) -> ResponseReturnValue:
    """Keep the address given on the results page and send the confirmation link (double opt-in)."""
    merchant: Merchant = g.merchant
    consent: ConsentState = g.consent
    form = ContactEmailForm()
    if not form.validate_on_submit():
        abort(400, description=gettext("The form expired; please reload the page and try again."))
    profile = profiles.get_profile(merchant.id, consent.subject_id)
    if profile is not None and consent.allows("email"):
        if not email_optin.valid_address(form.email.data):  # said inline, next to the field
            return redirect(url_for(".results", slug=slug, address="invalid") + "#contact")
        email_optin.change_address(profile, form.email.data.strip())
        email_optin.request_confirmation(merchant, profile, current_locale())
    return redirect(url_for(".results", slug=slug) + "#contact")
