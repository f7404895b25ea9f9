"""The privacy page confirms before it withdraws or deletes, says what will be gone, lists every
stored field once and no answer that consent no longer covers; deletion is one ledger event."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from quiz.models import ConsentRecord
from quiz.platform.db import get_session

from .conftest import csrf_token
from .test_accessibility import violations
from .test_contact_email import SHOTS, TEXT, quiz_until_contact

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "privacy": "Your data and privacy",
        "first_name": "First name",
        "save": "Save my choices",
        "stop_title": "Stop keeping your profile?",
        "yes_stop": "Yes, stop keeping my profile",
        "delete": "Delete my data",
        "delete_title": "Delete your data?",
        "yes_delete": "Yes, delete my data",
        "cancel": "Cancel, keep my data",
        "keep_profile": "Cancel, keep my profile",
        "gone": "your email address",
        "nothing": "Nothing about you is stored here any more",
        "deleted": "deleted",
        "channels": "How would you like to hear from us?",
    },
    "es": {
        "privacy": "Tus datos y tu privacidad",
        "first_name": "Nombre",
        "save": "Guardar mis decisiones",
        "stop_title": "¿Dejamos de guardar tu perfil?",
        "yes_stop": "Sí, dejar de guardar mi perfil",
        "delete": "Borrar mis datos",
        "delete_title": "¿Borramos tus datos?",
        "yes_delete": "Sí, borrar mis datos",
        "cancel": "Cancelar, conservar mis datos",
        "keep_profile": "Cancelar, conservar mi perfil",
        "gone": "tu dirección de correo electrónico",
        "nothing": "Aquí ya no se guarda nada sobre ti",
        "deleted": "borrado",
        "channels": "¿Cómo prefieres que te contactemos?",
    },
}


def ledger_actions(app: Flask) -> list[str]:
    with app.app_context():
        return list(get_session().scalars(sa.select(ConsentRecord.action).order_by(ConsentRecord.id)))


def finish_with_email(page: Any, base: str, lang: str) -> None:
    t = TEXT[lang]
    quiz_until_contact(page, base, lang)
    page.get_by_label(t["email_channel"], exact=True).check()
    page.get_by_label(t["address"]).fill("ada@example.com")
    page.get_by_role("button", name=t["see"]).click()


def stored(page: Any) -> dict[str, str]:
    terms = page.locator("dl.stored dt").all_inner_texts()
    values = page.locator("dl.stored dd").all_inner_texts()
    assert len(terms) == len(set(terms)), f"a field listed twice: {terms}"
    return dict(zip(terms, values, strict=True))


# Without JavaScript the second step must work; with it, axe-core checks each new screen.
@pytest.mark.parametrize(
    ("lang", "width", "javascript"), [("en", 1280, False), ("es", 375, False), ("en", 375, True), ("es", 1280, True)]
)
def test_withdrawing_and_deleting_ask_first_and_the_page_tells_the_truth(
    app: Flask, browser: Any, live_server: str, lang: str, width: int, javascript: bool
) -> None:
    w = WORDS[lang]
    context = browser.new_context(java_script_enabled=javascript, viewport={"width": width, "height": 800})

    def accessible() -> bool:
        return not javascript or violations(page) == []

    page = context.new_page()
    t = TEXT[lang]
    finish_with_email(page, live_server, lang)
    page.get_by_role("link", name=w["privacy"]).first.click()
    # The first name is both a profile field and an answer: listed once.
    fields = stored(page)
    assert fields[w["first_name"]] == "Ada" and fields[w["channels"]] == t["email_channel"]

    # Withdrawing email: the address goes, and the channel answer no longer says "Email".
    page.locator("#change-email").uncheck()
    with page.expect_navigation():  # a form post: read the page it lands on
        page.get_by_role("button", name=w["save"]).click()
    fields = stored(page)
    assert w["channels"] not in fields and "ada@example.com" not in page.content()

    # Withdrawing the profile asks first and says what will be gone; cancelling keeps everything.
    page.locator("#change-profile").uncheck()
    with page.expect_navigation():  # a form post: read the page it lands on
        page.get_by_role("button", name=w["save"]).click()
    assert page.get_by_role("heading", level=1).inner_text() == w["stop_title"]
    assert accessible()
    page.screenshot(path=str(SHOTS / f"privacy-withdraw-confirm-{lang}-{width}.png"), full_page=True)
    assert w["gone"] not in page.content(), "the address was already gone with email consent"
    page.get_by_role("link", name=w["keep_profile"]).click()
    assert stored(page), "cancelling kept the profile"

    # Deleting asks first, names what goes, and once confirmed the page offers no second delete.
    before = ledger_actions(app)
    with page.expect_navigation():  # a form post: read the page it lands on
        page.get_by_role("button", name=w["delete"]).click()
    assert page.get_by_role("heading", level=1).inner_text() == w["delete_title"]
    assert ledger_actions(app) == before, "nothing is deleted before the shopper confirms"
    assert accessible()
    page.screenshot(path=str(SHOTS / f"privacy-delete-confirm-{lang}-{width}.png"), full_page=True)
    with page.expect_navigation():  # a form post: read the page it lands on
        page.get_by_role("button", name=w["yes_delete"]).click()
    assert w["nothing"] in page.content()
    assert page.locator("dl.stored").count() == 0
    assert page.get_by_role("button", name=w["delete"]).count() == 0
    assert accessible()
    page.screenshot(path=str(SHOTS / f"privacy-deleted-{lang}-{width}.png"), full_page=True)
    history = page.locator("ol.history li").all_inner_texts()
    assert sum(w["deleted"] + ":" in entry for entry in history) == 1, history
    assert ledger_actions(app)[-1] == "erase" and ledger_actions(app).count("erase") == 1
    context.close()


def test_deleting_twice_records_one_erasure(app: Flask, client: FlaskClient) -> None:
    from .test_shopper_pages import privacy_link_after_quiz

    link = privacy_link_after_quiz(client)
    page = client.get(link).get_data(as_text=True)
    asked = client.post(link + "/delete", data={"csrf_token": csrf_token(page)})
    assert asked.status_code == 200 and "Yes, delete my data" in asked.get_data(as_text=True)
    assert "erase" not in ledger_actions(app)
    for _ in range(2):
        client.post(link + "/delete", data={"csrf_token": csrf_token(page), "confirmed": "yes"})
    assert ledger_actions(app).count("erase") == 1
    receipt = client.get(link + "/receipt.json").json
    assert [d["action"] for d in receipt["decisions"]][-1] == "erase"
    assert not any(receipt["in_force"].values())


def test_the_api_erases_once_too(app: Flask, client: FlaskClient) -> None:
    from .helpers import full_answers, grant

    auth = grant(client, profile=True)
    client.post("/api/v1/m/demo/responses", json={"answers": full_answers()}, headers=auth)
    assert client.delete("/api/v1/me", headers=auth).status_code == 204
    assert client.delete("/api/v1/me", headers=auth).status_code == 204
    assert ledger_actions(app).count("erase") == 1
