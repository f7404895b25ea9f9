"""Orders from the merchant's systems: idempotent by order id, linked lawfully, kept per merchant."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from quiz import merchants
from quiz.merchants import api_keys
from quiz.models import ConsentRecord, Order, Profile, utcnow
from quiz.outcomes import references
from quiz.platform.db import get_session, transaction

from .helpers import bearer, full_answers, grant, make_merchant


def _key(app: Flask, slug: str = "demo") -> dict[str, str]:
    with app.app_context(), transaction():
        _, key = api_keys.issue(merchants.get_by_slug(slug))
    return bearer(key)


def _order(order_id: str = "1001", **fields: Any) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "placed_at": "2026-12-01T10:00:00Z",
        "currency": "USD",
        "total": 139.0,
        "items": [{"product_id": "TS-0001", "quantity": 1, "price": 129.0}],
        **fields,
    }


def _profile(client: FlaskClient, slug: str = "demo", email: str | None = None) -> tuple[dict[str, str], str]:
    auth = grant(client, slug, profile=True, email=bool(email))
    body: dict[str, Any] = {"answers": full_answers()}
    if email:
        body["email"] = email
    response = client.post(f"/api/v1/m/{slug}/responses", json=body, headers=auth)
    assert response.status_code == 201
    return auth, response.json["profile_id"]


def test_an_order_is_created_updated_and_cancelled_by_its_id(app: Flask, client: FlaskClient) -> None:
    key = _key(app)
    first = client.post("/api/v1/orders", json=_order(), headers=key)
    assert first.status_code == 200 and first.json["created"] is True and first.json["linked"] is False
    items = [{"product_id": "TS-0001", "quantity": 2, "price": 129.0}]
    again = client.post("/api/v1/orders", json=_order(total=258.0, items=items), headers=key)
    assert again.json["created"] is False and again.json["total"] == 258.0 and again.json["items"][0]["quantity"] == 2
    cancelled = client.post("/api/v1/orders", json=_order(total=258.0, items=items, cancelled=True), headers=key)
    assert cancelled.json["cancelled"] is True
    with app.app_context():
        assert get_session().scalar(sa.select(sa.func.count()).select_from(Order)) == 1


def test_orders_link_by_profile_id_reference_and_confirmed_email(app: Flask, client: FlaskClient) -> None:
    key = _key(app)
    _, profile_id = _profile(client)
    by_id = client.post("/api/v1/orders", json=_order("P-1", profile_id=profile_id), headers=key).json
    assert (by_id["linked"], by_id["linked_by"]) == (True, "profile_id")
    auth, other_id = _profile(client, email="bea@example.com")
    by_email = client.post("/api/v1/orders", json=_order("E-1", email="bea@example.com"), headers=key).json
    assert by_email["linked"] is False, "the address is not confirmed yet"
    with app.app_context(), transaction():
        get_session().get(Profile, other_id).email_confirmed_at = utcnow()
        subject = get_session().get(Profile, other_id).subject_id
        demo = merchants.get_by_slug("demo")
        ref = references.issue(references.Reference(demo.id, subject, "TS-0001", "widget", 1, utcnow()))
    by_email = client.post("/api/v1/orders", json=_order("E-2", email="BEA@example.com"), headers=key).json
    assert (by_email["linked"], by_email["linked_by"]) == (True, "email")
    by_ref = client.post("/api/v1/orders", json=_order("R-1", attune_ref=ref), headers=key).json
    assert (by_ref["linked"], by_ref["linked_by"]) == (True, "attune_ref")
    mine = client.get("/api/v1/me", headers=auth).json["orders"]
    assert {o["order_id"] for o in mine} == {"E-2", "R-1"}
    assert "bea@example.com" not in str(get_session_orders(app)), "no address is stored with an order"


def get_session_orders(app: Flask) -> list[tuple[Any, ...]]:
    with app.app_context():
        return [tuple(row) for row in get_session().execute(sa.select(Order.__table__))]


def test_bad_orders_get_field_messages(app: Flask, client: FlaskClient) -> None:
    key = _key(app)

    def fields(body: dict[str, Any]) -> dict[str, Any]:
        response = client.post("/api/v1/orders", json=body, headers=key)
        assert response.status_code == 422, response.json
        return dict(response.json["fields"])

    assert "currency" in fields(_order(currency="EUR"))
    assert "total" in fields(_order(total=-5))
    assert "total" in fields(_order(total=10**9))
    assert "items" in fields(_order(items=[]))
    assert "items" in fields(_order(items=[{"product_id": "TS-0001", "quantity": 0, "price": 1}]))
    assert "cancelled" in fields(_order(cancelled="yes"))
    assert "placed_at" in fields(_order(placed_at="yesterday"))
    assert "attune_ref" in fields(_order(attune_ref="forged"))
    assert {"order_id", "placed_at", "currency", "total", "items"} <= set(fields({}))
    assert client.post("/api/v1/orders", json=_order()).status_code == 401
    assert get_session_orders(app) == []


def test_a_merchant_never_touches_or_links_to_another_merchants_data(app: Flask, client: FlaskClient) -> None:
    make_merchant(app, "ordersb")  # no catalog, so no recommendations: its profile is stored directly
    grant(client, "ordersb", profile=True)
    with app.app_context(), transaction():
        decision = get_session().scalars(sa.select(ConsentRecord).order_by(ConsentRecord.id.desc())).first()
        row = Profile(
            merchant_id=decision.merchant_id,
            subject_id=decision.subject_id,
            answers={},
            quiz_version=1,
            consent_record_id=decision.id,
            expires_at=utcnow() + dt.timedelta(days=30),
        )
        get_session().add(row)
        get_session().flush()
        b_profile = row.id
    b_key = _key(app, "ordersb")
    # B's catalog is empty, so any currency is B's; its order stays B's.
    assert client.post("/api/v1/orders", json=_order("SAME-1", total=5.0), headers=b_key).json["created"] is True
    a_key = _key(app)
    mine = client.post("/api/v1/orders", json=_order("SAME-1", profile_id=b_profile), headers=a_key).json
    assert mine["created"] is True and mine["linked"] is False, "B's order untouched, B's profile not linked"
    with app.app_context():
        b = merchants.get_by_slug("ordersb")
        subject = get_session().get(Profile, b_profile).subject_id
        b_total = get_session().scalar(sa.select(Order.total).where(Order.merchant_id == b.id))
        assert float(b_total) == 5.0
    with app.test_request_context():
        b_ref = references.issue(references.Reference(b.id, subject, "TS-0001", "site", 1, utcnow()))
    response = client.post("/api/v1/orders", json=_order("A-2", attune_ref=b_ref), headers=a_key)
    assert response.status_code == 422 and "attune_ref" in response.json["fields"]
