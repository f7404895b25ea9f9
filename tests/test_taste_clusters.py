"""Taste clusters of real profiles on the demo catalog, their labels, the k setting and segments."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from quiz import merchants
from quiz.merchants.accounts import create_admin
from quiz.platform.db import transaction

from .conftest import csrf_token
from .helpers import bearer, full_answers, grant
from .test_admin import log_in
from .test_campaigns import demo_key

GROUPS = {
    "Outerwear": (
        "outerwear",
        ["rain jacket", "waterproof rain jacket", "rain jacket for hiking", "light rain jacket"],
    ),
    "Fitness & Yoga": ("fitness", ["yoga mat", "thick yoga mat", "yoga mat for home", "non-slip yoga mat"]),
    "Camping Gear": ("camping", ["camping tent", "two person camping tent", "tent for camping trips", "family tent"]),
}


def stored_profiles(client: FlaskClient) -> None:
    for category_value, needs in GROUPS.values():
        for need in needs:
            auth = grant(client, profile=True)
            body = {"answers": full_answers(looking_for=need, categories=[category_value], styles=[])}
            assert client.post("/api/v1/m/demo/responses", json=body, headers=auth).status_code == 201


def test_profiles_fall_into_labelled_taste_clusters(app: Flask, client: FlaskClient) -> None:
    key = demo_key(app)
    assert client.get("/api/v1/clusters", headers=bearer(key)).json["clusters"] == [], "too few profiles yet"
    stored_profiles(client)
    report = client.get("/api/v1/clusters", headers=bearer(key)).json
    assert len(report["clusters"]) == 3 and report["fixed_k"] is False and report["silhouette"] > 0.2
    for c in report["clusters"]:
        assert c["size"] == 4
        (category,) = [name for name, (value, _) in GROUPS.items() if name == c["categories"][0]]
        answers = {(a["question"], a["answer"]) for a in c["typical_answers"]}
        assert any(q == "Which categories interest you?" for q, _ in answers), answers
    assert sorted(c["categories"][0] for c in report["clusters"]) == sorted(GROUPS)

    with app.app_context(), transaction():
        merchants.get_by_slug("demo").taste_clusters = 2
    fixed = client.get("/api/v1/clusters", headers=bearer(key)).json
    assert len(fixed["clusters"]) == 2 and fixed["fixed_k"] is True
    with app.app_context(), transaction():
        merchants.get_by_slug("demo").taste_clusters = None


def test_a_cluster_becomes_a_segment_in_the_admin(app: Flask, client: FlaskClient) -> None:
    stored_profiles(client)
    with app.app_context(), transaction():
        create_admin(merchants.get_by_slug("demo"), "clusters@demo.example", "correct horse battery")
    log_in(client, "clusters@demo.example")
    page = client.get("/admin/clusters").get_data(as_text=True)
    assert "(chosen by silhouette)" in page and "<svg" in page
    assert len(re.findall(r"/admin/clusters/\d+/segment", page)) == 3
    index = re.search(r"/admin/clusters/(\d+)/segment", page).group(1)
    saved = client.post(f"/admin/clusters/{index}/segment", data={"csrf_token": csrf_token(page)})
    assert saved.status_code == 302
    segment_id = saved.headers["Location"].rsplit("/", 1)[1]
    one = client.get(f"/api/v1/segments/{segment_id}", headers=bearer(demo_key(app))).json
    assert one["count"] == 4 and one["rules"][0]["kind"] == "cluster" and len(one["rules"][0]["centroid"]) == 384
    members = set(one["profile_ids"])
    for need in ("rain jacket for the city", "yoga mat", "camping tent"):  # new profiles renumber clusters
        auth = grant(client, profile=True)
        body = {"answers": full_answers(looking_for=need, styles=[])}
        client.post("/api/v1/m/demo/responses", json=body, headers=auth)
    again = client.get(f"/api/v1/segments/{segment_id}", headers=bearer(demo_key(app))).json
    assert members <= set(again["profile_ids"]) and again["count"] == 5, "the segment keeps its taste"
    setting = client.post("/admin/clusters", data={"csrf_token": csrf_token(page), "k": "2"})
    assert setting.status_code == 302
    assert "2 clusters;" in client.get("/admin/clusters").get_data(as_text=True)
    with app.app_context(), transaction():
        merchants.get_by_slug("demo").taste_clusters = None


def test_a_deleted_profile_leaves_the_clusters(app: Flask, client: FlaskClient) -> None:
    key = demo_key(app)
    stored_profiles(client)
    auth = grant(client, profile=True)
    body = {"answers": full_answers(looking_for="rain jacket", categories=["outerwear"], styles=[])}
    profile_id = client.post("/api/v1/m/demo/responses", json=body, headers=auth).json["profile_id"]
    members = {
        pid for c in client.get("/api/v1/clusters", headers=bearer(key)).json["clusters"] for pid in c["profile_ids"]
    }
    assert profile_id in members
    assert client.delete("/api/v1/me", headers=auth).status_code == 204
    after = {
        pid for c in client.get("/api/v1/clusters", headers=bearer(key)).json["clusters"] for pid in c["profile_ids"]
    }
    assert profile_id not in after and len(after) == 12
