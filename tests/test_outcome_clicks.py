"""Recommendation links carry an attribution reference: clicks are recorded without cookies."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from quiz.models import ShopperEvent
from quiz.platform.db import get_session

from .test_shopper_pages import ABOUT, INTENT, PREFERENCES, answer, decide


def _results(client: FlaskClient, button: str) -> str:
    decide(client, button)
    for section, data in (("about", ABOUT), ("intent", INTENT), ("preferences", PREFERENCES)):
        answer(client, section, data)
    return client.get("/m/demo/results").get_data(as_text=True)


def _links(page: str) -> list[str]:
    """Return one link per pick shown (a card links its title and its "View in shop" button alike)."""
    links = [html.unescape(link) for link in re.findall(r'href="(/m/demo/go/[^"]+)"', page)]
    return list({link.split("?")[0]: link for link in links}.values())


def _events(app: Flask, kind: str) -> list[ShopperEvent]:
    with app.app_context():
        return list(get_session().scalars(sa.select(ShopperEvent).where(ShopperEvent.type == kind)))


def test_a_click_is_stored_with_the_profile_and_the_reference_handed_to_the_shop(
    app: Flask, client: FlaskClient
) -> None:
    page = _results(client, "accept_all")
    links = _links(page)
    assert links and all("attune_ref=" in link for link in links)
    assert len(_events(app, "recommended")) == len(links), "the picks shown are on the profile's timeline"
    client.get("/m/demo/results")  # a reload is not a new recommendation
    assert len(_events(app, "recommended")) == len(links)
    response = client.get(links[0])
    assert response.status_code == 302
    landing = urlsplit(response.headers["Location"])
    assert landing.netloc == "demo.attune.test"
    ref = parse_qs(landing.query)["attune_ref"][0]
    [click] = _events(app, "product_click")
    assert click.channel == "site" and links[0].startswith(f"/m/demo/go/{click.product_id}?")
    assert "Set-Cookie" not in response.headers
    # The shop's page sends the reference back with the cart (track.js): no token, no cookie needed.
    cart = {"type": "add_to_cart", "product_id": click.product_id, "attune_ref": ref}
    sent = app.test_client().post("/api/v1/m/demo/events", json=cart)
    assert sent.status_code == 202 and sent.json["stored"] is True
    [added] = _events(app, "add_to_cart")
    assert added.profile_id == click.profile_id and added.channel == "site"


def test_without_profile_consent_a_click_is_only_counted(app: Flask, client: FlaskClient) -> None:
    links = _links(_results(client, "necessary_only"))
    assert client.get(links[0]).status_code == 302
    assert _events(app, "product_click") == [] and _events(app, "recommended") == []


def test_a_tampered_reference_is_dropped_and_records_nothing(app: Flask, client: FlaskClient) -> None:
    links = _links(_results(client, "accept_all"))
    response = client.get(links[0][:-3] + "xyz")
    assert response.status_code == 302 and "attune_ref" not in response.headers["Location"]
    first, second = (urlsplit(link) for link in links[:2])
    swapped = f"{second.path}?{first.query}"  # the first pick's reference on the second pick's link
    assert "attune_ref" not in client.get(swapped).headers["Location"], "a reference names one product"
    assert _events(app, "product_click") == []
