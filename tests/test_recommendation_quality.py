"""Recommendation quality on the demo catalog with the real model: needs a shopper would type."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from .helpers import full_answers, grant

# (what the shopper typed, extra answers, category prefix every one of the top N must have, N)
NEEDS = [
    ("lightweight waterproof jacket for hiking", {}, "Outerwear > Rain Jackets", 3),
    ("comfortable shoes for long city walks", {}, "Footwear", 3),
    ("gift for my dad who likes camping", {"intent": "gift", "gift_for": "parent"}, "Camping Gear", 3),
    ("home workout gear for a small flat", {}, "Fitness & Yoga", 4),
    ("cozy things for a cabin weekend", {}, "Home & Kitchen", 1),
    ("a tent for two people", {}, "Camping Gear > Tents", 2),
]


def recommend(client: FlaskClient, **answers: Any) -> list[dict[str, Any]]:
    auth = grant(client)
    body = {"answers": full_answers(**{"styles": [], **answers}), "limit": 12}
    response = client.post("/api/v1/m/demo/recommendations", json=body, headers=auth)
    assert response.status_code == 200, response.json
    return response.json["items"]


@pytest.mark.parametrize(("need", "extra", "category", "top"), NEEDS)
def test_needs_find_the_right_kind_of_product(
    client: FlaskClient, need: str, extra: dict[str, Any], category: str, top: int
) -> None:
    items = recommend(client, looking_for=need, **extra)
    shown = [(i["title"], i["category"]) for i in items[:top]]
    assert all(c.startswith(category) for _, c in shown), shown


def test_style_choice_lifts_matching_products_and_says_so(client: FlaskClient) -> None:
    items = recommend(client, looking_for="", categories=["clothing"], styles=["eco"])
    assert all(i["category"].startswith("Clothing") for i in items)
    assert all("made with sustainable materials" in i["reasons"] for i in items[:4])


def test_gender_reason_only_on_items_cut_for_that_gender(client: FlaskClient) -> None:
    items = recommend(client, looking_for="a rain jacket", gender="woman")
    assert items[0]["title"].startswith("Women's")
    for item in items:
        if "cut for women" in item["reasons"]:
            assert not item["title"].startswith("Men's")


def test_every_item_has_a_reason_even_without_free_text(client: FlaskClient) -> None:
    items = recommend(client, looking_for="", categories=["any"])
    assert len(items) == 12 and all(i["reasons"] for i in items)


def test_diversity_widens_the_first_page_without_losing_the_best_match(client: FlaskClient) -> None:
    auth = grant(client)

    def first_page(need: str, diverse: bool) -> list[dict[str, Any]]:
        body = {"answers": full_answers(styles=[], looking_for=need), "limit": 12, "diverse": diverse}
        return client.post("/api/v1/m/demo/recommendations", json=body, headers=auth).json["items"]

    needs = [need for need, *_ in NEEDS]
    plain = [first_page(need, False) for need in needs]
    varied = [first_page(need, True) for need in needs]
    share = lambda pages: sum(len({i["category"] for i in p}) for p in pages) / (12 * len(pages))  # noqa: E731
    assert share(varied) > share(plain) + 0.05, (share(plain), share(varied))
    assert [p[0]["id"] for p in varied] == [p[0]["id"] for p in plain], "the best match stays first"
    for page in varied:
        per_leaf: dict[str, int] = {}
        for item in page:
            per_leaf[item["category"]] = per_leaf.get(item["category"], 0) + 1
        assert max(per_leaf.values()) <= 4, per_leaf


def test_show_me_something_different_never_repeats(client: FlaskClient) -> None:
    auth = grant(client)
    body = {"answers": full_answers(styles=[], looking_for="a warm jacket"), "limit": 12}
    first = client.post("/api/v1/m/demo/recommendations", json=body, headers=auth).json["items"]
    seen = [i["id"] for i in first]
    second = client.post("/api/v1/m/demo/recommendations", json={**body, "exclude": seen}, headers=auth).json["items"]
    assert len(second) == 12 and not {i["id"] for i in second} & set(seen)
