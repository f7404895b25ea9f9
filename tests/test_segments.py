"""Rule segments, the profile browser, and exports of a segment."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from quiz import merchants
from quiz.models import IntentShift, Profile
from quiz.platform.db import get_session, transaction

from .conftest import csrf_token
from .helpers import bearer, full_answers, grant
from .test_admin import log_in
from .test_campaigns import confirm, confirmation_link, demo_key, outbox  # noqa: F401  (fixture)


def shopper(client: FlaskClient, name: str, email: str | None = None, **answers: Any) -> dict[str, str]:
    auth = grant(client, profile=True, email=email is not None)
    body = {"answers": full_answers(first_name=name, **answers), "email": email}
    assert client.post("/api/v1/m/demo/responses", json=body, headers=auth).status_code == 201
    return auth


def profile_of(app: Flask, name: str) -> Profile:
    with app.app_context():
        return get_session().scalars(sa.select(Profile).where(Profile.first_name == name)).one()


def people(app: Flask, client: FlaskClient) -> dict[str, dict[str, str]]:
    return {
        "Ada": shopper(client, "Ada", "ada@example.com", categories=["outerwear"], budget=[0, 200], country="DE"),
        "Bo": shopper(client, "Bo", None, categories=["footwear"], budget=[300, 1000], country="ES"),
        "Cy": shopper(client, "Cy", "cy@example.com", categories=["any"], budget=[0, 1000], country="DE"),
    }


def count(client: FlaskClient, key: str, rules: list[dict[str, Any]]) -> int:
    response = client.post("/api/v1/segments/count", json={"rules": rules}, headers=bearer(key))
    assert response.status_code == 200, response.json
    return int(response.json["count"])


def test_each_rule_kind_selects_the_right_profiles(app: Flask, client: FlaskClient) -> None:
    key = demo_key(app)
    people(app, client)
    assert count(client, key, []) == 3
    assert count(client, key, [{"kind": "answer", "question": "country", "values": ["DE"]}]) == 2
    assert count(client, key, [{"kind": "answer", "question": "categories", "values": ["footwear", "any"]}]) == 2
    assert count(client, key, [{"kind": "budget", "min": 250}]) == 2, "Bo (300-1000) and Cy (0-1000) overlap"
    assert count(client, key, [{"kind": "budget", "max": 100}]) == 2
    assert count(client, key, [{"kind": "consent", "purpose": "email"}]) == 2
    both = [{"kind": "consent", "purpose": "email"}, {"kind": "answer", "question": "country", "values": ["DE"]}]
    assert count(client, key, both) == 2
    with app.app_context(), transaction():
        old = dt.datetime.now(dt.UTC) - dt.timedelta(days=45)
        get_session().execute(sa.update(Profile).where(Profile.first_name == "Bo").values(last_seen_at=old))
        ada = get_session().scalars(sa.select(Profile).where(Profile.first_name == "Ada")).one()
        get_session().add(IntentShift(merchant_id=ada.merchant_id, profile_id=ada.id, similarity=0.1))
    assert count(client, key, [{"kind": "last_seen", "within_days": 30}]) == 2
    assert count(client, key, [{"kind": "intent_shift"}]) == 1


def test_segments_are_saved_checked_by_path_and_scoped_to_their_merchant(app: Flask, client: FlaskClient) -> None:
    key = demo_key(app)
    people(app, client)
    auth = bearer(key)
    bad = client.post(
        "/api/v1/segments",
        json={
            "name": "Broken",
            "rules": [
                {"kind": "answer", "question": "shoe_size", "values": ["42"]},
                {"kind": "answer", "question": "country", "values": ["XX"]},
                {"kind": "answer", "question": "categories"},
                {"kind": "astrology"},
                {"kind": "budget"},
            ],
        },
        headers=auth,
    )
    assert bad.status_code == 422
    assert set(bad.json["fields"]) >= {"rules[2].values", "rules[3].kind", "rules[4].max"}
    bad_refs = client.post(
        "/api/v1/segments",
        json={"name": "Refs", "rules": [{"kind": "answer", "question": "shoe_size", "values": ["42"]}]},
        headers=auth,
    )
    assert bad_refs.json["fields"] == {"rules[0].question": ["'shoe_size' is not a question of your quiz."]}

    rules = [{"kind": "answer", "question": "country", "values": ["DE"]}]
    made = client.post("/api/v1/segments", json={"name": "Germany", "rules": rules}, headers=auth)
    assert made.status_code == 201 and made.json["count"] == 2
    segment_id = made.json["id"]
    again = client.post("/api/v1/segments", json={"name": "Germany", "rules": []}, headers=auth)
    assert again.status_code == 422 and "name" in again.json["fields"]
    one = client.get(f"/api/v1/segments/{segment_id}", headers=auth).json
    assert sorted(one["profile_ids"]) == sorted([profile_of(app, "Ada").id, profile_of(app, "Cy").id])
    renamed = client.put(
        f"/api/v1/segments/{segment_id}",
        json={"name": "Spain", "rules": [{**rules[0], "values": ["ES"]}]},
        headers=auth,
    )
    assert renamed.json == {"id": segment_id, "name": "Spain", "rules": renamed.json["rules"], "count": 1}
    assert [s["name"] for s in client.get("/api/v1/segments", headers=auth).json["items"]] == ["Spain"]

    from .helpers import make_merchant

    other = make_merchant(app, "othersegments")
    assert client.get(f"/api/v1/segments/{segment_id}", headers=bearer(other.api_key)).status_code == 404
    assert client.delete(f"/api/v1/segments/{segment_id}", headers=bearer(other.api_key)).status_code == 404
    assert client.delete(f"/api/v1/segments/{segment_id}", headers=auth).status_code == 204
    assert client.get(f"/api/v1/segments/{segment_id}", headers=auth).status_code == 404


def test_a_segment_export_holds_only_its_members_who_may_be_contacted(
    app: Flask,
    client: FlaskClient,
    outbox: Any,  # noqa: F811
) -> None:
    key = demo_key(app)
    auths = people(app, client)
    for address in ("ada@example.com", "cy@example.com"):
        confirm(client, confirmation_link(outbox, address))
    rules = [{"kind": "answer", "question": "categories", "values": ["outerwear"]}]
    segment_id = client.post("/api/v1/segments", json={"name": "Jackets", "rules": rules}, headers=bearer(key)).json[
        "id"
    ]
    everyone = client.get("/api/v1/campaigns/export?channel=email&format=json&products=1", headers=bearer(key)).json
    assert {r["address"] for r in everyone["recipients"]} == {"ada@example.com", "cy@example.com"}
    url = f"/api/v1/campaigns/export?channel=email&format=json&products=1&segment={segment_id}"
    response = client.get(url, headers=bearer(key))
    assert f"-{segment_id}-" in response.headers["Content-Disposition"]
    assert [r["address"] for r in response.json["recipients"]] == ["ada@example.com"]
    client.delete("/api/v1/me", headers=auths["Ada"])
    assert client.get(url, headers=bearer(key)).json["recipients"] == [], "a deleted profile leaves every segment"
    assert client.get(url.replace(segment_id, "nope"), headers=bearer(key)).status_code == 404


def test_the_admin_writes_segments_with_counts_and_browses_profiles(app: Flask, client: FlaskClient) -> None:
    people(app, client)
    from quiz.merchants.accounts import create_admin

    with app.app_context(), transaction():
        create_admin(merchants.get_by_slug("demo"), "segments@demo.example", "correct horse battery")
    log_in(client, "segments@demo.example")
    page = client.get("/admin/segments").get_data(as_text=True)
    assert "kind: consent" in page, "a new segment starts from an example"
    rules = "- kind: answer\n  question: country\n  values: [DE]\n"
    counted = client.post(
        "/admin/segments", data={"csrf_token": csrf_token(page), "name": "DE", "rules": rules, "count": "1"}
    )
    assert "2 profiles match these rules now." in counted.get_data(as_text=True)
    live = client.post("/admin/segments/count", data={"csrf_token": csrf_token(page), "rules": rules})
    assert live.json == {"count": 2}
    broken = client.post("/admin/segments/count", data={"csrf_token": csrf_token(page), "rules": "- kind: [unclosed"})
    assert broken.status_code == 422 and "not valid YAML" in broken.json["error"]
    invalid = client.post(
        "/admin/segments", data={"csrf_token": csrf_token(page), "name": "X", "rules": "- kind: consent\n", "save": "1"}
    )
    assert invalid.status_code == 422 and "rules[0].purpose: A consent rule needs purpose." in invalid.get_data(
        as_text=True
    )
    saved = client.post(
        "/admin/segments", data={"csrf_token": csrf_token(page), "name": "DE", "rules": rules, "save": "1"}
    )
    assert saved.status_code == 302
    segment_id = saved.headers["Location"].rsplit("/", 1)[1]

    listing = client.get(f"/admin/profiles?segment={segment_id}").get_data(as_text=True)
    assert "2 profiles in DE." in listing and "<td>Ada</td>" in listing and "<td>Bo</td>" not in listing
    found = client.get("/admin/profiles?q=bo").get_data(as_text=True)
    assert "1 profile." in found and ">Bo<" in found
    profile_id = re.search(r"/admin/profiles/([0-9a-f]+)", found).group(1)
    detail = client.get(f"/admin/profiles/{profile_id}").get_data(as_text=True)
    assert "Shoes and boots" in detail and "Top picks from today" in detail
    assert detail.count("<li>") >= 5
