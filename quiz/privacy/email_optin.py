"""Double opt-in for email: an address becomes marketable only after its owner follows the link
sent to it. Links are signed, expire (``EMAIL_CONFIRM_MAX_AGE``) and work once: each new link
replaces the one before, and confirming uses it up.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Literal, TypeGuard

import sqlalchemy as sa
from flask import current_app, render_template, request, url_for
from flask_babel import force_locale, gettext
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..models import Merchant, Profile, utcnow
from ..platform import mailer
from ..platform.db import get_session, transaction
from ..quizzes.answers import EMAIL
from .consent import current_state

MAX_ADDRESS = 254
Outcome = Literal["confirmed", "already", "expired", "invalid"]
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Confirmation:
    """What following a link did, and the profile it was for (None when unknown)."""

    outcome: Outcome
    profile: Profile | None


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="attune.email.confirm")  # type: ignore[arg-type]


def needs_confirmation(profile: Profile | None) -> TypeGuard[Profile]:
    """Return whether ``profile`` holds an address that is not confirmed yet."""
    return profile is not None and bool(profile.email) and profile.email_confirmed_at is None


def may_email(profile: Profile) -> bool:
    """Return whether the shopper allows `email` now."""
    state = current_state(profile.merchant_id, profile.subject_id)
    return state is not None and state.allows("email")


def is_marketable(profile: Profile) -> bool:
    """Return whether the profile's address may receive campaigns: confirmed, with `email` consent now."""
    return bool(profile.email) and profile.email_confirmed_at is not None and may_email(profile)


def valid_address(text: str | None) -> bool:
    """Return whether ``text`` looks like an email address (the quiz's own check)."""
    return bool(text) and len(text.strip()) <= MAX_ADDRESS and EMAIL.match(text.strip()) is not None


def change_address(profile: Profile, address: str) -> None:
    """Keep a new address on the profile, unconfirmed until its owner follows the link sent to it."""
    with transaction():
        profile = get_session().merge(profile)
        if profile.email != address:
            profile.email, profile.email_confirmed_at, profile.email_confirm_nonce = address, None, None


def request_confirmation(merchant: Merchant, profile: Profile, locale: str) -> None:
    """Send a fresh confirmation link to the profile's address (the previous link stops working)."""
    with transaction():
        profile = get_session().merge(profile)
        profile.email_confirm_nonce = secrets.token_hex(16)
        token = _signer().dumps({"p": profile.id, "n": profile.email_confirm_nonce})
        address = str(profile.email)
    link = public_url(url_for("shopper.confirm_email", token=token, lang=locale))
    with force_locale(locale):
        subject = gettext("Please confirm your email for %(shop)s", shop=merchant.name)
        body = gettext(
            "You asked %(shop)s to send you recommendations and offers by email.\n\n"
            "Confirm that this is your address by opening this link within 7 days:\n%(link)s\n\n"
            "If it was not you, ignore this message: nothing will be sent.",
            shop=merchant.name,
            link=link,
        )
        html = render_template(
            "email/confirm.html", subject=subject, shop=merchant.name, address=address, link=link, locale=locale
        )
    try:
        mailer.send(address, subject, body, merchant.slug, html=html, sender_name=merchant.name)
    except Exception:  # the answers are saved; the shopper can ask for a new link from the page
        logger.exception("could not send the confirmation email of profile %s", profile.id)


def read_link(token: str) -> tuple[Outcome | None, Profile | None]:
    """Return the profile a link names, with "expired" or "invalid" when it cannot confirm."""
    try:
        data = _signer().loads(token, max_age=current_app.config["EMAIL_CONFIRM_MAX_AGE"])
        problem: Outcome | None = None
    except SignatureExpired as exc:
        data, problem = _signer().load_payload(exc.payload), "expired"
    except BadSignature:
        return "invalid", None
    profile = get_session().get(Profile, data.get("p")) if isinstance(data, dict) else None
    if profile is None:
        return "invalid", None
    if profile.email_confirm_nonce != data.get("n"):  # replaced by a newer link, or used
        return ("already" if profile.email_confirmed_at else "invalid"), profile
    return problem, profile


def confirm(token: str) -> Confirmation:
    """Confirm the address a link was sent to, once."""
    problem, profile = read_link(token)
    if problem is not None or profile is None:
        return Confirmation(problem or "invalid", profile)
    with transaction():
        # Only while this link is still the profile's: a new address in between is not confirmed by it.
        result = get_session().execute(
            sa.update(Profile)
            .where(Profile.id == profile.id, Profile.email_confirm_nonce == profile.email_confirm_nonce)
            .values(email_confirmed_at=utcnow(), email_confirm_nonce=None)
            .execution_options(synchronize_session=False)
        )
    if not getattr(result, "rowcount", 0):
        return Confirmation("invalid", profile)
    get_session().refresh(profile)
    return Confirmation("confirmed", profile)


def public_url(path: str) -> str:
    """Return an absolute link for a message: on ``PUBLIC_URL`` when set (never on a request's Host header)."""
    base = current_app.config.get("PUBLIC_URL") or request.host_url
    return base.rstrip("/") + path
