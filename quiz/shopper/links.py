"""The confirm step of a link to a stored run ("Take the quiz again", resume), on the site and in the widget.

A GET binds only a browser that already is the link's subject. Any other browser gets the
explainer, headed by what the link's owner allowed to be kept, and is bound only by its own
decision POSTed from that page (CSRF-checked: the session's token on the site, the run's signed
token in the widget).
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from ..models import Merchant
from ..platform.db import transaction
from ..privacy.consent import ConsentEnded
from ..privacy.explainer import Explainer, merchant_explainer
from ..shopping import returning
from ..shopping.returning import SavedRun
from ..shopping.subjects import read_token
from .channel import channel_name, notify, partner_site
from .forms import ConsentForm
from .state import in_widget, load_progress


def is_subject(slug: str, subject_id: str) -> bool:
    """Return whether this browser (or widget run) already takes the quiz at ``slug`` as ``subject_id``."""
    progress = load_progress(slug)
    subject = read_token(progress.token) if progress is not None and progress.token else None
    return subject is not None and subject.subject_id == subject_id


def confirm_or_bind(merchant: Merchant, subject_id: str, saved: SavedRun) -> ResponseReturnValue | None:
    """Return the page to show instead of binding this browser to ``subject_id``, or None to bind it now.

    None for a GET from a browser already that subject, and for a valid decision POSTed from the
    confirm page (recorded first, as the shopper's own decision for the subject).
    """
    if request.method != "POST":
        return None if is_subject(merchant.slug, subject_id) else _confirm_page(merchant, saved, ConsentForm())
    form = ConsentForm()
    if not form.validate_on_submit():
        return _confirm_page(merchant, saved, form, 400)
    explainer = _explainer(merchant)
    if form.explainer_version.data != explainer.version:
        notify(gettext("This explanation changed while you were reading it. Please read it again and choose."))
        return _confirm_page(merchant, saved, ConsentForm(formdata=None), 409)
    run = load_progress(merchant.slug) if in_widget() else None
    if in_widget() and run is None:  # the widget's signed state expired or was tampered with
        notify(gettext("This page expired; please choose again."))
        return redirect(url_for(".explainer", slug=merchant.slug))
    try:
        with transaction():
            returning.decide(
                merchant,
                subject_id,
                form.purposes(),
                explainer,
                source=channel_name(),
                origin=run.origin if run is not None else None,
                notice_layers=form.notice_layers(),
            )
    except ConsentEnded:
        notify(gettext("This link has expired or its answers were deleted. You are welcome to start again."))
        return redirect(url_for(".explainer", slug=merchant.slug))
    return None


def _explainer(merchant: Merchant) -> Explainer:
    return merchant_explainer(merchant, partner=partner_site(merchant.slug))


def _confirm_page(merchant: Merchant, saved: SavedRun, form: ConsentForm, status: int = 200) -> ResponseReturnValue:
    explainer = _explainer(merchant)
    form.explainer_version.data = explainer.version
    action = url_for(str(request.endpoint), **(request.view_args or {}))
    return render_template(
        "shopper/explainer.html",
        merchant=merchant,
        explainer=explainer,
        form=form,
        saved_run=saved,
        form_action=action,
    ), status
