"""track.js on a shop's own pages, in Chromium: events reach Attune from allowed origins only, cookie-free."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from quiz.models import ShopperEvent
from quiz.platform.db import get_session

from .helpers import full_answers, grant
from .test_widget_browser import Site, allow, attune, blocked, playwright, site  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def _shop_page(attune_url: str, token: str) -> str:
    return (
        '<!doctype html><html lang="en"><title>Shop</title><h1>Rain jacket</h1>'
        '<button id="add" data-attune-event="add_to_cart" data-product-id="TS-0001">Add to cart</button>'
        f'<script src="{attune_url}/static/js/track.js" data-attune-shop="demo" data-attune-token="{token}"></script>'
        '<script>window.viewed = Attune.track("product_view", {product_id: "TS-0001"});</script>'
    )


def _reported(app: Flask) -> list[str]:
    with app.app_context():
        rows = get_session().scalars(sa.select(ShopperEvent.type).where(ShopperEvent.type != "recommended"))
        return sorted(rows)


def _wait_for(check: Callable[[], Any], timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return result


def test_track_js_reports_from_the_shops_own_site_only(
    app: Flask,
    client: FlaskClient,
    site: Site,  # noqa: F811
    blocked: Any,  # noqa: F811
    attune: Callable[[], str],  # noqa: F811
) -> None:
    auth = grant(client, profile=True)
    assert client.post("/api/v1/m/demo/responses", json={"answers": full_answers()}, headers=auth).status_code == 201
    token = auth["Authorization"].removeprefix("Bearer ")
    site.pages["/jacket"] = (_shop_page(attune(), token), [])
    allow(app, f"http://partner.test:{site.port}")

    page = blocked.new_page()
    page.goto(site.url("partner.test", "/jacket"))
    assert page.evaluate("window.viewed") == 202
    page.click("#add")
    assert _wait_for(lambda: _reported(app) == ["add_to_cart", "product_view"]), _reported(app)
    assert not [c for c in blocked.cookies() if "attune.test" in c["domain"]], "no cookie of Attune's"

    stranger = blocked.new_page()
    stranger.goto(site.url("other.test", "/jacket"))  # a site the merchant did not list
    assert stranger.evaluate("window.viewed") is None, "the browser refused: CORS answers listed origins only"
    assert _reported(app) == ["add_to_cart", "product_view"]
