"""Shop events from the merchant's pages: stored with profile consent, counted without, checked always."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine

from quiz.catalog import engine
from quiz.models import FunnelCount, Merchant, ShopperEvent, utcnow
from quiz.outcomes import references
from quiz.platform.db import get_engine, get_session, transaction

from .helpers import full_answers, grant, make_merchant, upload, wait_for_import

URL = "/api/v1/m/demo/events"
SHOP = "https://shop.example"


def _consenting(client: FlaskClient) -> dict[str, str]:
    auth = grant(client, profile=True)
    assert client.post("/api/v1/m/demo/responses", json={"answers": full_answers()}, headers=auth).status_code == 201
    return auth


def _counter(app: Flask, event: str) -> int:
    with app.app_context():
        total = get_session().scalar(sa.select(sa.func.sum(FunnelCount.count)).where(FunnelCount.event == event))
        return int(total or 0)


def _stored(app: Flask) -> list[ShopperEvent]:
    with app.app_context():
        reported = sa.select(ShopperEvent).where(ShopperEvent.type != "recommended")  # not the picks shown
        return list(get_session().scalars(reported.order_by(ShopperEvent.id)))


def test_a_consenting_shoppers_event_is_stored_and_shown_to_them(app: Flask, client: FlaskClient) -> None:
    auth = _consenting(client)
    response = client.post(URL, json={"type": "product_view", "product_id": "TS-0001"}, headers=auth)
    assert response.status_code == 202 and response.json == {"stored": True, "duplicate": False}
    cart = {"type": "add_to_cart", "product_id": "TS-0001", "value": 129.5, "currency": "usd",
            "items": [{"product_id": "TS-0001", "quantity": 1, "price": 129.5}]}  # fmt: skip
    assert client.post(URL, json=cart, headers=auth).status_code == 202
    me = client.get("/api/v1/me", headers=auth).json
    assert len([e for e in me["events"] if e["type"] == "recommended"]) == 12, "the picks the quiz showed"
    me["events"] = [e for e in me["events"] if e["type"] != "recommended"]
    assert [(e["type"], e["product_id"]) for e in me["events"]] == [
        ("product_view", "TS-0001"),
        ("add_to_cart", "TS-0001"),
    ]
    assert me["events"][1]["value"] == "129.50" and me["events"][1]["currency"] == "USD"
    assert _counter(app, "shop:product_view") == 1


def test_without_profile_consent_only_the_days_counter_moves(app: Flask, client: FlaskClient) -> None:
    auth = grant(client)  # recommendations only
    response = client.post(URL, json={"type": "product_click", "product_id": "TS-0001"}, headers=auth)
    assert response.status_code == 202 and response.json["stored"] is False
    assert _stored(app) == []
    assert _counter(app, "shop:product_click") == 1


def test_a_purchase_reported_twice_is_counted_once(app: Flask, client: FlaskClient) -> None:
    auth = _consenting(client)
    purchase = {"type": "purchase", "order_id": "1001", "value": 40, "currency": "USD"}
    assert client.post(URL, json=purchase, headers=auth).json == {"stored": True, "duplicate": False}
    again = client.post(URL, json=purchase, headers=grant(client))  # even from another subject
    assert again.status_code == 202 and again.json == {"stored": False, "duplicate": True}
    assert _counter(app, "shop:purchase") == 1 and len(_stored(app)) == 1


def _error(client: FlaskClient, body: dict[str, Any], auth: dict[str, str]) -> dict[str, Any]:
    response = client.post(URL, json=body, headers=auth)
    assert response.status_code == 422, response.json
    return dict(response.json["fields"])


def test_bad_events_get_field_messages_and_store_nothing(app: Flask, client: FlaskClient) -> None:
    auth = _consenting(client)
    assert "product_id" in _error(client, {"type": "product_view", "product_id": "NOPE-1"}, auth)
    items = [{"product_id": "TS-0001", "quantity": 1, "price": 5}, {"product_id": "NOPE-2", "quantity": 1, "price": 5}]
    assert "items[1].product_id" in _error(
        client, {"type": "purchase", "order_id": "9", "currency": "USD", "items": items}, auth
    )
    assert "currency" in _error(
        client, {"type": "add_to_cart", "product_id": "TS-0001", "value": 5, "currency": "EUR"}, auth
    )
    assert "value" in _error(client, {"type": "purchase", "order_id": "9", "value": 10**9, "currency": "USD"}, auth)
    assert "value" in _error(client, {"type": "purchase", "order_id": "9", "value": "12", "currency": "USD"}, auth)
    zero = [{"product_id": "TS-0001", "quantity": 0, "price": 5}]
    assert "items" in _error(client, {"type": "purchase", "order_id": "9", "currency": "USD", "items": zero}, auth)
    assert "order_id" in _error(client, {"type": "purchase"}, auth)
    assert "product_id" in _error(client, {"type": "product_view"}, auth)
    assert "type" in _error(client, {"type": "page_view", "product_id": "TS-0001"}, auth)
    future = (utcnow() + dt.timedelta(days=2)).isoformat()
    assert "occurred_at" in _error(
        client, {"type": "product_view", "product_id": "TS-0001", "occurred_at": future}, auth
    )
    assert "attune_ref" in _error(
        client, {"type": "product_view", "product_id": "TS-0001", "attune_ref": "forged"}, auth
    )
    assert _stored(app) == [] and _counter(app, "shop:purchase") == 0
    assert client.post(URL, json={"type": "purchase", "order_id": "9"}, headers=auth).status_code == 202, (
        "a refused order id was not remembered: the corrected event is accepted"
    )


def test_tokens_of_another_merchant_and_missing_tokens_are_refused(app: Flask, client: FlaskClient) -> None:
    make_merchant(app, "othershop")
    body = {"type": "product_view", "product_id": "TS-0001"}
    assert client.post(URL, json=body, headers=grant(client, "othershop")).status_code == 403
    assert client.post(URL, json=body).status_code == 401
    with app.test_request_context():
        demo = get_session().scalar(sa.select(Merchant).where(Merchant.slug == "demo"))
        assert demo is not None
        nobody = references.issue(references.Reference(demo.id, "never-decided", "TS-0001", "site", 1, utcnow()))
    assert client.post(URL, json={**body, "attune_ref": nobody}).status_code == 401, "a reference to no decision"
    assert _counter(app, "shop:product_view") == 0


def test_a_reference_records_where_the_recommendation_was_shown(app: Flask, client: FlaskClient) -> None:
    auth = _consenting(client)
    with app.test_request_context():
        merchant = get_session().scalar(sa.select(Merchant).where(Merchant.slug == "demo"))
        assert merchant is not None
        ref = references.issue(references.Reference(merchant.id, "someone", "TS-0001", "email", 1, utcnow()))
    body = {"type": "add_to_cart", "product_id": "TS-0001", "attune_ref": ref}
    assert client.post(URL, json=body, headers=auth).status_code == 202
    [event] = _stored(app)
    assert (event.channel, event.quiz_version) == ("email", 1)


def test_cors_answers_only_the_merchants_own_sites(app: Flask, client: FlaskClient) -> None:
    with app.app_context(), transaction():
        merchant = get_session().scalar(sa.select(Merchant).where(Merchant.slug == "demo"))
        assert merchant is not None
        merchant.partner_origins = [SHOP]
    preflight = client.options(URL, headers={"Origin": SHOP, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204 and preflight.headers["Access-Control-Allow-Origin"] == SHOP
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    stranger = client.options(URL, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in stranger.headers
    auth = grant(client)
    body = {"type": "product_view", "product_id": "TS-0001"}
    posted = client.post(URL, json=body, headers={**auth, "Origin": SHOP})
    assert posted.status_code == 202 and posted.headers["Access-Control-Allow-Origin"] == SHOP
    assert "Set-Cookie" not in posted.headers
    other = client.post(URL, json=body, headers={**auth, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def _import(client: FlaskClient, key: str, sheet: bytes, mode: str) -> None:
    response = upload(client, key, "catalog.csv", sheet, mode=mode)
    assert response.status_code == 202, response.json
    assert wait_for_import(client, key, response.json["id"])["status"] == "done"


def _load_catalog(client: FlaskClient, slug: str, auth: dict[str, str]) -> None:
    """Search as a shopper does: the process loads the shop's active catalog version."""
    response = client.post(f"/api/v1/m/{slug}/recommendations", json={"answers": full_answers()}, headers=auth)
    assert response.status_code == 200, response.json


