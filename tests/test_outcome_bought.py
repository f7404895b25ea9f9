"""Nothing bought is shown again: a profile's purchases leave its recommendations for a while."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from quiz import merchants, quizzes
from quiz.marketing import campaigns
from quiz.merchants import api_keys
from quiz.models import Product, Profile
from quiz.platform.db import get_session, transaction

from .helpers import bearer, full_answers, grant


def _ids(response: Any) -> list[str]:
    return [item["id"] for item in response.json["items"]]


def _buy(app: Flask, client: FlaskClient, profile_id: str, product_id: str, **fields: Any) -> None:
    with app.app_context(), transaction():
        _, key = api_keys.issue(merchants.get_by_slug("demo"))
    order = {
        "order_id": f"B-{product_id}",
        "placed_at": "2026-12-06T10:00:00Z",
        "currency": "USD",
        "total": 10.0,
        "items": [{"product_id": product_id, "quantity": 1, "price": 10.0}],
        "profile_id": profile_id,
        **fields,
    }
    assert client.post("/api/v1/orders", json=order, headers=bearer(key)).status_code == 200


def _set(app: Flask, **settings: Any) -> None:
    with app.app_context(), transaction():
        merchant = merchants.get_by_slug("demo")
        for name, value in settings.items():
            setattr(merchant, name, value)


def test_a_bought_product_leaves_the_profiles_recommendations(app: Flask, client: FlaskClient) -> None:
    auth = grant(client, profile=True)
    first = client.post("/api/v1/m/demo/responses", json={"answers": full_answers()}, headers=auth)
    top, profile_id = _ids(first)[0], first.json["profile_id"]
    _buy(app, client, profile_id, top)
    again = client.post("/api/v1/m/demo/recommendations", json={"answers": full_answers()}, headers=auth)
    assert top not in _ids(again) and len(_ids(again)) == len(_ids(first))
    assert top not in _ids(client.post("/api/v1/m/demo/responses", json={"answers": full_answers()}, headers=auth))
    with app.app_context():
        merchant = merchants.get_by_slug("demo")
        profile = get_session().get(Profile, profile_id)
        picks = campaigns.top_products(merchant, quizzes.live_quiz(merchant), profile, 5)
    assert top not in [p["id"] for p in picks], "campaign exports leave it out too"
    other = grant(client)  # another shopper, same answers: nothing is known of what they bought
    assert top in _ids(client.post("/api/v1/m/demo/recommendations", json={"answers": full_answers()}, headers=other))


def test_consumables_a_zero_period_and_cancelled_orders_show_it_again(app: Flask, client: FlaskClient) -> None:
    auth = grant(client, profile=True)
    first = client.post("/api/v1/m/demo/responses", json={"answers": full_answers()}, headers=auth)
    top, profile_id = _ids(first)[0], first.json["profile_id"]

    def shown() -> bool:
        response = client.post("/api/v1/m/demo/recommendations", json={"answers": full_answers()}, headers=auth)
        return top in _ids(response)

    _buy(app, client, profile_id, top)
    assert not shown()
    with app.app_context():
        category = get_session().query(Product).filter_by(external_id=top).one().category
    _set(app, rebuy_categories=[category.split(" > ")[0]])
    assert shown(), "a category bought again (consumables) stays in"
    _set(app, rebuy_categories=[], hide_bought_days=0)
    assert shown(), "a merchant may switch hiding off"
    _set(app, hide_bought_days=90)
    assert not shown()
    _buy(app, client, profile_id, top, cancelled=True)
    assert shown(), "a cancelled order bought nothing"


def test_a_product_bought_before_and_shown_again_is_never_pitched_as_new(app: Flask, client: FlaskClient) -> None:
    auth = grant(client, profile=True)
    first = client.post("/api/v1/m/demo/responses", json={"answers": full_answers()}, headers=auth)
    top, profile_id = first.json["items"][0], first.json["profile_id"]
    assert not top["owned"] and "you bought this before" not in top["reasons"]
    _buy(app, client, profile_id, top["id"])
    with app.app_context():
        category = get_session().query(Product).filter_by(external_id=top["id"]).one().category
    _set(app, rebuy_categories=[category.split(" > ")[0]])  # a consumable: recommended again

    def item(lang: str) -> dict[str, Any]:
        body = {"answers": full_answers()}
        response = client.post(f"/api/v1/m/demo/recommendations?lang={lang}", json=body, headers=auth)
        return next(i for i in response.json["items"] if i["id"] == top["id"])

    again = item("en")
    assert again["owned"] and again["reasons"][0] == "you bought this before"
    pitches = {"close to what you described", "a good fit for your answers"}
    assert not pitches & set(again["reasons"]), again["reasons"]
    assert item("es")["reasons"][0] == "ya lo compraste antes"
    others = client.post("/api/v1/m/demo/recommendations", json={"answers": full_answers()}, headers=grant(client))
    assert not any(i["owned"] for i in others.json["items"]), "another shopper owns nothing"
