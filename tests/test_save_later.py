"""Smaller things shoppers hit: "Save and finish later" with required questions still open, the
saved page's "copy link" and "email me the link", and the language switch in the middle of a page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.utils import parseaddr
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from .test_accessibility import AXE, violations
from .test_contact_email import SHOTS, TEXT, Inbox, bodies, smtp_inbox

pytestmark = pytest.mark.browser


@pytest.fixture
def inbox(app: Flask) -> Iterator[Inbox]:
    """A real SMTP server for the test's app."""
    with smtp_inbox(app) as handler:
        yield handler


SAVED = {
    "en": {
        "later": "Save and finish later",
        "saved": "Your answers are saved",
        "copy": "Copy link",
        "copied": "Link copied",
        "mail": "Email me the link",
        "sent": "Sent to",
        "subject": "Your saved answers at",
        "carry_on": "Carry on now",
    },
    "es": {
        "later": "Guardar y terminar más tarde",
        "saved": "Tus respuestas están guardadas",
        "copy": "Copiar el enlace",
        "copied": "Enlace copiado",
        "mail": "Enviarme el enlace por correo",
        "sent": "Enviado a",
        "subject": "Tus respuestas guardadas en",
        "carry_on": "Continuar ahora",
    },
}


def start(page: Any, base: str, lang: str, *, accept: bool = True) -> None:
    t = TEXT[lang]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{base}/?lang={lang}")
    page.get_by_role("button", name=t["accept"] if accept else t["necessary"]).click()


@pytest.mark.parametrize("lang", ["en", "es"])
def test_save_and_finish_later_keeps_answers_while_required_ones_are_open(
    browser: Any, live_server: str, lang: str
) -> None:
    t, s = TEXT[lang], SAVED[lang]
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    start(page, live_server, lang)
    page.get_by_label(t["first_name"]).fill("Ada")  # age and country (required) left open
    page.get_by_role("button", name=s["later"]).click()
    assert page.get_by_role("heading", level=1).inner_text() == s["saved"]
    link = page.locator("#resume-link").input_value()
    context.close()

    fresh = browser.new_context(java_script_enabled=False, locale="es-ES" if lang == "es" else "en-US")
    page = fresh.new_page()
    page.goto(link.replace("http://localhost", live_server))
    if page.get_by_role("button", name=t["accept"]).count():  # a new browser decides for itself first
        page.get_by_role("button", name=t["accept"]).click()
    assert page.get_by_label(t["first_name"]).input_value() == "Ada"
    fresh.close()


@pytest.mark.parametrize(("lang", "width"), [("en", 375), ("es", 1280), ("en", 1280), ("es", 375)])
def test_the_saved_page_copies_the_link_and_emails_it(
    app: Flask, browser: Any, live_server: str, inbox: Inbox, lang: str, width: int
) -> None:
    t, s = TEXT[lang], SAVED[lang]
    context = browser.new_context(viewport={"width": width, "height": 800})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page = context.new_page()
    start(page, live_server, lang)
    page.get_by_label(t["age"], exact=True).check()
    page.locator("select").select_option("ES")
    page.get_by_role("button", name=s["later"]).click()
    link = page.locator("#resume-link").input_value()
    assert violations(page) == [] if AXE.exists() else pytest.fail(f"{AXE} is missing")
    page.screenshot(path=str(SHOTS / f"saved-{lang}-{width}.png"), full_page=True)

    page.get_by_role("button", name=s["copy"]).click()
    expect(page.locator(".copy-status")).to_have_text(s["copied"])
    assert page.evaluate("navigator.clipboard.readText()") == link

    page.get_by_label(t["address"]).fill("not an address")
    page.get_by_role("button", name=s["mail"]).click()
    assert page.locator("#mail-error").is_visible() and not inbox.messages
    page.get_by_label(t["address"]).fill(f"ada-{lang}@example.com")
    page.get_by_role("button", name=s["mail"]).click()
    assert s["sent"] in page.get_by_role("status").filter(has_text="@").inner_text()
    page.screenshot(path=str(SHOTS / f"saved-mailed-{lang}-{width}.png"), full_page=True)

    message = inbox.wait()[0]
    assert parseaddr(str(message["From"]))[0] == "Trailhead Supply Co."
    assert message["To"] == f"ada-{lang}@example.com" and str(message["Subject"]).startswith(s["subject"])
    text, html = bodies(message)
    assert f'lang="{lang}"' in html and s["carry_on"] in html
    mailed = re.search(r"http://localhost/m/demo/resume/\S+", text)
    # The same saved quiz (the signed id; the signature's timestamp differs by the moment it was made).
    assert mailed and mailed.group(0).rsplit("/", 1)[-1].split(".")[0] == link.rsplit("/", 1)[-1].split(".")[0]
    context.close()


def test_no_email_offer_without_email_consent(browser: Any, live_server: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    start(page, live_server, "en", accept=False)
    page.get_by_role("button", name=SAVED["en"]["later"]).click()
    assert page.get_by_role("heading", level=1).inner_text() == SAVED["en"]["saved"]
    assert page.get_by_role("heading", name=SAVED["en"]["mail"]).count() == 0
    context.close()


SWITCH = {
    "en": {"language": "Language", "intent": "Your intent today"},
    "es": {"language": "Idioma", "intent": "Qué buscas hoy"},
}


@pytest.mark.parametrize("javascript", [True, False])
@pytest.mark.parametrize(("lang", "other", "width"), [("en", "es", 1280), ("es", "en", 375)])
def test_switching_language_in_the_middle_of_a_page_keeps_what_was_typed(
    browser: Any, live_server: str, lang: str, other: str, width: int, javascript: bool
) -> None:
    t, o = TEXT[lang], TEXT[other]
    names = {"en": "English", "es": "Español"}
    context = browser.new_context(java_script_enabled=javascript, viewport={"width": width, "height": 800})
    page = context.new_page()
    start(page, live_server, lang)
    page.get_by_label(t["age"], exact=True).check()
    page.locator("select").select_option("NO")
    page.get_by_label(t["first_name"]).fill("Ada")
    with page.expect_navigation():
        # Enter in a field means "Continue", not the language switch (which submits this form too).
        page.get_by_label(t["first_name"]).press("Enter")
    assert page.get_by_role("heading", level=1).inner_text() == SWITCH[lang]["intent"]
    page.get_by_label(t["looking"]).fill("a warm jacket for winter dog walks")  # required ones left open
    page.get_by_label(t["week"]).check()
    switch = page.get_by_role("navigation", name=SWITCH[lang]["language"]).get_by_role("button", name=names[other])
    assert switch.is_visible(), "the switch sits where it always is, in the header"
    with page.expect_navigation():
        switch.click()
    assert page.locator("html").get_attribute("lang") == other
    assert page.get_by_role("heading", level=1).inner_text() == SWITCH[other]["intent"], "the same step"
    assert page.get_by_label(o["looking"]).input_value() == "a warm jacket for winter dog walks"
    assert page.get_by_label(o["week"]).is_checked()
    assert page.locator(".error").count() == 0, "a language switch is not a submission"
    if javascript:  # axe runs as a script in the page
        assert violations(page) == [] if AXE.exists() else pytest.fail(f"{AXE} is missing")

    back = page.get_by_role("navigation", name=SWITCH[other]["language"]).get_by_role("button", name=names[lang])
    with page.expect_navigation():
        back.click()
    assert page.locator("html").get_attribute("lang") == lang
    assert page.get_by_label(t["looking"]).input_value() == "a warm jacket for winter dog walks"
    assert page.get_by_label(t["week"]).is_checked()
    context.close()
