"""A shop owner who never read the docs: uploads orders, reads what the quiz brought, runs an A/B test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from quiz import merchants
from quiz.demo.ab_test import run_demo_test
from quiz.merchants import api_keys
from quiz.models import utcnow
from quiz.platform.db import transaction

from .helpers import bearer, full_answers, grant
from .test_accessibility import violations

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[1] / "instance" / "screenshots"
PASSWORD = "correct horse battery"
HEADER = "Name,Email,Financial Status,Paid at,Currency,Total,Lineitem quantity,Lineitem price,Lineitem sku,Cancelled at"


def _quiz_order(app: Flask, client: FlaskClient) -> str:
    """A shopper takes the quiz (keeping a profile) and orders its first pick: a quiz-influenced order."""
    auth = grant(client, profile=True)
    done = client.post("/api/v1/m/demo/responses", json={"answers": full_answers()}, headers=auth).json
    with app.app_context(), transaction():
        _, key = api_keys.issue(merchants.get_by_slug("demo"))
    first = done["items"][0]
    order = {
        "order_id": "Q-1",
        "placed_at": utcnow().isoformat(),
        "currency": first["currency"],
        "total": 120.0,
        "items": [{"product_id": first["id"], "quantity": 1, "price": 120.0}],
        "profile_id": done["profile_id"],
    }
    assert client.post("/api/v1/orders", json=order, headers=bearer(key)).status_code == 200
    return str(first["currency"])


@pytest.mark.parametrize("width", [1280, 375])
def test_orders_outcomes_and_an_ab_test_as_a_shop_owner_meets_them(
    app: Flask, client: FlaskClient, browser: Any, live_server: str, demo_admin: str, tmp_path: Path, width: int
) -> None:
    currency = _quiz_order(app, client)
    today = utcnow().strftime("%Y-%m-%d 10:00:00 +0000")
    export = tmp_path / "orders_export.csv"
    export.write_text(
        f"{HEADER}\n#2001,,paid,{today},{currency},80.00,2,40.00,TS-0001,\n"
        f"#2002,,paid,{today},{currency},15.00,1,15.00,,\n"  # no sku: skipped, shown
        f"#2003,,refunded,{today},{currency},30.00,1,30.00,TS-0002,\n"
    )
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    found: dict[str, list[str]] = {}

    def check(name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"outcomes-{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
        found[name] = violations(page)

    page.goto(live_server + "/admin/")
    page.get_by_label("Email").fill(demo_admin)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()

    # Orders: the button without a file says what is missing, on the field.
    page.get_by_role("link", name="Orders", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Upload orders"
    with page.expect_navigation():
        page.get_by_role("button", name="Import orders").click()
    file_input = page.get_by_label("Orders file")
    assert file_input.get_attribute("aria-invalid") == "true"
    assert page.locator("#file-error").inner_text() == "Choose an orders file to upload."
    check("orders-missing-file")
    file_input.set_input_files(str(export))
    with page.expect_navigation():
        page.get_by_role("button", name="Import orders").click()
    status = page.get_by_role("status").inner_text()
    assert "2 orders imported: 2 new, 0 updated, 1 cancelled; 1 row skipped" in status, status
    skipped = page.locator("table.data tbody tr")
    assert skipped.count() == 1 and skipped.first.inner_text().split("\t")[:2] == ["3", "Lineitem sku"]
    check("orders-imported")

    # Outcomes: the quiz's revenue against the rest, per channel and version, charts with text.
    with page.expect_navigation():
        page.get_by_role("link", name="See what the quiz brought").click()
    assert page.get_by_role("heading", level=1).inner_text() == "What the quiz brought"
    stats = page.locator("dl.stats").inner_text()
    assert "120.00" in stats and "1 of 2" in stats, stats  # the refunded order is in no total
    chart = page.get_by_role("img", name="Revenue in")
    assert "Quiz-influenced orders brought 120.00; other orders 80.00." in chart.locator("desc").text_content()
    api_row = page.locator("#by_channel-heading ~ div table tbody tr").filter(has_text="api")
    assert api_row.locator("td").all_inner_texts()[:3] == ["1", "1", "1 of 1 (100%)"]
    version_row = page.locator("#by_quiz_version-heading ~ div table tbody tr").first
    assert version_row.locator("th").inner_text() == "1" and version_row.locator("td").first.inner_text() == "1"
    check("outcomes")

    # A/B tests: a test missing its name is refused on the field; a draft is created.
    page.get_by_role("link", name="A/B tests").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Create the test").click()
    assert page.get_by_label("Name of the test").get_attribute("aria-invalid") == "true"
    assert "Give the test a name." in page.locator("#name-error").inner_text()
    check("experiments-refused")
    page.get_by_label("Name of the test").fill("Shorter results")
    second = page.get_by_role("group", name="Variant 2")
    second.get_by_label("Mix categories in the results (diversity)").uncheck()
    with page.expect_navigation():
        page.get_by_role("button", name="Create the test").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Shorter results"
    assert page.get_by_role("heading", level=2).first.inner_text() == "No shoppers yet"
    assert "no diversity" in page.locator("table.data tbody tr").nth(1).inner_text()
    draft_url = page.url

    # The demo's simulated shoppers run another test to a result; the owner reads it and picks the winner.
    with app.app_context():
        run = run_demo_test(merchants.get_by_slug("demo"), shoppers=500, lift=0.15, seed=3)
    page.goto(live_server + f"/admin/experiments/{run.experiment_id}")
    assert page.get_by_role("heading", level=2).first.inner_text() == "B does better than A"
    rates = page.get_by_role("img", name="Finished the quiz per variant")
    assert "likely between" in rates.locator("desc").text_content()
    assert "significant" in page.locator("table.data tbody tr").nth(1).inner_text()
    check("experiment-significant")
    with page.expect_navigation():
        page.get_by_role("button", name="Choose B as the winner").click()
    assert (
        page.get_by_role("status").inner_text()
        == "B is the winner: its ranking settings are the shop's, for every shopper."
    )
    assert "winner: B" in page.locator("main").inner_text()
    check("experiment-winner")
    with app.app_context():
        assert merchants.get_by_slug("demo").ranking_settings == {"diversity": True, "category_prior": False}

    # The draft starts now that no other test runs.
    page.goto(draft_url)
    with page.expect_navigation():
        page.get_by_role("button", name="Start the test").click()
    assert page.get_by_role("status").inner_text().startswith("The test is running")
    assert page.get_by_role("button", name="Stop the test").is_visible()
    context.close()
    assert errors == []
    assert found == {name: [] for name in found}, found
