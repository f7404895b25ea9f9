"""The whole shopper flow in real Chromium, with JavaScript on and off."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def take_quiz(page: object, base: str) -> None:
    """Go from the explainer to the results the way a shopper would."""
    page.goto(base + "/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Before you start")
    for box in page.get_by_role("checkbox").all():
        # Only recommendations is on, and locked: nothing the shopper can choose is pre-ticked.
        assert box.is_checked() == box.is_disabled(), "nothing may be pre-ticked"
    assert page.locator("input:disabled:checked").count() == 1
    with page.expect_navigation():  # read the page the decision lands on, not the one still loading
        page.get_by_role("button", name="Accept all").click()

    assert "Step 1 of 3" in page.content()
    page.get_by_label("First name").fill("Ada")
    page.get_by_role("button", name="Continue").click()
    # Required questions left blank: inline messages, nothing lost.
    assert page.locator(".error").first.is_visible()
    assert page.get_by_label("First name").input_value() == "Ada"
    page.get_by_label("25-34").check()
    page.get_by_label("Country").select_option("NO")
    page.get_by_role("button", name="Continue").click()

    page.get_by_label("Shopping for myself").check()
    page.get_by_label("What are you looking for?").fill("lightweight waterproof jacket for hiking")
    page.get_by_label("This week").check()
    page.get_by_role("button", name="Continue").click()

    page.get_by_label("Any category").check()
    page.get_by_label("Technical and performance").check()
    page.get_by_label("To").fill("400")
    page.get_by_label("No preference").check()
    page.get_by_role("button", name="See my recommendations").click()


def assert_results(page: object) -> None:
    assert page.get_by_role("heading", level=1).inner_text() == "Picked for you"
    cards = page.locator(".card")
    assert cards.count() == 12
    first = cards.first.inner_text()
    assert "matches:" in first and "under your 400 budget" in first
    titles = [cards.nth(i).locator("h2").inner_text() for i in range(3)]
    assert any("Jacket" in t or "Shell" in t or "Anorak" in t for t in titles), titles
    with page.expect_navigation():
        page.get_by_role("link", name="Your data and privacy").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Your data at")
    assert "lightweight waterproof jacket for hiking" in page.content()


def test_flow_with_javascript(browser: object, live_server: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    take_quiz(page, live_server)
    assert_results(page)
    assert errors == []
    context.close()


def test_flow_without_javascript(browser: object, live_server: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    take_quiz(page, live_server)
    assert_results(page)
    context.close()


def test_live_preview_after_a_section_with_javascript_only(browser: object, live_server: str) -> None:
    for javascript in (True, False):
        context = browser.new_context(java_script_enabled=javascript)
        page = context.new_page()
        page.goto(live_server + "/")
        page.get_by_role("button", name="Only what's needed").click()
        page.get_by_label("25-34").check()
        page.get_by_label("Country").select_option("ES")
        page.get_by_role("button", name="Continue").click()
        page.get_by_label("Shopping for myself").check()
        page.get_by_label("What are you looking for?").fill("a tent for two people")
        page.get_by_label("No rush").check()
        page.get_by_role("button", name="Continue").click()
        preview = page.locator("aside.preview")
        if javascript:
            preview.locator("li").first.wait_for(timeout=30_000)
            assert preview.is_visible() and preview.locator("li").count() == 4
            assert "Tent" in preview.locator("li").first.inner_text()
        else:
            assert preview.count() == 1 and not preview.is_visible()
        context.close()
