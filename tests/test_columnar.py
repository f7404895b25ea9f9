"""A loaded catalog keeps its items as columns: the same items come back, in far less memory."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from quiz.catalog.engine import recommender_for
from quiz.models import Merchant
from quiz.platform.db import get_session
from recommender import CatalogItem
from recommender.columnar import ColumnarItems
from recommender.footprint import approximate_bytes

from .helpers import full_answers, grant


def _items(count: int) -> list[CatalogItem]:
    return [
        CatalogItem(
            external_id=f"SKU-{n}",
            title=f"Trail jacket n°{n} – ünïcode",
            description="Waterproof shell for long hikes. " * (1 + n % 5),
            brand=("Nordkap", "Alpine Co", "")[n % 3],
            category="Outerwear > Jackets" if n % 2 else "Camping > Tents",
            tags=("waterproof", f"size-{n % 4}") if n % 3 else (),
            price=None if n % 7 == 0 else 10.5 + n,
            currency="EUR",
            url=f"https://shop.example/p/{n}",
            image_url="" if n % 2 else f"https://shop.example/i/{n}.jpg",
            available=n % 5 != 0,
            attributes={"colour": ["red", "navy"], "weight_g": n} if n % 4 else {},
            id=1000 + 3 * n,  # ids with gaps, not in insertion order below
        )
        for n in range(count)
    ]


def test_every_item_comes_back_as_it_was_stored() -> None:
    items = _items(500)
    columns = ColumnarItems.build(reversed(items))
    assert len(columns) == 500 and list(columns) == sorted(item.id for item in items)
    for item in items:
        assert item.id in columns and columns[item.id] == item
    assert 999 not in columns and columns.get(1001) is None
    assert columns.ids_of_external(["SKU-3", "SKU-499", "nope"]) == {1009, 2497}


def test_columns_take_less_than_half_the_memory_of_one_object_per_product() -> None:
    items = _items(5000)
    as_objects = {item.id: item for item in items}
    as_columns = ColumnarItems.build(items)
    assert approximate_bytes(as_columns) * 2 < approximate_bytes(as_objects)


def test_the_served_catalog_is_columnar_and_recommends_as_before(app: Flask) -> None:
    with app.app_context():
        merchant = get_session().scalar(sa.select(Merchant).where(Merchant.slug == "demo"))
        catalog = recommender_for(merchant).catalog
    assert isinstance(catalog.items, ColumnarItems)
    client = app.test_client()
    auth = grant(client)
    response = client.post("/api/v1/m/demo/recommendations", json={"answers": full_answers(), "limit": 8}, headers=auth)
    assert response.status_code == 200
    items = response.json["items"]
    assert len(items) == 8 and all("Outerwear" in i["category"] for i in items[:2])
    first = items[0]
    excluded = client.post(
        "/api/v1/m/demo/recommendations",
        json={"answers": full_answers(), "limit": 8, "exclude": [first["id"]]},
        headers=auth,
    )
    assert excluded.status_code == 200, "exclusions are external ids, found without a scan"
    assert first["id"] not in [i["id"] for i in excluded.json["items"]] and len(excluded.json["items"]) == 8
