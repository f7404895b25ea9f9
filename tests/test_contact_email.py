"""Email that leads somewhere: the address asked in the flow, the confirmation mail from the shop
(checked as it arrives at a real SMTP server), "check your inbox", "confirmed", the campaign export,
the under-age sentence, and the editor's warning for a quiz without an address question."""

from __future__ import annotations

import os
import re
import socket
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from .test_accessibility import violations

SHOP = "Trailhead Supply Co."
# Screenshots of the new screens, for a person to look at (outside the repository).
SHOTS = Path(os.environ.get("ATTUNE_SHOTS", Path(tempfile.gettempdir()) / "attune-shots"))

# What a shopper reads, per language: consent buttons, quiz labels, results texts.
TEXT = {
    "en": {
        "accept": "Accept all",
        "necessary": "Only what's needed",
        "first_name": "First name",
        "age": "25-34",
        "under_16": "Under 16",
        "myself": "Shopping for myself",
        "looking": "What are you looking for?",
        "week": "This week",
        "any": "Any category",
        "to": "To",
        "no_pref": "No preference",
        "email_channel": "Email",
        "continue": "Continue",
        "see": "See my recommendations",
        "address": "Your email address",
        "inbox": "Check your inbox",
        "confirmed": "is confirmed",
        "subject": "Please confirm your email for",
        "button": "Confirm my email",
        "heading_done": "Email confirmed",
        "under_age": "Email and SMS are off because you told us you are under 16",
        "ask": "Where should we send your picks?",
        "send": "Send me a confirmation link",
    },
    "es": {
        "accept": "Aceptar todo",
        "necessary": "Solo lo necesario",
        "first_name": "Nombre",
        "age": "25-34",
        "under_16": "Menos de 16",
        "myself": "Compro para mí",
        "looking": "¿Qué estás buscando?",
        "week": "Esta semana",
        "any": "Cualquier categoría",
        "to": "Hasta",
        "no_pref": "Me da igual",
        "email_channel": "Correo electrónico",
        "continue": "Continuar",
        "see": "Ver mis recomendaciones",
        "address": "Tu correo electrónico",
        "inbox": "Revisa tu bandeja de entrada",
        "confirmed": "está confirmado",
        "subject": "Confirma tu correo electrónico para",
        "button": "Confirmar mi correo",
        "heading_done": "Correo electrónico confirmado",
        "under_age": "El correo electrónico y los SMS están desactivados porque nos dijiste que tienes menos de 16",
        "ask": "¿Adónde te enviamos tus recomendaciones?",
        "send": "Enviarme un enlace de confirmación",
    },
}


class Inbox:
    """What a real SMTP server (aiosmtpd, on a free local port) received."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        with self.arrived:
            self.messages.append(message)  # type: ignore[arg-type]
            self.arrived.notify_all()
        return "250 OK"

    def wait(self, count: int = 1, timeout: float = 10) -> list[EmailMessage]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.messages) >= count, timeout=timeout)
        assert len(self.messages) >= count, f"expected {count} message(s), got {len(self.messages)}"
        return self.messages


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def smtp_inbox(app: Flask) -> Iterator[Inbox]:
    """Start a real SMTP server and point the app's mail at it (no STARTTLS on localhost)."""
    from aiosmtpd.controller import Controller

    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    app.config.update(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=controller.port,
        SMTP_STARTTLS=False,
        MAIL_FROM="Attune <picks@shop.example>",
    )
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def inbox(app: Flask) -> Iterator[Inbox]:
    """A real SMTP server for the test's app."""
    with smtp_inbox(app) as handler:
        yield handler


def bodies(message: EmailMessage) -> tuple[str, str]:
    """Return the text and HTML parts of a message."""
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None, "a text and an HTML part"
    return text.get_content(), html.get_content()


def quiz_until_contact(page: Any, base: str, lang: str, *, accept: bool = True, age: str = "age") -> None:
    """Take the demo quiz in ``lang`` up to the last section, filled in but not sent."""
    t = TEXT[lang]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{base}/?lang={lang}")
    page.get_by_role("button", name=t["accept"] if accept else t["necessary"]).click()
    page.get_by_label(t["first_name"]).fill("Ada")
    page.get_by_label(t[age], exact=True).check()
    page.locator("select").select_option("ES")
    page.get_by_role("button", name=t["continue"]).click()
    page.get_by_label(t["myself"]).check()
    page.get_by_label(t["looking"]).fill("lightweight waterproof jacket for hiking")
    page.get_by_label(t["week"]).check()
    page.get_by_role("button", name=t["continue"]).click()
    page.get_by_label(t["any"]).check()
    page.get_by_label(t["to"], exact=True).fill("400")
    page.get_by_label(t["no_pref"]).check()


