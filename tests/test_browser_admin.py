"""A merchant uploads a real export in the admin, watches it progress, then shoppers get results."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from . import supplier_catalog
from .conftest import SHARED_DATA
from .helpers import make_merchant
from .test_accessibility import violations

pytestmark = pytest.mark.browser
# Screenshots of the admin's catalog pages, kept for a look after the run.
SHOTS = Path(__file__).resolve().parents[1] / "instance" / "screenshots"
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
    page.get_by_role("button", name="Upload and preview").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Preview of home-and-garden.csv"
    page.get_by_role("button", name="Import 20 products").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Import of home-and-garden.csv"
    # The page updates itself (no reload by the test) until the import is done.
    page.locator(".import-progress .status-done").wait_for(timeout=90_000)
    assert "20 new products, ready for shoppers" in page.content()
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


@pytest.mark.skipif(not supplier_catalog.AVAILABLE, reason=supplier_catalog.SKIP_REASON)
@pytest.mark.parametrize("width", [1280, 375])
def test_a_supplier_sheet_is_previewed_cancelled_then_confirmed(
    app: Flask, browser: object, live_server: str, tmp_path: Path, width: int
) -> None:
    """The upload flow as a merchant meets it: preview, cancel, upload again, import; checked by axe."""
    shop = make_merchant(app, f"supplier{width}", "Supplier Shop")
    sheet = tmp_path / "supplier.csv"
    sheet.write_bytes(supplier_catalog.supplier_csv())
    rows = len(supplier_catalog.supplier_rows())
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    found: dict[str, list[str]] = {}

    def check(name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
        found[name] = violations(page)

    page.goto(live_server + "/admin/")
    page.get_by_label("Email").fill(shop.admin_email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    assert page.locator(".checklist li.todo").count() == 5
    check("first-run")

    page.get_by_role("link", name="Imports").click()
    page.get_by_label("Catalog file").set_input_files(str(sheet))
    page.get_by_role("button", name="Upload and preview").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Preview of supplier.csv"
    assert page.get_by_role("note").first.inner_text().startswith("Note: The file has no id column")
    assert page.locator("table.data").nth(1).locator("tbody tr").count() == 20
    check("import-preview")
    page.get_by_role("button", name="Cancel").click()
    assert page.get_by_role("status").inner_text() == "supplier.csv was not imported; nothing changed."
    assert "No imports yet." in page.content()

    page.get_by_label("Catalog file").set_input_files(str(sheet))
    page.get_by_role("button", name="Upload and preview").click()
    page.get_by_role("button", name=f"Import {rows} products").click()
    page.locator(".import-progress .status-done").wait_for(timeout=90_000)
    assert f"{rows} new products, ready for shoppers" in page.content()
    check("import-done")
    page.get_by_role("link", name="Products").click()
    page.get_by_label("Title contains").fill("jacket")
    page.get_by_label("Availability").select_option("yes")
    page.get_by_role("button", name="Show").click()
    assert page.locator("td.title").count() == 5
    assert page.locator('nav a[aria-current="page"]').inner_text() == "Products"
    check("products")
    page.get_by_role("link", name="Imports").click()
    page.get_by_role("link", name="Catalog imports (docs)").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Catalog imports"
    check("docs")
    page.get_by_role("link", name="Overview").click()
    assert page.locator('.checklist li.done[data-step="catalog"]').count() == 1
    context.close()
    assert errors == []
    assert found == {name: [] for name in found}, found
