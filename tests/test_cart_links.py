"""Add to cart from the results: the merchant's cart address pattern (admin form and API), checked,
and the "Add to cart" button each pick gets only when the shop gives one."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from quiz.demo.shop import DEMO_CART
from quiz.merchants.cart import CartPatternError, clean_pattern
from quiz.models import Merchant
from quiz.platform.db import get_session

from .conftest import csrf_token
from .helpers import bearer, make_merchant
from .test_admin import log_in
from .test_shopper_pages import ABOUT, INTENT, PREFERENCES, answer, decide

GOOD = [
    "https://shop.example/cart/add?id={id}&quantity=1",
    "https://shop.example/?add-to-cart={sku}",
    "https://shop.example:8443/cart/{id}:1",
]
BAD = {
    "http://shop.example/cart/add?id={id}": "https://",
    "https://shop.example/cart": "{id}",
    "https://shop.example/cart/add?id={product}": "{product}",
    "https://shop.example/cart add?id={id}": "space",
    "https://{id}.shop.example/cart": "host name",
    "https://user:pw@shop.example/cart?id={id}": "user name",
    "https://shop.example/cart?id={id": "brace",
    "javascript:alert(1)//{id}": "https://",
    "https://shop*.example/cart?id={id}": "host name",
}


@pytest.mark.parametrize("pattern", GOOD)
def test_an_https_address_with_the_product_placeholder_is_kept(pattern: str) -> None:
    assert clean_pattern(f"  {pattern} ") == pattern
    assert clean_pattern("  ") is None, "blank: no cart links"


@pytest.mark.parametrize(("pattern", "says"), BAD.items())
def test_an_unusable_cart_address_is_refused_saying_why(pattern: str, says: str) -> None:
    with pytest.raises(CartPatternError) as refused:
        clean_pattern(pattern)
    assert says in str(refused.value)


def _results(client: FlaskClient) -> str:
    decide(client, "accept_all")
    for section, data in (("about", ABOUT), ("intent", INTENT), ("preferences", PREFERENCES)):
        answer(client, section, data)
    return client.get("/m/demo/results").get_data(as_text=True)


def _cart_links(page: str) -> list[str]:
    return [html.unescape(link) for link in re.findall(r'href="(/m/demo/cart/[^"]+)"', page)]


def test_each_pick_gets_add_to_cart_that_opens_the_shops_cart_with_it(app: Flask, client: FlaskClient) -> None:
    page = _results(client)
    cards = page.count('<li class="card">')
    links = _cart_links(page)
    assert cards and len(links) == cards, "one Add to cart per pick"
    assert page.count(">Add to cart<span") == cards
    response = client.get(links[0])
    assert response.status_code == 302
    landing = urlsplit(response.headers["Location"])
    product_id = links[0].split("/m/demo/cart/")[1].split("?")[0]
    assert (landing.scheme, landing.netloc, landing.path) == ("https", "demo.attune.test", "/cart/add")
    query = parse_qs(landing.query)
    assert query["id"] == [product_id] and query["quantity"] == ["1"]
    assert query["attune_ref"], "the attribution reference reaches the shop's cart too"
    assert client.get("/m/demo/cart/NOT-A-PRODUCT").status_code == 404


def test_without_a_cart_pattern_the_picks_offer_view_in_shop_only(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        get_session().execute(sa.update(Merchant).where(Merchant.slug == "demo").values(cart_url_pattern=None))
        get_session().commit()
    page = _results(client)
    assert not _cart_links(page) and "Add to cart" not in page
    assert page.count(">View in shop<span") == page.count('<li class="card">') > 0
    product_id = re.search(r'href="/m/demo/go/([^"?]+)', page).group(1)
    assert client.get(f"/m/demo/cart/{product_id}").status_code == 404


def test_the_admin_sets_the_cart_address_with_inline_errors(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "cartshop")
    log_in(client, shop.admin_email)
    page = client.get("/admin/settings").get_data(as_text=True)
    assert 'id="cart_url_pattern"' in page and "Shop settings" in page
    refused = client.post(
        "/admin/settings",
        data={"csrf_token": csrf_token(page), "cart_url_pattern": "http://cartshop.example/cart?id={id}"},
    )
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="cart_url_pattern-error"' in body and "https://" in body and 'aria-invalid="true"' in body
    assert 'value="http://cartshop.example/cart?id={id}"' in body, "what was typed is shown again"
    saved = client.post(
        "/admin/settings",
        data={"csrf_token": csrf_token(body), "cart_url_pattern": "https://cartshop.example/cart/add?id={id}"},
        follow_redirects=True,
    )
    text = saved.get_data(as_text=True)
    assert "Saved." in text and "https://cartshop.example/cart/add?id=ABC-123" in text
    api = client.get("/api/v1/settings", headers=bearer(shop.api_key)).json
    assert api["cart_url_pattern"] == "https://cartshop.example/cart/add?id={id}"


def test_the_api_reads_and_changes_the_cart_address(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "cartapi")
    headers = bearer(shop.api_key)
    assert client.get("/api/v1/settings", headers=headers).json == {
        "cart_url_pattern": None,
        "hide_bought_days": 90,
        "rebuy_categories": [],
    }
    refused = client.patch(
        "/api/v1/settings", json={"cart_url_pattern": "https://cartapi.example/cart"}, headers=headers
    )
    assert refused.status_code == 422 and "{id}" in refused.json["fields"]["cart_url_pattern"][0]
    assert client.get("/api/v1/settings", headers=headers).json["cart_url_pattern"] is None, "nothing changed"
    pattern = "https://cartapi.example/?add-to-cart={sku}"
    changed = client.patch("/api/v1/settings", json={"cart_url_pattern": pattern}, headers=headers)
    assert changed.status_code == 200 and changed.json["cart_url_pattern"] == pattern
    assert client.patch("/api/v1/settings", json={}, headers=headers).json["cart_url_pattern"] == pattern
    wrong_type = client.patch("/api/v1/settings", json={"cart_url_pattern": 5}, headers=headers)
    assert wrong_type.status_code in (400, 422) and "cart_url_pattern" in wrong_type.json["fields"]
    cleared = client.patch("/api/v1/settings", json={"cart_url_pattern": None}, headers=headers)
    assert cleared.json["cart_url_pattern"] is None
    assert client.get("/api/v1/settings").status_code == 401
    assert client.get("/api/v1/settings", headers=bearer(shop.api_key)).json["cart_url_pattern"] is None
    assert DEMO_CART.startswith("https://") and "{id}" in DEMO_CART
