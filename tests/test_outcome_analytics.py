"""The outcome report: quiz-influenced orders within the attribution window, per channel and version."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from quiz import merchants, quizzes
from quiz.merchants import api_keys
from quiz.models import Profile, ShopperEvent, utcnow
from quiz.outcomes import references
from quiz.platform.db import get_session, transaction

from .helpers import bearer, full_answers, grant, make_merchant
from .test_shopper_pages import decide, privacy_link_after_quiz


def _key(app: Flask, slug: str = "demo") -> dict[str, str]:
    with app.app_context(), transaction():
        _, key = api_keys.issue(merchants.get_by_slug(slug))
    return bearer(key)


def _order(order_id: str, product_id: str, total: float, **fields: Any) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "placed_at": utcnow().isoformat(),
        "currency": "USD",
        "total": total,
        "items": [{"product_id": product_id, "quantity": 1, "price": total}],
        **fields,
    }


def _report(client: FlaskClient, key: dict[str, str], **query: Any) -> dict[str, Any]:
    today = utcnow().date()
    params = {"from": (today - dt.timedelta(days=1)).isoformat(), "to": today.isoformat(), **query}
    response = client.get("/api/v1/analytics/outcomes", query_string=params, headers=key)
    assert response.status_code == 200, response.json
    return dict(response.json)


def test_orders_with_a_recommended_product_or_a_reference_count_as_quiz_influenced(
    app: Flask, client: FlaskClient
) -> None:
    auth = grant(client, profile=True)
    finished = client.post("/api/v1/m/demo/responses", json={"answers": full_answers()}, headers=auth)
    items, profile_id = finished.json["items"], finished.json["profile_id"]
    top, last = items[0]["id"], items[-1]["id"]
    key = _key(app)
    with app.test_request_context():
        demo = merchants.get_by_slug("demo")
        ref = references.issue(references.Reference(demo.id, "anonymous", last, "email", 1, utcnow()))
    for body in (
        _order("IN-1", top, 100.0, profile_id=profile_id),  # recommended to that profile
        _order("IN-2", last, 50.0, attune_ref=ref),  # carried a reference from an email
        _order("OUT-1", "TS-0099", 20.0),  # nothing to do with the quiz
        _order("OUT-2", top, 999.0, profile_id=profile_id, cancelled=True),  # cancelled: in no total
    ):
        assert client.post("/api/v1/orders", json=body, headers=key).status_code == 200
    report = _report(client, key)
    assert (report["orders"], report["revenue"]) == (3, 170.0)
    assert (report["influenced_orders"], report["influenced_revenue"]) == (2, 150.0)
    assert (report["aov_influenced"], report["aov_other"]) == (75.0, 20.0)
    api, email = report["by_channel"]["api"], report["by_channel"]["email"]
    assert (api["orders"], api["revenue"], email["orders"], email["revenue"]) == (1, 100.0, 1, 50.0)
    # Starts and finishes per channel and quiz version: the one API run, on the live version 1.
    assert (api["starts"], api["finishes"], api["finishers_with_profile"], api["conversion_rate"]) == (1, 1, 1, 1.0)
    assert (email["starts"], email["finishes"]) == (0, 0)
    assert report["by_quiz_version"]["1"]["starts"] == 1 and report["by_quiz_version"]["1"]["finishes"] == 1
    assert report["finishes"] == 1 and report["finishers_who_ordered"] == 1 and report["conversion_rate"] == 1.0
    assert report["top_products"][0] == {"product_id": top, "title": items[0]["title"], "revenue": 100.0}
    assert sum(v["orders"] for v in report["by_quiz_version"].values()) == 2

    with app.app_context(), transaction():  # the recommendation was 10 days before: outside a 7-day window
        get_session().execute(sa.update(ShopperEvent).values(occurred_at=utcnow() - dt.timedelta(days=10)))
    later = _report(client, key)
    assert later["influenced_orders"] == 1, "only the reference (shown just now) still counts"
    assert _report(client, key, window_days=14)["influenced_orders"] == 2
    assert _report(client, _key(app, make_merchant(app, "otheroutcomes").merchant.slug))["orders"] == 0
    with app.app_context():
        assert get_session().get(Profile, profile_id) is not None


def test_bad_ranges_are_refused_with_field_messages(app: Flask, client: FlaskClient) -> None:
    key = _key(app)
    response = client.get("/api/v1/analytics/outcomes?from=2026-12-07&to=2026-12-01", headers=key)
    assert response.status_code == 422 and "to" in response.json["fields"]
    response = client.get("/api/v1/analytics/outcomes?from=0001-01-06&to=0001-01-06", headers=key)
    assert response.status_code == 422 and {"from", "to"} <= set(response.json["fields"]), "no overflow, a message"
    response = client.get("/api/v1/analytics/outcomes?to=2026-12-01", headers=key)
    assert response.status_code == 422 and "from" in response.json["fields"]
    assert client.get("/api/v1/analytics/outcomes?from=2026-12-01&to=2026-12-02").status_code == 401


def test_starts_and_finishes_are_counted_per_channel_and_on_the_variants_quiz_version(
    app: Flask, client: FlaskClient
) -> None:
    privacy_link_after_quiz(app.test_client())  # a whole run on the site
    decide(app.test_client(), "necessary_only")  # a start on the site, never finished
    with app.app_context(), transaction():
        definition = quizzes.default_definition()
        second = quizzes.publish(merchants.get_by_slug("demo"), definition).version
    finished = client.post("/api/v1/m/demo/responses", json={"answers": full_answers()}, headers=grant(client))
    assert finished.status_code == 201
    report = _report(client, _key(app))
    site, api = report["by_channel"]["site"], report["by_channel"]["api"]
    assert (site["starts"], site["finishes"], api["starts"], api["finishes"]) == (2, 1, 1, 1)
    assert site["finishers_with_profile"] == 1 and api["finishers_with_profile"] == 0, "the API shopper kept none"
    assert (report["starts"], report["finishes"]) == (3, 2)
    versions = report["by_quiz_version"]
    assert (versions["1"]["starts"], versions["1"]["finishes"]) == (2, 1)
    assert (versions[str(second)]["starts"], versions[str(second)]["finishes"]) == (1, 1)
