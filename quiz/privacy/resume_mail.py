"""The email with a saved quiz's link, sent on the shopper's request from the "saved" page."""

from __future__ import annotations

from flask import render_template
from flask_babel import force_locale, gettext

from ..models import Merchant
from ..platform import mailer


def send_resume_link(merchant: Merchant, address: str, link: str, days: int, locale: str) -> None:
    """Send the link that resumes a saved quiz to ``address``, from the shop, in the shopper's language."""
    with force_locale(locale):
        subject = gettext("Your saved answers at %(shop)s", shop=merchant.name)
        body = gettext(
            "Here is the link to finish the quiz at %(shop)s where you stopped. It works for %(days)s days, "
            "on any device:\n%(link)s\n\nKeep it to yourself: anyone with the link can see and change these "
            "answers.",
            shop=merchant.name,
            days=days,
            link=link,
        )
        html = render_template(
            "email/resume.html", subject=subject, shop=merchant.name, link=link, days=days, locale=locale
        )
    mailer.send(address, subject, body, merchant.slug, html=html, sender_name=merchant.name)
