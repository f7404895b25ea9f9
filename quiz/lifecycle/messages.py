"""A journey's email: multipart text and HTML in the shopper's language, from the shop, with one-click unsubscribe."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import render_template, url_for
from flask_babel import force_locale, gettext

from ..models import Journey, Merchant, Profile
from ..platform import mailer
from ..privacy import quiz_sessions
from ..privacy.email_optin import public_url
from ..shopping.subjects import Subject, issue_token
from .journeys import Candidate, text
from .unsubscribe import token_for


@dataclass(frozen=True)
class Message:
    """A rendered message, ready to go."""

    to: str
    subject: str
    body: str
    html: str
    headers: dict[str, str]


def render(merchant: Merchant, candidate: Candidate, locale: str, products: Sequence[dict[str, Any]]) -> Message:
    """Return the journey's message for the candidate (its address must be confirmed)."""
    profile: Profile = candidate.profile
    journey: Journey = candidate.journey
    unsubscribe = public_url(url_for("shopper.unsubscribe", token=token_for(merchant, profile.subject_id)))
    privacy = public_url(url_for("shopper.privacy", token=issue_token(Subject(profile.subject_id, merchant.id))))
    resume = None
    if candidate.resume_session is not None:
        token = quiz_sessions.token_for(candidate.resume_session)
        resume = public_url(url_for("shopper.resume", slug=merchant.slug, token=token))
    with force_locale(locale):
        subject, intro = text(journey, locale, merchant.name)
        lines = [intro, ""]
        if resume:
            lines += [gettext("Carry on where you stopped:"), resume, ""]
        for item in products:
            lines.append(f"- {item['title']}: {item['url']}")
        lines += [
            "",
            gettext("You get this because you allowed %(shop)s to email you.", shop=merchant.name),
            gettext("Unsubscribe: %(link)s", link=unsubscribe),
            gettext("Your data and choices: %(link)s", link=privacy),
        ]
        html = render_template(
            "email/journey.html",
            subject=subject,
            intro=intro,
            products=products,
            resume=resume,
            shop=merchant.name,
            unsubscribe=unsubscribe,
            privacy=privacy,
            locale=locale,
        )
    headers = {"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    return Message(str(profile.email), subject, "\n".join(lines).strip() + "\n", html, headers)


def deliver(merchant: Merchant, message: Message) -> None:
    """Send the message through SMTP when configured, else into the outbox."""
    mailer.send(
        message.to,
        message.subject,
        message.body,
        merchant.slug,
        html=message.html,
        sender_name=merchant.name,
        headers=message.headers,
    )