def confirm_link(text: str, base: str) -> str:
    link = re.search(r"http://localhost(/confirm/\S+)", text)
    assert link, text
    return base + link.group(1)


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "es"])
def test_an_address_given_in_the_quiz_is_confirmed_from_a_mail_sent_by_the_shop(
    app: Flask, browser: Any, live_server: str, inbox: Inbox, lang: str
) -> None:
    t = TEXT[lang]
    context = browser.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    quiz_until_contact(page, live_server, lang)
    page.get_by_label(t["email_channel"], exact=True).check()
    page.get_by_label(t["address"]).fill(f"ada-{lang}@example.com")
    page.get_by_label(t["address"]).screenshot(path=str(SHOTS / f"quiz-address-{lang}-375.png"))
    assert violations(page) == []
    page.get_by_role("button", name=t["see"]).click()
    status = page.locator("#contact")
    assert t["inbox"] in status.inner_text() and f"ada-{lang}@example.com" in status.inner_text()
    assert violations(page) == []
    page.screenshot(path=str(SHOTS / f"results-check-inbox-{lang}-375.png"), full_page=False)

    message = inbox.wait()[0]
    name, address = parseaddr(str(message["From"]))
    assert name == SHOP and address == "picks@shop.example"
    assert message["To"] == f"ada-{lang}@example.com"
    assert str(message["Subject"]).startswith(t["subject"])
    text, html = bodies(message)
    assert f'lang="{lang}"' in html and t["button"] in html and "<a href=" in html
    link = confirm_link(text, live_server)
    assert link.replace(live_server, "http://localhost") in html

    page.goto(link)
    page.get_by_role("button", name=t["button"]).click()
    assert page.get_by_role("heading", level=1).inner_text() == t["heading_done"]
    assert violations(page) == []
    page.goto(f"{live_server}/m/demo/results")
    assert t["confirmed"] in page.locator("#contact").inner_text()
    assert t["inbox"] not in page.content()
    context.close()

    from quiz import merchants
    from quiz.marketing import campaigns

    with app.app_context():
        export = campaigns.export(merchants.get_by_slug("demo"), "email", "csv", 3)
        assert f"ada-{lang}@example.com" in export.body


@pytest.mark.browser
def test_the_address_question_is_asked_only_of_shoppers_who_allowed_email(browser: Any, live_server: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    quiz_until_contact(page, live_server, "en", accept=False)
    assert page.get_by_label("Your email address").count() == 0
    assert page.get_by_label("Your mobile number").count() == 0
    context.close()


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_shopper_under_the_consent_age_is_told_why_email_and_sms_are_off(
    browser: Any, live_server: str, lang: str
) -> None:
    t = TEXT[lang]
    context = browser.new_context()
    page = context.new_page()
    quiz_until_contact(page, live_server, lang, age="under_16")
    assert page.get_by_label(t["address"]).count() == 0, "no address asked below the consent age"
    page.get_by_role("button", name=t["see"]).click()
    sentence = page.locator("#contact").inner_text()
    assert sentence.startswith(t["under_age"]) and sentence.count(".") == 1, sentence
    context.close()


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_quiz_without_an_address_question_asks_on_the_results_page(
    app: Flask, browser: Any, live_server: str, inbox: Inbox, lang: str
) -> None:
    from quiz import merchants, quizzes
    from quiz.platform.db import transaction

    with app.app_context():
        merchant = merchants.get_by_slug("demo")
        definition = quizzes.default_definition()
        for section in definition["sections"]:
            section["questions"] = [q for q in section["questions"] if q.get("role") not in ("email", "phone")]
        with transaction():
            quizzes.publish(merchant, definition)
    t = TEXT[lang]
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    quiz_until_contact(page, live_server, lang)
    page.get_by_role("button", name=t["see"]).click()
    assert page.get_by_role("heading", name=t["ask"]).is_visible()
    page.locator("#contact").screenshot(path=str(SHOTS / f"results-ask-{lang}-1280.png"))
    assert violations(page) == []
    page.get_by_label(t["address"]).fill("not an address")
    page.get_by_role("button", name=t["send"]).click()
    error = page.locator("#contact-error")
    assert error.is_visible() and "@" in error.inner_text() and not inbox.messages
    assert page.get_by_label(t["address"]).get_attribute("aria-invalid") == "true"
    assert violations(page) == []
    page.get_by_label(t["address"]).fill(f"grace-{lang}@example.com")
    page.get_by_role("button", name=t["send"]).click()
    assert t["inbox"] in page.locator("#contact").inner_text()
    assert inbox.wait()[0]["To"] == f"grace-{lang}@example.com"
    context.close()


def test_the_quiz_editor_warns_about_a_quiz_that_asks_for_no_address(app: Flask) -> None:
    from quiz.privacy.contact_questions import editor_warnings
    from quiz.quizzes import default_definition
    from quiz.quizzes.schema import load_quiz

    assert editor_warnings(load_quiz(default_definition())) == []
    definition = default_definition()
    for section in definition["sections"]:
        section["questions"] = [q for q in section["questions"] if q.get("role") != "email"]
    warnings = editor_warnings(load_quiz(definition))
    assert len(warnings) == 1 and "email address" in warnings[0]