def test_the_catalog_check_follows_each_new_catalog_version(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "restocked")
    url = "/api/v1/m/restocked/events"
    _import(
        client,
        shop.api_key,
        b"id,title,price,currency,url\n"
        b"A-1,Wool socks,12,USD,https://shop.test/a1\nA-2,Rain jacket,90,USD,https://shop.test/a2\n",
        "upsert",
    )
    auth = grant(client, "restocked")
    _load_catalog(client, "restocked", auth)

    def answered(body: dict[str, Any]) -> tuple[int, list[str]]:
        response = client.post(url, json=body, headers=auth)
        return response.status_code, sorted((response.json or {}).get("fields", {}))

    assert answered({"type": "product_view", "product_id": "A-1"}) == (202, [])
    assert answered({"type": "product_view", "product_id": "B-1"}) == (422, ["product_id"])
    assert answered({"type": "add_to_cart", "product_id": "A-1", "value": 12, "currency": "EUR"}) == (422, ["currency"])

    # The shop moves to euros and adds B-1 (a full sync: A-2 is retired, not forgotten).
    _import(
        client,
        shop.api_key,
        b"id,title,price,currency,url\n"
        b"A-1,Wool socks,11,EUR,https://shop.test/a1\nB-1,Trail shoes,120,EUR,https://shop.test/b1\n"
        b"B-2,Gaiters,30,EUR,https://shop.test/b2\n",
        "full",
    )
    for loaded in (False, True):  # before this process loads the new version, and after
        if loaded:
            _load_catalog(client, "restocked", auth)
        with app.app_context():
            merchant = get_session().scalar(sa.select(Merchant).where(Merchant.slug == "restocked"))
            assert merchant is not None and (engine.loaded_catalog(merchant) is not None) == loaded
        assert answered({"type": "product_view", "product_id": "B-1"}) == (202, []), "the new product is known"
        assert answered({"type": "add_to_cart", "product_id": "B-1", "value": 120, "currency": "EUR"}) == (202, [])
        assert answered({"type": "add_to_cart", "product_id": "B-1", "value": 120, "currency": "USD"}) == (
            422,
            ["currency"],
        ), "the shop's currency is counted again for the new version"
        assert answered({"type": "product_view", "product_id": "A-2"}) == (202, []), "a retired product stays known"
        assert answered({"type": "product_view", "product_id": "C-9"}) == (422, ["product_id"])


