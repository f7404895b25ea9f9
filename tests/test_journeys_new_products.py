"""The new_products journey: products added since the last message, close to a stored taste, at most weekly.

A shop of its own (the demo catalog's rows are kept between tests), the real model and index,
mail to a real SMTP server (aiosmtpd); the migration that dates products is checked on a
database of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from quiz import merchants
from quiz.catalog.sync import rebuild_index, upsert_products
from quiz.demo.shop import demo_records
from quiz.lifecycle import journeys
from quiz.lifecycle.runner import run
from quiz.models import JourneySend, LifecycleSetting, Profile, utcnow
from quiz.platform.db import get_session, transaction
from quiz.platform.migrate import alembic_config
from recommender import ProductRecord

from .helpers import bearer, full_answers, grant, make_merchant, own_database
from .test_contact_email import Inbox, bodies, inbox  # noqa: F401  (inbox: the SMTP server fixture)

SHOP = "freshgear"
BASE = demo_records()[:40]
CLOSE = ProductRecord(
    "NEW-JACKET",
    "Featherweight Waterproof Hiking Shell",
    "A light, packable, waterproof and breathable rain jacket for hiking in wet weather.",
    category="Outerwear > Rain Jackets",
    tags=("waterproof", "lightweight", "hiking"),
    price=129.0,
    url="https://fresh.example/p/new-jacket",
)
CLOSE_LATER = ProductRecord(
    "NEW-JACKET-2",
    "Stormline Ultralight Rain Jacket",
    "Waterproof, breathable and light: a rain shell that packs away for hikes and treks.",
    category="Outerwear > Rain Jackets",
    tags=("waterproof", "lightweight", "packable"),
    price=159.0,
)
FAR = ProductRecord(
    "NEW-CUPS",
    "Porcelain Espresso Cup Set",
    "Six gilded porcelain demitasse cups with saucers, for serving coffee after dinner.",
    category="Kitchen > Tableware",
    price=45.0,
)


@pytest.fixture
def shop(app: Flask) -> str:
    """A shop with part of the demo catalog, its index, no quiet hours; returns its API key."""
    key = make_merchant(app, SHOP, "Fresh Gear").api_key
    with app.app_context(), transaction():
        merchant = merchants.get_by_slug(SHOP)
        upsert_products(merchant, BASE)
        rebuild_index(merchant)
        get_session().add(LifecycleSetting(merchant_id=merchant.id, quiet_start=0, quiet_end=0))
    return key


def _shopper(client: FlaskClient, app: Flask, email: str, **answers: Any) -> tuple[dict[str, str], str]:
    auth = grant(client, SHOP, profile=True, email=True)
    body = {"answers": full_answers(**answers), "email": email}
    response = client.post(f"/api/v1/m/{SHOP}/responses", json=body, headers=auth)
    assert response.status_code == 201, response.json
    profile_id = response.json["profile_id"]
    with app.app_context(), transaction():
        get_session().get(Profile, profile_id).email_confirmed_at = utcnow()
    return auth, profile_id


def _add(app: Flask, *records: ProductRecord) -> None:
    """Products arrive in the catalog (an upsert import), and the index is rebuilt."""
    with app.app_context(), transaction():
        merchant = merchants.get_by_slug(SHOP)
        upsert_products(merchant, [*BASE, *records])
        rebuild_index(merchant)


def _journey_mail(box: Inbox) -> list[Any]:
    return [m for m in box.messages if m["List-Unsubscribe"]]


def _wait(box: Inbox, count: int) -> list[Any]:
    with box.arrived:
        box.arrived.wait_for(lambda: len(_journey_mail(box)) >= count, timeout=10)
    return _journey_mail(box)


def _picks(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("- ")]


def _log(app: Flask, profile_id: str) -> list[JourneySend]:
    with app.app_context():
        return list(
            get_session().scalars(
                sa.select(JourneySend).where(JourneySend.profile_id == profile_id).order_by(JourneySend.id)
            )
        )


def test_new_products_close_to_a_taste_go_out_once_a_week_and_only_new_ones(
    app: Flask,
    client: FlaskClient,
    runner: FlaskCliRunner,
    shop: str,
    inbox: Inbox,  # noqa: F811
) -> None:
    ada_auth, ada = _shopper(client, app, "ada@example.com")
    wil_auth, wil = _shopper(client, app, "wil@example.com")
    _, yogi = _shopper(client, app, "yogi@example.com", looking_for="a yoga mat for home workouts", styles=["classic"])
    assert client.patch("/api/v1/me/consents", json={"purposes": {"email": False}}, headers=wil_auth).status_code == 200
    switched = client.put("/api/v1/journeys/new_products", json={"enabled": True}, headers=bearer(shop))
    assert switched.status_code == 200 and switched.json["enabled"] is True

    quiet = runner.invoke(args=["journeys", "run", "--merchant", SHOP])
    assert quiet.exit_code == 0 and "no candidates" in quiet.output, "the catalog it was switched on with is not new"

    _add(app, CLOSE, FAR)
    with app.app_context():
        merchant = merchants.get_by_slug(SHOP)
        (journey,) = [j for j in journeys.journeys(merchant) if j.kind == "new_products"]
        found = {c.profile.id: c for c in journeys.candidates(merchant, journey, utcnow())}
    assert found[ada].extra["new_products"] == ["NEW-JACKET"], "the cups are far from her taste"
    assert yogi not in found, "a rain jacket is far from a taste for yoga mats"
    assert found[ada].trigger_key.startswith("new:") and "-W" in found[ada].trigger_key

    result = runner.invoke(args=["journeys", "run", "--merchant", SHOP])
    assert result.exit_code == 0, result.output
    assert f"new_products profile {ada} email: sent: all checks passed [NEW-JACKET]" in result.output
    assert f"new_products profile {wil} email: skipped: no email consent now" in result.output
    assert yogi not in result.output and not _log(app, yogi)
    (message,) = _wait(inbox, 1)
    assert message["To"] == "ada@example.com" and message["Subject"] == "New at Fresh Gear, close to what you like"
    text, html = bodies(message)
    assert _picks(text) == [f"- {CLOSE.title}: {CLOSE.url}"], text
    assert "Featherweight Waterproof Hiking Shell" in html and FAR.title not in html
    assert not any(r.title in text for r in BASE), "products from before are not new"
    assert [row.products for row in _log(app, ada)] == [["NEW-JACKET"]]
    assert {row.status for row in _log(app, wil)} == {"skipped"}
    (shown,) = client.get("/api/v1/me", headers=ada_auth).json["messages"]
    assert (shown["journey"], shown["status"]) == ("new_products", "sent")

    # Another close product the same week: nothing more this week (at most weekly).
    _add(app, CLOSE, FAR, CLOSE_LATER)
    again = runner.invoke(args=["journeys", "run", "--merchant", SHOP])
    assert again.exit_code == 0 and f"profile {ada}" not in again.output.replace(f"profile {wil}", "")
    assert len(_journey_mail(inbox)) == 1

    # A week later: only what was added since her last message.
    later = utcnow() + dt.timedelta(days=7, minutes=1)
    with app.test_request_context(base_url="http://localhost"):
        decisions = run(merchants.get_by_slug(SHOP), later)
    (sent,) = [d for d in decisions if d.profile_id == ada]
    assert (sent.status, sent.products) == ("sent", ["NEW-JACKET-2"]), sent
    (_, second) = _wait(inbox, 2)
    assert [line.split(":")[0] for line in _picks(bodies(second)[0])] == [f"- {CLOSE_LATER.title}"]


def test_a_spanish_decision_gets_the_spanish_default_texts(
    app: Flask,
    client: FlaskClient,
    shop: str,
    inbox: Inbox,  # noqa: F811
) -> None:
    consent = client.post(
        f"/api/v1/m/{SHOP}/consents",
        json={"purposes": {"recommendations": True, "profile": True, "email": True, "sms": False}, "locale": "es"},
    )
    auth = {"Authorization": "Bearer " + consent.json["subject_token"]}
    response = client.post(
        f"/api/v1/m/{SHOP}/responses", json={"answers": full_answers(), "email": "eva@example.com"}, headers=auth
    )
    assert response.status_code == 201, response.json
    with app.app_context(), transaction():
        get_session().get(Profile, response.json["profile_id"]).email_confirmed_at = utcnow()
        journeys.configure(merchants.get_by_slug(SHOP), "new_products", enabled=True)
    _add(app, CLOSE)
    with app.test_request_context(base_url="http://localhost"):
        (decision,) = run(merchants.get_by_slug(SHOP))
    assert decision.status == "sent", decision
    (message,) = _wait(inbox, 1)
    assert message["Subject"] == "Novedades en Fresh Gear que van contigo"
    assert "Han llegado a la tienda desde nuestro último mensaje" in bodies(message)[0]


# -- the migration ---------------------------------------------------------------------------


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    """Yield the URL of an empty database of the session's kind (SQLite or PostgreSQL)."""
    with own_database(tmp_path / "migrate.sqlite3", "attune_migrate") as url:
        yield url


