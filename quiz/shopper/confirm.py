"""Double opt-in: the page a confirmation link opens, and the buttons on it."""

from __future__ import annotations

from flask import abort, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from ..models import Merchant, Profile
from ..platform.db import get_session
from ..platform.i18n import current_locale
from ..privacy import email_optin
from . import page
from .forms import ConfirmEmailForm, ResendForm


@page("/confirm/<token>", methods=["GET", "POST"], framed=False)
def confirm_email(token: str) -> ResponseReturnValue:
    """Show the address to confirm (GET) and confirm it (POST), once."""
    form = ConfirmEmailForm()
    if form.validate_on_submit():
        result = email_optin.confirm(token)
        return _page(result.outcome, result.profile, token)
    outcome, profile = email_optin.read_link(token)
    return _page(outcome or "pending", profile, token, form)


@page("/confirm/<token>/resend", methods=["POST"], framed=False)
def resend_confirmation(token: str) -> ResponseReturnValue:
    """Send a new link in place of an expired one (only while the shopper still allows email)."""
    if not ResendForm().validate_on_submit():
        abort(400, description=gettext("The form expired; please reload the page and try again."))
    outcome, profile = email_optin.read_link(token)
    if outcome != "expired" or profile is None or not email_optin.needs_confirmation(profile):
        return _page(outcome or "pending", profile, token)
    merchant = get_session().get(Merchant, profile.merchant_id)
    if merchant is None or not email_optin.may_email(profile):
        return _page("invalid", None, token)
    email_optin.request_confirmation(merchant, profile, current_locale())
    return _page("resent", profile, token)


def _page(
    outcome: str, profile: Profile | None, token: str, form: ConfirmEmailForm | None = None
) -> ResponseReturnValue:
    status = 404 if outcome == "invalid" else 200
    merchant = get_session().get(Merchant, profile.merchant_id) if profile is not None else None
    return render_template(
        "shopper/confirm.html",
        outcome=outcome,
        profile=profile,
        merchant=merchant,
        token=token,
        form=form or ConfirmEmailForm(formdata=None),
        resend_form=ResendForm(formdata=None),
    ), status
