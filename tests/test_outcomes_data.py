"""Outcome data and the shopper: events and linked orders are shown, erased, unlinked and expire."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from quiz.models import Merchant, Order, OrderLine, Profile, ShopperEvent, utcnow
from quiz.outcomes import orders, references
from quiz.platform.db import get_session, transaction
from quiz.privacy import retention
from quiz.shopping.subjects import read_token

from .helpers import full_answers, grant, make_merchant


def _profile_of(app: Flask, auth: dict[str, str]) -> tuple[Merchant, Profile]:
    subject = read_token(auth["Authorization"].removeprefix("Bearer "))
    assert subject is not None
    merchant = get_session().get(Merchant, subject.merchant_id)
    profile = get_session().scalar(sa.select(Profile).where(Profile.subject_id == subject.subject_id))
    assert merchant is not None and profile is not None
    return merchant, profile


def _shopper_with_history(app: Flask, client: FlaskClient, **purposes: bool) -> tuple[dict[str, str], str]:
    """A consenting shopper who viewed a product and bought it (order linked by profile id)."""
    auth = grant(client, profile=True, **purposes)
    assert client.post("/api/v1/m/demo/responses", json={"answers": full_answers()}, headers=auth).status_code < 300
    with app.app_context(), transaction():
        merchant, profile = _profile_of(app, auth)
        view = ShopperEvent(merchant_id=merchant.id, profile_id=profile.id, type="product_view", product_id="TENT-1")
        get_session().add(view)
        orders.record(merchant, _order("A-1001", profile_id=profile.id))
        profile_id = profile.id
    return auth, profile_id


def _order(order_id: str, **fields: Any) -> orders.IncomingOrder:
    values: dict[str, Any] = {
        "order_id": order_id,
        "placed_at": utcnow(),
        "currency": "USD",
        "total": Decimal("129.00"),
        "items": [orders.Line("TENT-1", 1, Decimal("129.00"))],
        **fields,
    }
    return orders.IncomingOrder(**values)


def _count(model: type, *where: Any) -> int:
    return int(get_session().scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0)


def test_the_export_and_the_privacy_page_show_events_and_linked_orders(app: Flask, client: FlaskClient) -> None:
    auth, _ = _shopper_with_history(app, client)
    me = client.get("/api/v1/me", headers=auth).json
    [event] = [e for e in me["events"] if e["type"] != "recommended"]
    assert (event["type"], event["product_id"]) == ("product_view", "TENT-1")
    [order] = me["orders"]
    assert order["order_id"] == "A-1001" and order["total"] == "129.00" and order["linked_by"] == "profile_id"
    assert order["items"] == [{"product_id": "TENT-1", "quantity": 1, "price": "129.00"}]
    token = auth["Authorization"].removeprefix("Bearer ")
    page = client.get(f"/privacy/{token}").get_data(as_text=True)
    assert "What you did in the shop" in page and "A-1001" in page and "Viewed" in page
    download = client.get(f"/privacy/{token}/export.json").json
    assert download["orders"][0]["order_id"] == "A-1001" and "TENT-1" in str(download["events"])


def test_erasure_deletes_events_and_unlinks_orders_keeping_totals(app: Flask, client: FlaskClient) -> None:
    auth, profile_id = _shopper_with_history(app, client)
    assert client.delete("/api/v1/me", headers=auth).status_code == 204
    with app.app_context():
        assert _count(ShopperEvent) == 0
        order = get_session().scalar(sa.select(Order).where(Order.order_id == "A-1001"))
        assert order is not None and order.profile_id is None and order.linked_by is None
        assert order.total == Decimal("129.00") and _count(OrderLine) == 1, "the merchant keeps the totals"
    me = client.get("/api/v1/me", headers=auth).json
    assert me["events"] == [] and me["orders"] == []
    token = auth["Authorization"].removeprefix("Bearer ")
    assert "A-1001" not in client.get(f"/privacy/{token}").get_data(as_text=True)


def test_withdrawing_profile_consent_removes_events_and_links(app: Flask, client: FlaskClient) -> None:
    auth, _ = _shopper_with_history(app, client)
    response = client.patch("/api/v1/me/consents", json={"purposes": {"profile": False}}, headers=auth)
    assert response.status_code == 200
    with app.app_context():
        assert _count(ShopperEvent) == 0
        assert _count(Order, Order.profile_id.is_not(None)) == 0 and _count(Order) == 1


def test_events_and_order_links_follow_the_profile_retention(app: Flask, client: FlaskClient) -> None:
    auth, profile_id = _shopper_with_history(app, client)
    now = utcnow()
    with app.app_context(), transaction():
        merchant, profile = _profile_of(app, auth)
        old = now - dt.timedelta(days=800)  # beyond the demo's 24 months, on a profile still alive
        click = ShopperEvent(merchant_id=merchant.id, profile_id=profile.id, type="product_click", product_id="X")
        click.occurred_at = old
        get_session().add(click)
        orders.record(merchant, _order("A-0001", profile_id=profile.id, placed_at=old))
    with app.app_context():
        retention.purge()
        kept = get_session().scalars(sa.select(ShopperEvent).where(ShopperEvent.type != "recommended"))
        assert [e.product_id for e in kept] == ["TENT-1"]
        linked = get_session().scalars(sa.select(Order.order_id).where(Order.profile_id == profile_id)).all()
        assert linked == ["A-1001"] and _count(Order) == 2
    with app.app_context(), transaction():
        get_session().execute(sa.update(Profile).values(expires_at=now - dt.timedelta(days=1)))
    with app.app_context():
        retention.purge()
        assert _count(Profile) == 0 and _count(ShopperEvent) == 0
        assert _count(Order, Order.profile_id.is_not(None)) == 0 and _count(Order) == 2


def test_orders_link_by_profile_id_reference_or_confirmed_email_only(app: Flask, client: FlaskClient) -> None:
    auth = grant(client, profile=True, email=True)
    client.post("/api/v1/m/demo/responses", json={"answers": full_answers(), "email": "Ann@Example.com"}, headers=auth)
    make_merchant(app, "other")
    with app.app_context(), transaction():
        merchant, profile = _profile_of(app, auth)
        ref = references.Reference(merchant.id, profile.subject_id, "TENT-1", "email", 1, utcnow())
        by_ref, _ = orders.record(merchant, _order("R-1", reference=ref))
        assert (by_ref.profile_id, by_ref.linked_by, by_ref.ref_channel) == (profile.id, "attune_ref", "email")
        unconfirmed, _ = orders.record(merchant, _order("E-1", email="ann@example.com"))
        assert unconfirmed.profile_id is None, "an address its owner did not confirm links nothing"
        profile.email_confirmed_at = utcnow()
        confirmed, _ = orders.record(merchant, _order("E-2", email=" ANN@example.com"))
        assert (confirmed.profile_id, confirmed.linked_by) == (profile.id, "email")
        foreign = get_session().scalar(sa.select(Merchant).where(Merchant.slug == "other"))
        assert foreign is not None
        stray, _ = orders.record(foreign, _order("F-1", profile_id=profile.id, email="ann@example.com", reference=ref))
        assert stray.profile_id is None, "another merchant's profile is never linked"


def test_an_order_id_is_recorded_once_a_repeat_updates_and_a_cancellation_reverses(app: Flask) -> None:
    with app.app_context(), transaction():
        merchant = get_session().scalar(sa.select(Merchant).where(Merchant.slug == "demo"))
        assert merchant is not None
        _, created = orders.record(merchant, _order("A-7"))
        assert created
        updated, created = orders.record(
            merchant, _order("A-7", total=Decimal("40.00"), items=[orders.Line("MUG-2", 2, Decimal("20.00"))])
        )
        assert not created and updated.total == Decimal("40.00")
        assert [(line.product_id, line.quantity) for line in updated.lines] == [("MUG-2", 2)]
        cancelled, _ = orders.record(merchant, _order("A-7", cancelled=True))
        assert cancelled.cancelled_at is not None
        assert _count(Order) == 1 and _count(OrderLine) == 1


def test_a_reference_is_only_read_back_at_its_merchant_and_unaltered(app: Flask) -> None:
    with app.test_request_context():
        shown = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
        token = references.issue(references.Reference(7, "subj", "TENT-1", "widget", 3, shown))
        assert references.read(token, 7) == references.Reference(7, "subj", "TENT-1", "widget", 3, shown)
        assert references.read(token, 8) is None
        assert references.read(token[:-2] + ("AA" if not token.endswith("AA") else "BB"), 7) is None


def test_the_migration_creates_the_outcome_tables_as_the_models_describe_them(app: Flask) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from quiz.models import Base
    from quiz.platform.db import get_engine

    ours = ("shopper_event", "tracked_order", "shop_order", "shop_order_line")
    with app.app_context(), get_engine().connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    mine = [d for d in diffs if any(table in repr(d) for table in ours)]
    assert mine == []
