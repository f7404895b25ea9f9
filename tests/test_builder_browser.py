"""A merchant builds a quiz in the builder (no YAML; keyboard and mouse), then a shopper takes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from .test_accessibility import violations
from .test_admin import PASSWORD
from .test_quiz_builder import demo_admin

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[1] / "instance" / "screenshots"


def _shot(page: Any, name: str, found: dict[str, list[str]]) -> None:
    """Screenshot at 1280 and 375 px; fail on sideways scrolling; keep axe's findings."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
    page.set_viewport_size({"width": 1280, "height": 900})
    found[name] = violations(page)


def _press(page: Any, name: str) -> None:
    """Press a builder button (each one posts the whole quiz back) and wait for the page it returns."""
    with page.expect_navigation():
        page.get_by_role("button", name=name, exact=True).click()


def test_a_merchant_builds_publishes_and_a_shopper_gets_the_tied_products(
    app: Flask, browser: Any, live_server: str
) -> None:
    email = demo_admin(app)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    found: dict[str, list[str]] = {}

    page.goto(live_server + "/admin/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Quiz", exact=True).click()
    with page.expect_navigation():
        page.get_by_role("link", name="build your quiz with forms").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Quiz builder"
    _shot(page, "builder-live-quiz", found)

    # The funnel chart's labels and figures stay inside the chart (none cut off), at both widths.
    page.goto(live_server + "/admin/funnel")
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        outside = page.evaluate(
            """() => { const svg = document.querySelector('svg.dropoff'); const box = svg.viewBox.baseVal;
            return [...svg.querySelectorAll('text')].filter(t => { const b = t.getBBox();
            return b.x < 0 || b.x + b.width > box.width; }).map(t => t.textContent); }"""
        )
        assert outside == [], outside
    _shot(page, "funnel", found)
    # The widget page copies its snippet with one click.
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page.goto(live_server + "/admin/widget")
    page.get_by_role("button", name="Copy the snippet").click()
    # The clipboard answers asynchronously: wait for the message, as a shopkeeper's eye does.
    expect(page.get_by_role("status")).to_have_text("Copied. Paste it into your site's page.")
    assert page.evaluate("navigator.clipboard.readText()") == page.locator("#snippet-code").inner_text()
    _shot(page, "widget", found)

    page.goto(live_server + "/admin/quiz/builder")
    _press(page, "Start from an empty quiz")
    assert page.locator(".b-section").count() == 1 and page.locator(".b-option").count() == 1
    page.get_by_label("Quiz title (English").fill("Find your kit")
    page.get_by_label("Quiz title (Spanish").fill("Encuentra tu equipo")
    q1 = page.locator("#s0-q0")
    page.locator("#s0").get_by_label("Section title (English").fill("What you need")
    q1.get_by_label("Question (English").fill("What are you shopping for?")
    q1.get_by_label("Question (Spanish").fill("¿Qué buscas?")
    q1.get_by_label("Shoppers must answer").check()
    q1.get_by_label("Answer 1 (English").fill("Shoes and boots")
    _press(page, "Add an answer to question 1 of section 1")
    q1 = page.locator("#s0-q0")
    q1.get_by_label("Answer 2 (English").fill("Jackets and outerwear")
    # Keyboard only: add the third answer and move it to the top without the mouse.
    page.get_by_role("button", name="Add an answer to question 1 of section 1").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.locator("#s0-q0").get_by_label("Answer 3 (English").focus()
    page.keyboard.type("Camping and hiking gear")
    page.get_by_role("button", name="Move up answer 3 of question 1 of section 1").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_role("status").first.inner_text() == "Answer moved up to position 2."
    labels = [page.locator(f"#s0-q0-o{i}-label-en").input_value() for i in range(3)]
    assert labels == ["Shoes and boots", "Camping and hiking gear", "Jackets and outerwear"]

    # Suggestions tie the answers to the catalog's categories: one click for the question.
    suggested = page.locator("#s0-q0 .b-suggestions").all_inner_texts()
    assert any("Footwear" in text for text in suggested), suggested
    _shot(page, "builder-suggestions", found)
    _press(page, "Accept all suggestions for question 1 of section 1")
    assert page.locator("#s0-q0-o0 .b-categories").first.get_by_label("Footwear").is_checked()
    assert page.locator("#s0-q0-o2 .b-categories").first.get_by_label("Outerwear").is_checked()
    assert "Shows only Footwear." in page.locator("#s0-q0-o0 .b-says").inner_text()
    assert "show only Footwear" not in " ".join(page.locator("#s0-q0 .b-suggestions").all_inner_texts())

    _press(page, "Add a section")
    page.locator("#s1").get_by_label("Section title (English").fill("In your words")
    q = page.locator("#s1-q0")
    q.get_by_label("Kind of answer").select_option("text")
    q.get_by_label("Question (English").fill("What are you looking for?")
    q.locator("summary").first.click()
    q.get_by_label("What the answer is").select_option("need")
    _press(page, "Delete answer 1 of question 1 of section 2")
    _press(page, "Add a section")
    page.locator("#s2").get_by_label("Section title (English").fill("Your style")
    q = page.locator("#s2-q0")
    q.get_by_label("Kind of answer").select_option("multi")
    q.get_by_label("Question (English").fill("Which style do you like?")
    q.get_by_label("Answer 1 (English").fill("Technical")
    q.get_by_label("Ask").select_option(label="only when “What are you shopping for?” is “Shoes and boots”")
    _press(page, "Check")
    assert page.get_by_role("status").first.inner_text().startswith("No problems: 3 sections, 3 questions")
    assert "missing" in page.locator("#s2-q0").inner_text()  # no Spanish yet: marked, not refused

    _press(page, "Preview")
    assert page.get_by_role("heading", name="Preview").is_visible()
    _shot(page, "builder-preview", found)
    _press(page, "Publish…")
    assert page.get_by_role("alertdialog").is_visible()
    assert "will no longer follow your catalog" in page.get_by_role("alertdialog").inner_text()
    _shot(page, "builder-confirm", found)
    _press(page, "Yes, publish")
    assert "is live" in page.get_by_role("status").first.inner_text()

    shopper = context.new_page()
    shopper.goto(live_server + "/m/demo/")
    with shopper.expect_navigation():
        shopper.get_by_role("button", name="Only what's needed").click()
    assert shopper.get_by_role("heading", level=1).inner_text() == "What you need"
    shopper.get_by_label("Shoes and boots").check()
    with shopper.expect_navigation():
        shopper.get_by_role("button", name="Continue").click()
    shopper.get_by_label("What are you looking for?").fill("something for the trail")
    with shopper.expect_navigation():
        shopper.get_by_role("button", name="Continue").click()
    shopper.get_by_label("Technical").check()
    with shopper.expect_navigation():
        shopper.get_by_role("button", name="See my recommendations").click()
    images = shopper.locator(".results .card img").evaluate_all("els => els.map(e => e.getAttribute('src'))")
    assert images and all(src.endswith("footwear.svg") for src in images), images
    assert errors == []
    assert found == {name: [] for name in found}, found
    context.close()
