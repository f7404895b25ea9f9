"""The layered consent notice on Attune's own site, in Chromium: its first layer fits one screen.

Screenshots go to ``ATTUNE_SCREENSHOTS`` (a folder) when it is set, to look at them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from quiz.models import ConsentRecord
from quiz.platform.db import get_session
from quiz.shopping.subjects import Subject, issue_token

pytestmark = pytest.mark.browser
SIZES = [(1280, 800), (375, 667)]
BUTTONS = {
    "en": ("Accept all", "Only what's needed", "Save my choices"),
    "es": ("Aceptar todo", "Solo lo necesario", "Guardar mis decisiones"),
}
DETAILS = {"en": "The details:", "es": "Los detalles:"}


def shoot(page: Any, name: str) -> None:
    """Keep a screenshot of what is on screen when ATTUNE_SCREENSHOTS names a folder."""
    folder = os.environ.get("ATTUNE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


def assert_first_layer_fits(page: Any, frame: Any, lang: str, where: str) -> None:
    """The three buttons are on screen, unscrolled, equal in size; the switches are above them."""
    height = page.viewport_size["height"]
    width = page.viewport_size["width"]
    boxes = [frame.get_by_role("button", name=name, exact=True).bounding_box() for name in BUTTONS[lang]]
    for name, box in zip(BUTTONS[lang], boxes, strict=True):
        assert box is not None, name
        assert box["y"] >= 0 and box["y"] + box["height"] <= height, f"{name} below the fold at {where}: {box}"
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"{name} off screen at {where}: {box}"
    for name in BUTTONS[lang]:
        clipped = frame.get_by_role("button", name=name, exact=True).evaluate("b => b.scrollWidth > b.clientWidth")
        assert not clipped, f"{name} is cut short at {where}"
    assert len({(round(b["width"]), round(b["height"])) for b in boxes}) == 1, f"unequal buttons at {where}: {boxes}"
    switches = frame.get_by_role("checkbox")
    assert switches.count() == 4
    for i in range(4):
        box = switches.nth(i).bounding_box()
        assert box["y"] + box["height"] <= boxes[0]["y"], "the purposes come before the buttons"
    assert page.evaluate("window.scrollY") == 0


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_first_layer_fits_one_screen(browser: Any, live_server: str, lang: str, width: int, height: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(f"{live_server}/m/demo/?lang={lang}")
    shoot(page, f"notice-site-{lang}-{width}")
    assert_first_layer_fits(page, page, lang, f"{width}x{height} {lang}")

    locked = page.locator("#purpose-recommendations")
    assert locked.is_checked() and locked.is_disabled(), "recommendations: shown on, and locked"
    for key in ("profile", "email", "sms"):
        assert not page.locator(f"#purpose-{key}").is_checked(), "nothing else is pre-ticked"
    details = page.locator("details.explainer-details")
    assert details.get_attribute("open") is None
    assert not page.locator("details.explainer-details h2").first.is_visible(), "the detail cards are folded"
    page.get_by_text(DETAILS[lang]).click()
    assert page.locator("details.explainer-details section").count() == 7  # with "What happens after the quiz"
    assert page.locator("details.explainer-details h2").first.is_visible(), "one click shows them"
    context.close()


def test_the_details_are_readable_without_javascript(browser: Any, live_server: str) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 375, "height": 667})
    page = context.new_page()
    page.goto(live_server + "/")
    page.get_by_text(DETAILS["en"]).click()
    assert page.get_by_role("heading", name="How long we keep it").is_visible()
    page.get_by_label("Keep my profile").check()
    with page.expect_navigation():  # the form posts and redirects: read the page it lands on
        page.get_by_role("button", name="Save my choices").click()
    assert "Step 1 of 3" in page.content()
    context.close()


OPENED = {
    True: "You opened the detail sections before choosing.",
    False: "You chose without opening the detail sections.",
    None: None,
}


@pytest.mark.parametrize(("javascript", "open_details"), [(True, True), (True, False), (False, True)])
def test_the_receipt_says_whether_the_details_were_opened(
    app: Flask, browser: Any, live_server: str, javascript: bool, open_details: bool
) -> None:
    context = browser.new_context(java_script_enabled=javascript, viewport={"width": 375, "height": 667})
    page = context.new_page()
    page.goto(f"{live_server}/m/demo/")
    if open_details:
        page.get_by_text(DETAILS["en"]).click()
        assert page.get_by_role("heading", name="How long we keep it").is_visible()
    with page.expect_navigation():
        page.get_by_role("button", name="Only what's needed").click()
    with app.app_context():
        record = get_session().scalar(sa.select(ConsentRecord).order_by(ConsentRecord.id.desc()))
        token = issue_token(Subject(record.subject_id, record.merchant_id))
    opened = open_details if javascript else None  # without the script, the page cannot tell
    assert record.notice_layers == {
        "layout": "layered",
        "first_layer": ["title", "intro", "purposes", "choices"],
        "one_click_away": ["sections"],
        "details_opened": opened,
    }
    page.goto(f"{live_server}/privacy/{token}/receipt")
    text = page.locator("ol.receipt").inner_text()
    assert "Shown in two layers" in text
    for value, sentence in OPENED.items():
        if sentence:
            assert (sentence in text) == (value is opened), sentence
    context.close()


RESULTS = {
    "en": {
        "accept": "Accept all",
        "next": "Continue",
        "see": "See my recommendations",
        "different": "Show me something different",
        "view": "View in shop",
        "cart": "Add to cart",
        "age": "25-34",
        "country": "Country",
        "myself": "Shopping for myself",
        "need": "What are you looking for?",
        "when": "This week",
        "gender": "Woman",
        "category": "Jackets and outerwear",
        "shopping": "No preference",
        "to": "To",
    },
    "es": {
        "accept": "Aceptar todo",
        "next": "Continuar",
        "see": "Ver mis recomendaciones",
        "different": "Muéstrame algo diferente",
        "view": "Ver en la tienda",
        "cart": "Añadir al carrito",
        "age": "25-34",
        "country": "País",
        "myself": "Compro para mí",
        "need": "¿Qué estás buscando?",
        "when": "Esta semana",
        "gender": "Mujer",
        "category": "Chaquetas y abrigos",
        "shopping": "Me da igual",
        "to": "Hasta",
    },
}


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize(("width", "height"), SIZES)
def test_results_fit_two_screens_and_respect_the_answers(
    browser: Any, live_server: str, lang: str, width: int, height: int
) -> None:
    words = RESULTS[lang]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(f"{live_server}/m/demo/?lang={lang}")
    page.get_by_role("button", name=words["accept"]).click()
    page.get_by_label(words["age"]).check()
    page.get_by_label(words["gender"], exact=True).check()
    page.get_by_label(words["country"]).select_option("NO")
    page.get_by_role("button", name=words["next"]).click()
    page.get_by_label(words["myself"]).check()
    page.get_by_label(words["need"]).fill("waterproof jacket")
    page.get_by_label(words["when"]).check()
    page.get_by_role("button", name=words["next"]).click()
    page.get_by_label(words["category"]).check()
    page.get_by_label(words["to"], exact=True).fill("400")
    page.get_by_label(words["shopping"]).check()
    page.get_by_role("button", name=words["see"]).click()
    page.locator(".card").first.wait_for()
    page.wait_for_load_state("networkidle")
    shoot(page, f"results-{lang}-{width}")

    cards = page.locator(".card")
    titles = [cards.nth(i).locator("h2").inner_text() for i in range(cards.count())]
    assert not any(t.startswith("Men's") for t in titles), titles
    third = cards.nth(2).bounding_box()
    different = page.get_by_role("link", name=words["different"]).first.bounding_box()
    assert third["y"] + third["height"] <= 2 * height, f"the third card ends at {third['y'] + third['height']}"
    assert different["y"] + different["height"] <= 2 * height, different
    for i in range(3):
        assert cards.nth(i).get_by_role("link", name=words["view"]).is_visible(), "each pick has a clear next action"
        cart = cards.nth(i).get_by_role("link", name=words["cart"])
        assert cart.is_visible(), "the demo shop gives a cart address: each pick can go straight to the cart"
        box = cart.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"Add to cart off screen: {box}"
        assert "/m/demo/cart/" in cart.get_attribute("href")
    reasons = " | ".join(cards.nth(i).locator(".reasons").inner_text() for i in range(cards.count()))
    if lang == "es":
        assert "Outerwear" not in reasons and "Chaquetas y abrigos" in reasons, reasons
    else:
        assert "Outerwear" not in reasons and "Jackets and outerwear" in reasons, reasons
    context.close()
