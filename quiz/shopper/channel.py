"""What differs when the shopper pages run inside a partner's iframe (the widget) rather than on
Attune's own site: no cookies, so state, messages and CSRF ride on signed tokens in the page;
links keep the widget's token and language; events go to the host page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, flash, g, get_flashed_messages, request
from flask_babel import gettext
from itsdangerous import BadSignature, URLSafeTimedSerializer
from markupsafe import Markup, escape
from wtforms import ValidationError
from wtforms.csrf.core import CSRF

from ..platform.i18n import PARAMETER as LANG_PARAMETER
from ..platform.i18n import current_locale
from .state import STATE_FIELD, current_state_token, in_widget, widget_progress

NOTICE_PARAMETER = "note"
ORIGIN_PARAMETER = "origin"


def _signer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=f"attune.widget.{purpose}")  # type: ignore[arg-type]


def _max_age() -> int:
    return int(current_app.config["WIDGET_STATE_MAX_AGE"])


class WidgetCSRF(CSRF):
    """CSRF protection without a session cookie: a signed, expiring token bound to one widget run."""

    def setup_form(self, form: Any) -> Any:
        """Remember what the tokens of this form are bound to."""
        self.context = str(form.meta.csrf_context or "")
        return super().setup_form(form)

    def generate_csrf_token(self, csrf_token_field: Any) -> str:
        """Return a fresh token for the form."""
        return _signer("csrf").dumps(self.context)

    def validate_csrf_token(self, form: Any, field: Any) -> None:
        """Refuse a token that is forged, expired, or made for another run."""
        try:
            bound = _signer("csrf").loads(field.data or "", max_age=_max_age())
        except BadSignature as exc:
            raise ValidationError(gettext("The form expired; please reload the page and try again.")) from exc
        if bound != self.context:
            raise ValidationError(gettext("The form expired; please reload the page and try again."))


def form_meta() -> dict[str, Any]:
    """Return the flask-wtf settings of a shopper form on this page (cookie-free in the widget)."""
    if not in_widget():
        return {}
    return {"csrf_class": WidgetCSRF, "csrf_context": _run_id()}


def _run_id() -> str:
    """Return what binds the widget's forms: the quiz run's nonce, else the privacy link's token.

    Privacy pages name no merchant in their address; their run is the one of the link's merchant
    (so a form of one run, say a link's confirm step, cannot be replayed into another).
    """
    slug = (request.view_args or {}).get("slug") or _link_merchant_slug()
    progress = widget_progress(slug) if slug else None
    if progress is not None:
        return progress.nonce
    return str((request.view_args or {}).get("token", ""))


def _link_merchant_slug() -> str | None:
    merchant = g.get("widget_merchant")  # set for every widget page (quiz.shopper.widget.find_merchant)
    return str(merchant.slug) if merchant is not None else None


def channel_name() -> str:
    """Return where the shopper is, as consent records name it: "widget" or "site"."""
    return "widget" if in_widget() else "site"


def partner_site(slug: str) -> str | None:
    """Return the partner site ("shop.example") the widget runs on for ``slug``; None on Attune's site."""
    progress = widget_progress(slug) if in_widget() else None
    return urlsplit(progress.origin).netloc if progress and progress.origin else None


def _run_origin() -> str | None:
    """Return the partner origin of the run this page belongs to (from its state, else its address)."""
    slug = (request.view_args or {}).get("slug")
    progress = widget_progress(slug) if slug else None
    return progress.origin if progress and progress.origin else request.args.get(ORIGIN_PARAMETER)


def notify(message: str) -> None:
    """Show ``message`` on the next page: flashed on the site, carried in the link in the widget."""
    if in_widget():
        g.setdefault("widget_notices", []).append(message)
    else:
        flash(message)


def notices() -> list[str]:
    """Return the messages for this page."""
    if not in_widget():
        return [str(m) for m in get_flashed_messages()]
    carried = request.args.get(NOTICE_PARAMETER, "")
    try:
        shown = list(_signer("notice").loads(carried, max_age=_max_age())) if carried else []
    except BadSignature:
        shown = []
    return shown + list(g.get("widget_notices", []))


def keep_widget_context(endpoint: str, values: dict[str, Any]) -> None:
    """Give links and redirects between widget pages the run's token, language and messages."""
    token = current_state_token()
    if token:
        values[STATE_FIELD] = token  # always the newest: the one this request saved, if it saved one
    values.setdefault(LANG_PARAMETER, current_locale())
    origin = _run_origin()
    if origin:  # lets an expired run start again on the same partner site (checked against the list)
        values.setdefault(ORIGIN_PARAMETER, origin)
    pending = g.get("widget_notices")
    if pending and NOTICE_PARAMETER not in values:
        values[NOTICE_PARAMETER] = _signer("notice").dumps(pending)


def emit(kind: str, **data: Any) -> None:
    """Queue an event for the host page of the widget (ignored on the site)."""
    if in_widget():
        g.setdefault("widget_events", []).append({"type": kind, "data": data})


def template_context() -> dict[str, Any]:
    """Return what shopper templates need to know about the channel they render for."""
    widget = in_widget()

    def state_field() -> Markup:
        token = current_state_token() if widget else None
        if not token:
            return Markup("")
        return Markup(f'<input type="hidden" name="{STATE_FIELD}" value="{escape(token)}">')

    def events() -> list[dict[str, Any]]:
        return list(g.get("widget_events", []))

    return {"in_widget": widget, "state_field": state_field, "widget_events": events, "notices": notices}
