"""A/B tests: validation, sticky assignment, the variant's quiz and ranking, results per variant, the winner."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from quiz import merchants, quizzes
from quiz.merchants import api_keys
from quiz.models import Exposure, ShopperEvent, utcnow
from quiz.outcomes import experiments
from quiz.platform.db import get_session, transaction

from .helpers import bearer, full_answers, grant


def _key(app: Flask) -> dict[str, str]:
    with app.app_context(), transaction():
        _, key = api_keys.issue(merchants.get_by_slug("demo"))
    return bearer(key)


def _second_version(app: Flask) -> int:
    with app.app_context(), transaction():
        definition = quizzes.default_definition()
        definition["title"] = "Quiz B"
        return quizzes.publish(merchants.get_by_slug("demo"), definition).version


def _variants(*arms: tuple[str, int | None, float], **settings: Any) -> list[dict[str, Any]]:
    return [{"name": n, "quiz_version": v, "weight": w, **settings} for n, v, w in arms]


def _create(client: FlaskClient, key: dict[str, str], **body: Any) -> Any:
    payload = {"name": "Title test", "metric": "conversion", **body}
    return client.post("/api/v1/experiments", json=payload, headers=key)


def test_an_experiment_that_cannot_run_is_refused_with_field_messages(app: Flask, client: FlaskClient) -> None:
    key = _key(app)
    one = _create(client, key, variants=_variants(("A", 1, 1)))
    assert one.status_code == 422 and "variants" in one.json["fields"]
    weightless = _create(client, key, variants=_variants(("A", 1, 1), ("B", 1, 0)))
    assert weightless.status_code == 422 and "weight" in weightless.json["fields"]["variants"]["1"]
    unknown = _create(client, key, variants=_variants(("A", 1, 1), ("B", 99, 1)))
    assert unknown.status_code == 422
    assert unknown.json["fields"] == {"variants": {"1": {"quiz_version": ["This shop has no quiz version 99."]}}}
    twins = _create(client, key, variants=_variants(("A", 1, 1), ("A", 1, 1)))
    assert twins.status_code == 422 and twins.json["fields"]["variants"] == ["Each variant needs its own name."]
    metric = _create(client, key, metric="clicks", variants=_variants(("A", 1, 1), ("B", 1, 1)))
    assert metric.status_code == 422 and "metric" in metric.json["fields"]
    assert client.get("/api/v1/experiments", headers=key).json["items"] == []


def test_shoppers_get_their_sticky_variant_and_the_winner_is_published(app: Flask, client: FlaskClient) -> None:
    key = _key(app)
    second = _second_version(app)
    created = _create(client, key, variants=_variants(("A", 1, 1), ("B", second, 1)))
    assert created.status_code == 201 and created.json["status"] == "draft"
    exp_id = created.json["id"]
    assert client.post(f"/api/v1/experiments/{exp_id}/start", headers=key).json["status"] == "running"
    rival = _create(client, key, variants=_variants(("A", 1, 1), ("B", second, 1)))
    refused = client.post(f"/api/v1/experiments/{rival.json['id']}/start", headers=key)
    assert refused.status_code == 409 and refused.json["error"] == "Another experiment is running."

    got: dict[str, str] = {}
    for n in range(16):
        auth = grant(client, profile=True)
        for _ in range(2):  # a return visit: the same variant, one exposure
            done = client.post("/api/v1/m/demo/responses", json={"answers": full_answers()}, headers=auth)
            assert done.status_code == 201
        profile_id = done.json["profile_id"]
        with app.app_context():
            versions = set(
                get_session().scalars(sa.select(ShopperEvent.quiz_version).where(ShopperEvent.profile_id == profile_id))
            )
            subject = get_session().scalar(
                sa.select(Exposure.subject_id)
                .where(Exposure.experiment_id == exp_id)
                .order_by(Exposure.id.desc())
                .limit(1)
            )
        arm = "B" if versions == {second} else "A"
        assert versions == ({second} if arm == "B" else {1}), "the shopper got the assigned variant's quiz"
        assert arm == experiments.pick(exp_id, subject, created.json["variants"])["name"]
        got[profile_id] = arm
        if arm == "B":  # B's shoppers buy
            order = {
                "order_id": f"O-{n}",
                "placed_at": utcnow().isoformat(),
                "currency": "USD",
                "total": 40.0,
                "items": [{"product_id": "TS-0001", "quantity": 1, "price": 40.0}],
                "profile_id": profile_id,
            }
            assert client.post("/api/v1/orders", json=order, headers=key).status_code == 200
    assert set(got.values()) == {"A", "B"}, "16 shoppers split over two even arms"

    result = client.get(f"/api/v1/experiments/{exp_id}", headers=key).json
    a, b = result["variants"]
    in_b = sum(arm == "B" for arm in got.values())
    assert (a["exposures"], b["exposures"]) == (16 - in_b, in_b)
    assert (a["completions"], b["completions"]) == (16 - in_b, in_b)
    assert (a["conversions"], b["conversions"]) == (0, in_b)
    assert b["rate"]["value"] == 1.0 and b["rate"]["low"] < 1.0 and a["rate"]["value"] == 0.0
    assert b["revenue"] == 40.0 * in_b and a["p_value"] is None and isinstance(b["significant"], bool)
    listed = client.get("/api/v1/experiments", headers=key).json["items"]
    assert [e["id"] for e in listed].count(exp_id) == 1

    unknown = client.post(f"/api/v1/experiments/{exp_id}/winner", json={"variant": "C"}, headers=key)
    assert unknown.status_code == 422 and "variant" in unknown.json["fields"]
    with app.app_context(), transaction():  # the merchant edited the quiz meanwhile: version 3 is live
        edited = quizzes.default_definition()
        edited["title"] = "Edited"
        quizzes.publish(merchants.get_by_slug("demo"), edited)
    won = client.post(f"/api/v1/experiments/{exp_id}/winner", json={"variant": "B"}, headers=key)
    assert won.status_code == 200 and won.json["status"] == "stopped" and won.json["winner"] == "B"
    assert won.json["published_version"] == second + 2
    assert client.get("/api/v1/m/demo/quiz").json["title"] == "Quiz B"
    assert client.post(f"/api/v1/experiments/{exp_id}/stop", headers=key).status_code == 409
    with app.app_context():  # stopped: new shoppers are not assigned
        assert experiments.variant_for(merchants.get_by_slug("demo"), "someone", expose=True) == experiments.LIVE


def test_a_variant_without_diversity_ranks_as_diversity_off(app: Flask, client: FlaskClient) -> None:
    key = _key(app)
    arms = [{"name": "plain", "weight": 1000, "settings": {"diversity": False}}, {"name": "varied", "weight": 0.001}]
    exp_id = _create(client, key, variants=arms).json["id"]
    auth = grant(client)
    url = "/api/v1/m/demo/recommendations"

    def ids(diverse: bool) -> list[str]:
        body = {"answers": {"looking_for": "warm jacket for hiking"}, "diverse": diverse, "limit": 12}
        return [item["id"] for item in client.post(url, json=body, headers=auth).json["items"]]

    varied, plain = ids(True), ids(False)
    assert varied != plain, "the demo's ranking changes with diversity (else this test proves nothing)"
    client.post(f"/api/v1/experiments/{exp_id}/start", headers=key)
    assert ids(True) == plain, "the assigned arm turns diversity off"
    assert client.get(f"/api/v1/experiments/{exp_id}", headers=key).json["variants"][0]["exposures"] == 1


def test_the_quiz_pages_show_the_variant_and_finishing_completes_the_exposure(app: Flask, client: FlaskClient) -> None:
    from .test_shopper_pages import ABOUT, INTENT, PREFERENCES, answer, decide

    with app.app_context(), transaction():
        definition = quizzes.default_definition()
        definition["sections"][0]["title"] = {"en": "Variant step one", "es": "Paso uno"}
        variant_version = quizzes.publish(merchants.get_by_slug("demo"), definition).version
        live = quizzes.default_definition()  # the merchant's live quiz stays the plain one
        live_version = quizzes.publish(merchants.get_by_slug("demo"), live).version
    key = _key(app)
    arms = _variants(("variant", variant_version, 1000), ("live", live_version, 0.001))
    exp_id = _create(client, key, metric="completion", variants=arms).json["id"]
    assert "Variant step one" not in client.get("/m/demo/quiz/about").get_data(as_text=True)
    client.post(f"/api/v1/experiments/{exp_id}/start", headers=key)

    decide(client, "accept_all")
    for _ in range(2):  # every page, and coming back to it, shows the same variant
        assert "Variant step one" in client.get("/m/demo/quiz/about").get_data(as_text=True)
    answer(client, "about", ABOUT)
    answer(client, "intent", INTENT)
    assert answer(client, "preferences", PREFERENCES).headers["Location"].endswith("/m/demo/results")
    assert client.get("/m/demo/results").status_code == 200
    figures = client.get(f"/api/v1/experiments/{exp_id}", headers=key).json["variants"][0]
    assert (figures["exposures"], figures["completions"], figures["rate"]["value"]) == (1, 1, 1.0)