def test_an_event_is_one_commit_and_reads_no_product_once_the_catalog_is_loaded(
    app: Flask, client: FlaskClient
) -> None:
    auth = _consenting(client)  # the finished quiz loaded the demo catalog in this process
    body = {"type": "add_to_cart", "product_id": "TS-0001", "value": 129.5, "currency": "USD",
            "items": [{"product_id": "TS-0001", "quantity": 1, "price": 129.5}]}  # fmt: skip
    assert client.post(URL, json=body, headers=auth).status_code == 202  # the shop's currency counted once
    statements: list[str] = []
    commits: list[int] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(" ".join(statement.split()).lower())

    with app.app_context():
        bind: Engine = get_engine()

    def committed(_conn: Any) -> None:
        commits.append(1)

    sa.event.listen(bind, "before_cursor_execute", seen)
    sa.event.listen(bind, "commit", committed)
    try:
        for _ in range(3):
            assert client.post(URL, json=body, headers=auth).status_code == 202
    finally:
        sa.event.remove(bind, "before_cursor_execute", seen)
        sa.event.remove(bind, "commit", committed)
    assert not [s for s in statements if " from product" in s], "ids and currency come from the loaded catalog"
    assert len(commits) == 3, "the event and the day's counter in one transaction"
    assert len(_stored(app)) == 4 and _counter(app, "shop:add_to_cart") == 4