def test_the_migration_dates_stored_products_and_goes_both_ways(empty_database: str) -> None:
    config = alembic_config(empty_database)
    command.upgrade(config, "0016")
    engine = sa.create_engine(empty_database)
    changed = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO merchant (slug, name, retention_months, catalog_version, created_at) "
                    "VALUES ('m', 'M', 12, 0, :at)"
                ),
                {"at": changed},
            )
            merchant = conn.scalar(sa.text("SELECT id FROM merchant"))
            conn.execute(
                sa.text(
                    "INSERT INTO product (merchant_id, external_id, title, description, brand, category, tags, "
                    "currency, url, image_url, available, attributes, content_hash, updated_at) "
                    "VALUES (:m, 'P1', 'P', '', '', '', '[]', 'USD', '', '', true, '{}', '', :at)"
                ),
                {"m": merchant, "at": changed},
            )
        command.upgrade(config, "0017")
        # Stored before the column existed: the product takes its last change as its arrival.
        assert _created_at(engine) == changed
        columns = {c["name"]: c for c in sa.inspect(engine).get_columns("product")}
        assert columns["created_at"]["nullable"] is False
        assert "enabled_at" in {c["name"] for c in sa.inspect(engine).get_columns("journey")}
        command.downgrade(config, "0016")
        sa.inspect(engine).clear_cache()
        assert "created_at" not in {c["name"] for c in sa.inspect(engine).get_columns("product")}
        command.upgrade(config, "head")
        assert _created_at(engine) == changed
    finally:
        engine.dispose()


def _created_at(engine: sa.Engine) -> dt.datetime:
    with engine.connect() as conn:
        stored = conn.scalar(sa.text("SELECT created_at FROM product WHERE external_id = 'P1'"))
    stored = stored if isinstance(stored, dt.datetime) else dt.datetime.fromisoformat(str(stored))
    return stored if stored.tzinfo is not None else stored.replace(tzinfo=dt.UTC)


def test_products_and_journeys_match_their_migration(app: Flask) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from quiz.models import Base
    from quiz.platform.db import get_engine

    with app.app_context(), get_engine().connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # This change's columns and index (journey.threshold's FLOAT against Double is older, and harmless).
    mine = [d for d in diffs if any(name in repr(d) for name in ("created_at", "enabled_at", "ix_product_merchant"))]
    assert mine == []
