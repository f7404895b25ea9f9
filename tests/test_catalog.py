"""Catalog upkeep: embeddings only for changed products, new index versions picked up live."""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa
from flask import Flask

from quiz import merchants
from quiz.catalog.engine import recommender_for
from quiz.catalog.sync import rebuild_index, upsert_products
from quiz.models import Product
from quiz.platform.db import get_session, transaction
from recommender import Preferences, ProductRecord, QueryPart

KETTLE = ProductRecord(
    "K1", "Enamel Camp Kettle", "Boils water on a camp stove.", category="Kitchen > Kettles", price=35.0
)
TENT = ProductRecord(
    "T1", "Two-Person Dome Tent", "Freestanding tent for weekend trips.", category="Camping > Tents", price=220.0
)


def test_only_new_or_changed_products_are_embedded(app: Flask) -> None:
    with app.app_context():
        with transaction():
            merchant = merchants.create("kettles", "Kettles").merchant
            first = upsert_products(merchant, [KETTLE, TENT])
        assert (first.created, first.embedded) == (2, 2)
        version = merchant.catalog_version
        with transaction():
            again = upsert_products(merchant, [KETTLE, TENT])
        assert (again.unchanged, again.embedded) == (2, 0)
        assert merchant.catalog_version == version, "nothing changed, so no new catalog version"
        cheaper = dataclasses.replace(TENT, price=199.0)
        renamed = dataclasses.replace(KETTLE, title="Enamel Camp Kettle 1L")
        with transaction():
            third = upsert_products(merchant, [renamed, cheaper])
        assert (third.updated, third.embedded) == (2, 1), "a price change needs no new embedding"
        tent = get_session().scalar(sa.select(Product).where(Product.external_id == "T1"))
        assert float(tent.price) == 199.0


def test_a_new_index_version_is_served_without_restart(app: Flask) -> None:
    with app.app_context():
        with transaction():
            merchant = merchants.create("swap", "Swap Shop").merchant
            upsert_products(merchant, [KETTLE])
            rebuild_index(merchant)
        want = Preferences(parts=(QueryPart("a tent to sleep in", 1.0, cacheable=False),))
        assert [i.title for i in _titles(merchant, want)] == ["Enamel Camp Kettle"]
        with transaction():
            upsert_products(merchant, [KETTLE, TENT])
            rebuild_index(merchant)
        assert _titles(merchant, want)[0].title == "Two-Person Dome Tent"


def _titles(merchant, prefs):  # type: ignore[no-untyped-def]
    recommender = recommender_for(merchant)
    return [recommender.catalog.items[r.item_id] for r in recommender.recommend(prefs, limit=5)]


def test_recommendations_before_any_catalog_are_503(app: Flask) -> None:
    with app.app_context():
        with transaction():
            merchants.create("empty", "Empty Shop")
    client = app.test_client()
    token = client.post("/api/v1/m/empty/consents", json={"purposes": {"recommendations": True}}).json
    response = client.post(
        "/api/v1/m/empty/recommendations",
        json={"answers": {}},
        headers={"Authorization": "Bearer " + token["subject_token"]},
    )
    assert response.status_code == 503 and "no searchable catalog" in response.json["error"]
