"""Loaded catalogs stay within the process's memory budget: least recently used merchants are evicted.

Real merchants, real embeddings and FAISS indexes: each test shop sells one kind of thing, so a
shopper who gets another shop's product would notice at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask

from quiz import merchants
from quiz.catalog.engine import catalog_cache, recommender_for
from quiz.catalog.loaded import MIB
from quiz.catalog.sync import rebuild_index, upsert_products
from quiz.models import Merchant
from quiz.platform.db import get_session, transaction
from recommender import Preferences, ProductRecord, QueryPart
from recommender.footprint import approximate_bytes

from .helpers import grant
from .test_observability import samples, value

SHOPS = {
    "mem-kettles": ("Kettle", "Kitchen > Kettles"),
    "mem-tents": ("Tent", "Camping > Tents"),
    "mem-boots": ("Boot", "Footwear > Boots"),
    "mem-lamps": ("Lamp", "Home > Lamps"),
}
PER_SHOP = 24


def _records(noun: str, category: str) -> list[ProductRecord]:
    return [
        ProductRecord(
            f"{noun[:2].upper()}{n}",
            f"{noun} model {n}",
            f"A sturdy {noun.lower()} in size {n}.",
            category=category,
            price=20.0 + n,
        )
        for n in range(PER_SHOP)
    ]


@pytest.fixture
def shops(app: Flask) -> dict[str, int]:
    """Create the four single-product-kind shops with their indexes; return their ids by slug."""
    ids = {}
    with app.app_context():
        for slug, (noun, category) in SHOPS.items():
            with transaction():
                merchant = merchants.create(slug, noun + " Shop").merchant
                upsert_products(merchant, _records(noun, category))
                rebuild_index(merchant)
            ids[slug] = merchant.id
    return ids


def _budgeted_app(app: Flask, new_app: Callable[..., Flask], catalogs: float) -> tuple[Flask, int]:
    """Return an app whose budget holds about ``catalogs`` of the test shops, and one shop's size."""
    with app.app_context():
        merchant = get_session().scalar(sa.select(Merchant).where(Merchant.slug == "mem-kettles"))
        one = approximate_bytes(recommender_for(merchant).catalog)
    return new_app(CATALOG_MEMORY_MB=catalogs * one / MIB), one


def _load(slug: str) -> set[str]:
    """Recommend from the shop's catalog (loading it if needed); return the kinds of product it gave."""
    merchant = get_session().scalar(sa.select(Merchant).where(Merchant.slug == slug))
    prefs = Preferences(parts=(QueryPart("something sturdy", 1.0, cacheable=False),))
    recommender = recommender_for(merchant)
    return {recommender.catalog.items[r.item_id].title.split()[0] for r in recommender.recommend(prefs, limit=5)}


def test_least_recently_used_merchants_are_evicted_to_stay_within_the_budget(
    app: Flask, new_app: Callable[..., Flask], shops: dict[str, int]
) -> None:
    budgeted, one = _budgeted_app(app, new_app, catalogs=2.5)
    with budgeted.app_context():
        assert _load("mem-kettles") == {"Kettle"}
        assert _load("mem-tents") == {"Tent"}
        assert _load("mem-kettles") == {"Kettle"}  # a hit: kettles are now the most recently used
        assert _load("mem-boots") == {"Boot"}  # over budget: tents, the least recently used, go
        cache = catalog_cache()
        assert set(cache.versions()) == {shops["mem-kettles"], shops["mem-boots"]}
        figures = cache.figures()
        assert (figures.hits, figures.misses, figures.evictions) == (1, 3, 1)
        assert figures.used_bytes <= figures.budget_bytes
        assert _load("mem-tents") == {"Tent"}, "an evicted shop loads again on its next request"
        assert cache.figures().misses == 4 and shops["mem-kettles"] not in cache.versions()

    client = budgeted.test_client()
    catalogs = client.get("/readyz").json["checks"]["catalogs"]
    assert catalogs["loaded"] == 2 and catalogs["evictions"] == 2 and catalogs["misses"] == 4
    assert catalogs["memory_mb"] <= catalogs["budget_mb"] == round(2.5 * one / MIB, 1)
    found = samples(client)
    assert value(found, "attune_catalog_cache_total", event="eviction") >= 2
    assert value(found, "attune_catalog_memory_budget_bytes") == pytest.approx(2.5 * one, abs=1)
    assert 0 < value(found, "attune_catalog_memory_bytes") <= 2.5 * one
    assert value(found, "attune_indexes_loaded") == 2


def test_a_catalog_larger_than_the_budget_is_still_served_alone(
    app: Flask, new_app: Callable[..., Flask], shops: dict[str, int]
) -> None:
    budgeted, _ = _budgeted_app(app, new_app, catalogs=0.5)
    with budgeted.app_context():
        assert _load("mem-kettles") == {"Kettle"}
        assert _load("mem-lamps") == {"Lamp"}
        assert set(catalog_cache().versions()) == {shops["mem-lamps"]}


def test_eviction_never_breaks_a_request_in_flight(
    app: Flask, new_app: Callable[..., Flask], shops: dict[str, int]
) -> None:
    budgeted, _ = _budgeted_app(app, new_app, catalogs=1.5)
    prefs = Preferences(parts=(QueryPart("something sturdy", 1.0, cacheable=False),))
    with budgeted.app_context():
        merchant = get_session().scalar(sa.select(Merchant).where(Merchant.slug == "mem-kettles"))
        in_flight = recommender_for(merchant)  # a request that has its catalog and is still ranking
        for slug in ("mem-tents", "mem-boots", "mem-lamps"):
            _load(slug)
        assert shops["mem-kettles"] not in catalog_cache().versions(), "evicted while the request runs"
        titles = [in_flight.catalog.items[r.item_id].title for r in in_flight.recommend(prefs, limit=5)]
        assert len(titles) == 5 and all(t.startswith("Kettle") for t in titles)


def test_shoppers_of_many_shops_at_once_each_get_their_own_shop_while_catalogs_are_evicted(
    app: Flask, new_app: Callable[..., Flask], shops: dict[str, int]
) -> None:
    budgeted, _ = _budgeted_app(app, new_app, catalogs=1.5)
    failures: list[str] = []
    kinds = {slug: noun for slug, (noun, _) in SHOPS.items()}

    def shopper(slug: str) -> None:
        client = budgeted.test_client()
        auth = grant(client, slug)
        for _ in range(6):
            response = client.post(
                f"/api/v1/m/{slug}/recommendations",
                json={"answers": {"looking_for": "something sturdy"}, "limit": 4},
                headers=auth,
            )
            if response.status_code != 200:
                failures.append(f"{slug}: {response.status_code} {response.get_data(as_text=True)[:200]}")
                return
            got = {item["title"].split()[0] for item in response.json["items"]}
            if got != {kinds[slug]}:
                failures.append(f"{slug} got {got}")

    threads = [threading.Thread(target=shopper, args=(slug,)) for slug in SHOPS for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures
    with budgeted.app_context():
        figures = catalog_cache().figures()
    assert figures.evictions > 0, "the budget held fewer shops than were asked for"
    assert figures.loaded == 1 or figures.used_bytes <= figures.budget_bytes
