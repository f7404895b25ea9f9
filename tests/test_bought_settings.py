"""Nothing bought is shown again, in the admin: the shop settings page sets the days and the categories."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from quiz import merchants
from quiz.models import Merchant, Product
from quiz.platform.db import get_session, transaction

from .conftest import csrf_token
from .helpers import bearer, make_merchant
from .test_accessibility import AXE, violations
from .test_admin import log_in

SHOTS = Path(__file__).resolve().parents[1] / "instance" / "screenshots"
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def demo_settings_put_back(app: Flask) -> Iterator[None]:
    """Put the demo shop's "nothing bought" settings back after each test (they are shared)."""
    yield
    with app.app_context(), transaction():
        get_session().execute(
            sa.update(Merchant).where(Merchant.slug == "demo").values(hide_bought_days=90, rebuy_categories=[])
        )


def _stored(app: Flask) -> tuple[int, list[str]]:
    with app.app_context():
        merchant = merchants.get_by_slug("demo")
        return merchant.hide_bought_days, list(merchant.rebuy_categories)


def _post(client: FlaskClient, page: str, days: str, categories: list[str], **extra: Any) -> Any:
    data = {"csrf_token": csrf_token(page), "hide_bought_days": days, "rebuy_categories": categories, **extra}
    return client.post("/admin/settings/bought", data=data)


def test_the_settings_page_saves_the_days_and_the_categories_bought_again(
    app: Flask, client: FlaskClient, demo_admin: str
) -> None:
    assert log_in(client, demo_admin).status_code == 302
    page = client.get("/admin/settings").get_data(as_text=True)
    assert "Products a shopper bought are not recommended to them again for\n  90 days" in page
    assert "Categories bought again and again (coffee, filters) can stay in." in page
    assert 'name="hide_bought_days"' in page and 'value="90"' in page
    assert "All of Clothing" in page and 'value="Clothing &gt; Socks"' in page, "the catalog's categories"

    saved = _post(client, page, "30", ["Clothing > Socks", "Home & Kitchen"])
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/admin/settings#bought")
    assert _stored(app) == (30, ["Clothing > Socks", "Home & Kitchen"])
    shown = client.get("/admin/settings").get_data(as_text=True)
    assert "Saved. Products a shopper bought are not recommended to them again for 30 days." in shown
    assert 'value="Clothing &gt; Socks" checked' in shown and 'value="Home &amp; Kitchen" checked' in shown
    assert 'value="Clothing" checked' not in shown

    off = _post(client, shown, "0", [])
    assert off.status_code == 302 and _stored(app) == (0, [])
    assert "can be recommended to them again at once" in client.get("/admin/settings").get_data(as_text=True)


@pytest.mark.parametrize(
    ("days", "categories", "field", "message"),
    [
        ("-1", [], "hide_bought_days", "Give a number of days from 0 (off) to 3650."),
        ("3651", [], "hide_bought_days", "Give a number of days from 0 (off) to 3650."),
        ("ninety", [], "hide_bought_days", "Give a whole number of days, like 90 (0 turns this off)."),
        ("", [], "hide_bought_days", "Give a number of days (0 turns this off)."),
        ("30", ["Coffee"], "rebuy_categories", "Not a category of your catalog: Coffee."),
        (
            "30",
            ["Clothing", "Clothing > Soc"],
            "rebuy_categories",
            "Not a category of your catalog: Clothing &gt; Soc.",
        ),
    ],
)
def test_bad_settings_show_an_inline_message_and_save_nothing(
    app: Flask, client: FlaskClient, demo_admin: str, days: str, categories: list[str], field: str, message: str
) -> None:
    assert log_in(client, demo_admin).status_code == 302
    page = client.get("/admin/settings").get_data(as_text=True)
    refused = _post(client, page, days, categories)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert f'<p class="error" id="{field}-error">' in body and message in body
    if field == "hide_bought_days":
        assert 'aria-invalid="true"' in body and f'value="{days}"' in body, "what was typed is shown again"
    assert _stored(app) == (90, []), "nothing saved"
    assert "Saved." not in body


def test_the_api_reads_and_changes_them_with_the_same_rules(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "boughtapi")
    with app.app_context(), transaction():
        merchant = merchants.get_by_slug("boughtapi")
        for n, category in enumerate(["Coffee > Beans", "Coffee > Filters", "Kitchen > Grinders"]):
            get_session().add(Product(merchant_id=merchant.id, external_id=f"P{n}", title=category, category=category))
    headers = bearer(shop.api_key)
    url = "/api/v1/settings"
    assert client.get(url, headers=headers).json["hide_bought_days"] == 90
    for body, field in [
        ({"hide_bought_days": -1}, "hide_bought_days"),
        ({"hide_bought_days": 3651}, "hide_bought_days"),
        ({"hide_bought_days": 2.5}, "hide_bought_days"),
        ({"hide_bought_days": 30, "rebuy_categories": ["Tea"]}, "rebuy_categories"),
        ({"cart_url_pattern": "http://x.example/{id}", "hide_bought_days": 30}, "cart_url_pattern"),
    ]:
        refused = client.patch(url, json=body, headers=headers)
        assert refused.status_code == 422 and field in refused.json["fields"], (body, refused.json)
    unchanged = client.get(url, headers=headers).json
    assert (unchanged["hide_bought_days"], unchanged["rebuy_categories"]) == (90, []), "nothing changed"
    changed = client.patch(url, json={"hide_bought_days": 30, "rebuy_categories": ["Coffee"]}, headers=headers)
    assert changed.status_code == 200
    assert (changed.json["hide_bought_days"], changed.json["rebuy_categories"]) == (30, ["Coffee"])
    kept = client.patch(url, json={"rebuy_categories": ["Coffee > Filters"]}, headers=headers).json
    assert (kept["hide_bought_days"], kept["rebuy_categories"]) == (30, ["Coffee > Filters"])


def test_without_the_csrf_token_nothing_is_saved(app: Flask, client: FlaskClient, demo_admin: str) -> None:
    assert log_in(client, demo_admin).status_code == 302
    refused = client.post("/admin/settings/bought", data={"hide_bought_days": "5", "rebuy_categories": []})
    assert refused.status_code in (400, 422) and _stored(app) == (90, [])


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 375])
def test_the_settings_page_fits_a_phone_and_a_desktop(
    app: Flask, browser: Any, live_server: str, demo_admin: str, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    found: dict[str, list[str]] = {}

    def check(name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"settings-{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
        if AXE.exists():
            found[name] = violations(page)

    page.goto(live_server + "/admin/")
    page.get_by_label("Email").fill(demo_admin)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    with page.expect_navigation():
        page.get_by_role("link", name="Shop settings").click()
    check("bought")

    days = page.get_by_label("Days before a bought product is recommended again")
    days.fill("-5")
    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()
    assert page.locator("#hide_bought_days-error").inner_text() == "Give a number of days from 0 (off) to 3650."
    check("bought-refused")

    days.fill("60")
    page.get_by_label("All of Home & Kitchen").check()
    page.get_by_label("Socks (Clothing)").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()
    assert "for 60 days" in page.get_by_role("status").inner_text()
    assert page.get_by_label("Socks (Clothing)").is_checked()
    check("bought-saved")
    assert _stored(app) == (60, ["Clothing > Socks", "Home & Kitchen"])
    assert found == {name: [] for name in found}, found
    assert not errors, errors
    context.close()
