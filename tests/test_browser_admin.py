"""A merchant uploads a real export in the admin, watches it progress, then shoppers get results."""

from __future__ import annotations

import pytest
from flask import Flask

from .conftest import SHARED_DATA
from .helpers import make_merchant

pytestmark = pytest.mark.browser
EXPORT = SHARED_DATA / "catalogs" / "shopify" / "home-and-garden.csv"


@pytest.mark.skipif(not EXPORT.exists(), reason="../shared/data/catalogs is not beside the checkout")
def test_admin_upload_with_live_progress_then_recommendations(app: Flask, browser: object, live_server: str) -> None:
    shop = make_merchant(app, "gardenshop", "Garden Shop")
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(live_server + "/admin/")
    page.get_by_label("Email").fill(shop.admin_email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Overview"

    page.get_by_role("link", name="Imports").click()
    page.get_by_label("Catalog file").set_input_files(str(EXPORT))
    page.get_by_label("Full catalog: products not in the file become unavailable").check()
    page.get_by_role("button", name="Upload and import").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Import of home-and-garden.csv"
    # The page updates itself (no reload by the test) until the import is done.
    page.locator(".import-progress .status-done").wait_for(timeout=90_000)
    assert "Created 20" in page.content()
    assert page.locator("progress").get_attribute("value") in ("100", "100.0")
    page.get_by_role("link", name="Products").click()
    assert "Products (20)" in page.get_by_role("heading", level=1).inner_text()

    shopper = context.new_page()
    shopper.goto(live_server + "/m/gardenshop/")
    shopper.get_by_role("button", name="Only what's needed").click()
    shopper.get_by_label("Prefer not to say").first.check()
    shopper.get_by_label("Country").select_option("DE")
    shopper.get_by_role("button", name="Continue").click()
    shopper.get_by_label("Just browsing").check()
    shopper.get_by_label("What are you looking for?").fill("a pot for my house plants")
    shopper.get_by_label("No rush").check()
    shopper.get_by_role("button", name="Continue").click()
    shopper.get_by_label("Any category").check()
    shopper.get_by_label("No preference").check()
    shopper.get_by_role("button", name="See my recommendations").click()
    first = shopper.locator(".card h2").first.inner_text()
    assert "Pot" in first or "Planter" in first, first
    assert errors == []
    context.close()
