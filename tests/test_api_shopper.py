"""The shopper API: consent gating, validation, recommendations, responses."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from quiz import merchants
from quiz.models import ConsentRecord, Profile
from quiz.platform.db import get_session, transaction

from .helpers import NEED, full_answers, grant


def count(app: Flask, model: Any) -> int:
    with app.app_context():
        return get_session().scalar(sa.select(sa.func.count()).select_from(model))


def test_quiz_definition_has_the_contract_shape(client: FlaskClient) -> None:
    quiz = client.get("/api/v1/m/demo/quiz").json
    assert [s["id"] for s in quiz["sections"]] == ["about", "intent", "preferences"]
    question = quiz["sections"][1]["questions"][1]
    assert {"id", "type", "label", "required", "options", "min", "max", "max_length", "show_if"} <= set(question)
    assert question["type"] == "text" and question["max_length"] == 500
    assert quiz["version"] == 1
    assert "signals" not in str(quiz), "internal matching signals must not leak to shoppers"


def test_unknown_merchant_is_404_json(client: FlaskClient) -> None:
    response = client.get("/api/v1/m/nope/quiz")
    assert response.status_code == 404
    assert set(response.json) == {"error", "fields"}


def test_recommendations_need_a_token(client: FlaskClient) -> None:
    response = client.post("/api/v1/m/demo/recommendations", json={"answers": full_answers()})
    assert response.status_code == 401
    assert "Bearer" in response.json["error"]
    forged = client.post(
        "/api/v1/m/demo/recommendations", json={"answers": {}}, headers={"Authorization": "Bearer forged.token"}
    )
    assert forged.status_code == 401


def test_recommendations_refused_without_recommendations_consent(client: FlaskClient) -> None:
    auth = grant(client, recommendations=False)
    response = client.post("/api/v1/m/demo/recommendations", json={"answers": full_answers()}, headers=auth)
    assert response.status_code == 403


def test_recommendations_match_the_need_with_reasons(client: FlaskClient) -> None:
    auth = grant(client)
    response = client.post("/api/v1/m/demo/recommendations", json={"answers": full_answers(), "limit": 8}, headers=auth)
    assert response.status_code == 200
    items = response.json["items"]
    assert len(items) == 8
    assert response.json["took_ms"] > 0
    assert all(i["title"] and i["reasons"] and i["url"] for i in items)
    top = items[:2]
    assert all("Outerwear" in i["category"] for i in top), [i["title"] for i in top]
    assert any("waterproof" in r or "hiking" in r for r in items[0]["reasons"])
    plain = client.post(
        "/api/v1/m/demo/recommendations",
        json={"answers": full_answers(), "limit": 8, "diverse": False},
        headers=auth,
    ).json["items"]
    assert plain == sorted(plain, key=lambda i: -i["score"]), "without diversity: by relevance alone"
    assert all("Outerwear" in i["category"] for i in plain[:3])


def test_budget_is_a_hard_filter_and_a_reason(client: FlaskClient) -> None:
    auth = grant(client)
    answers = full_answers(budget=[20, 60], looking_for="warm socks and a hat for winter")
    items = client.post("/api/v1/m/demo/recommendations", json={"answers": answers}, headers=auth).json["items"]
    assert items
    assert all(20 <= i["price"] <= 60 for i in items)
    assert all("within your 20-60 budget" in i["reasons"] for i in items)


def test_chosen_categories_restrict_results(client: FlaskClient) -> None:
    auth = grant(client)
    answers = full_answers(categories=["footwear"], looking_for="something for long walks")
    items = client.post("/api/v1/m/demo/recommendations", json={"answers": answers}, headers=auth).json["items"]
    assert items and all(i["category"].startswith("Footwear") for i in items)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"no_such_question": "x"}, "no_such_question", "Unknown question."),
        ({"age_band": "12-17"}, "age_band", "not one of the options"),
        ({"looking_for": "x" * 501}, "looking_for", "under 500 characters"),
        ({"looking_for": 42}, "looking_for", "Enter text."),
        ({"categories": "outerwear"}, "categories", "Pick one or more"),
        ({"budget": [500, 100]}, "budget", "lower end"),
        ({"budget": ["cheap", 100]}, "budget", "Enter a number."),
        ({"country": "XX"}, "country", "not one of the options"),
    ],
)
def test_bad_answers_get_422_with_field_messages(
    app: Flask, client: FlaskClient, change: dict[str, Any], field: str, message: str
) -> None:
    auth = grant(client, profile=True)
    records_before = count(app, ConsentRecord)
    for endpoint in ("recommendations", "responses"):
        response = client.post(f"/api/v1/m/demo/{endpoint}", json={"answers": full_answers(**change)}, headers=auth)
        assert response.status_code == 422, endpoint
        assert message in " ".join(response.json["fields"]["answers"][field])
    assert count(app, Profile) == 0
    assert count(app, ConsentRecord) == records_before


def test_missing_required_answer_is_422_only_on_final_submission(client: FlaskClient) -> None:
    auth = grant(client)
    partial = {"looking_for": NEED}
    assert client.post("/api/v1/m/demo/recommendations", json={"answers": partial}, headers=auth).status_code == 200
    response = client.post("/api/v1/m/demo/responses", json={"answers": partial}, headers=auth)
    assert response.status_code == 422
    assert response.json["fields"]["answers"]["age_band"] == ["This question needs an answer."]


def test_malformed_bodies_are_json_errors(client: FlaskClient) -> None:
    auth = grant(client)
    not_json = client.post("/api/v1/m/demo/recommendations", data="answers", headers=auth)
    assert not_json.status_code == 400 and "JSON" in not_json.json["error"]
    no_answers = client.post("/api/v1/m/demo/recommendations", json={"limit": 3}, headers=auth)
    assert no_answers.status_code == 422 and "answers" in no_answers.json["fields"]
    bad_limit = client.post("/api/v1/m/demo/recommendations", json={"answers": {}, "limit": 0}, headers=auth)
    assert bad_limit.status_code == 422 and "limit" in bad_limit.json["fields"]


def test_hidden_questions_are_neither_asked_nor_validated(client: FlaskClient) -> None:
    auth = grant(client, profile=True)
    # gift_for is shown only for gifts: a bad value is ignored, not stored, when intent is "myself".
    response = client.post(
        "/api/v1/m/demo/responses", json={"answers": full_answers(gift_for="nonsense")}, headers=auth
    )
    assert response.status_code == 201
    me = client.get("/api/v1/me", headers=auth).json
    assert "gift_for" not in me["profile"]["answers"]
    gift = full_answers(intent="gift", gift_for="nonsense")
    assert client.post("/api/v1/m/demo/responses", json={"answers": gift}, headers=auth).status_code == 422


def test_profile_stored_only_with_profile_consent(app: Flask, client: FlaskClient) -> None:
    without = grant(client, profile=False)
    response = client.post("/api/v1/m/demo/responses", json={"answers": full_answers()}, headers=without)
    assert response.status_code == 201
    assert response.json["profile_id"] is None and response.json["items"]
    assert count(app, Profile) == 0

    with_profile = grant(client, profile=True)
    response = client.post("/api/v1/m/demo/responses", json={"answers": full_answers()}, headers=with_profile)
    assert response.status_code == 201 and response.json["profile_id"]
    with app.app_context():
        profile = get_session().get(Profile, response.json["profile_id"])
        assert profile.answers["looking_for"] == NEED
        assert profile.first_name == "Ada"
        assert profile.preference_embedding is not None and len(profile.preference_embedding) == 384 * 4
        assert profile.quiz_version == 1


def test_email_kept_only_with_email_consent(app: Flask, client: FlaskClient) -> None:
    auth = grant(client, profile=True, email=False)
    body = {"answers": full_answers(), "email": "ada@example.org"}
    profile_id = client.post("/api/v1/m/demo/responses", json=body, headers=auth).json["profile_id"]
    with app.app_context():
        assert get_session().get(Profile, profile_id).email is None
    bad = client.post("/api/v1/m/demo/responses", json={**body, "email": "not-an-address"}, headers=auth)
    assert bad.status_code == 422 and "email" in bad.json["fields"]


def test_a_token_of_another_merchant_is_refused(app: Flask, client: FlaskClient) -> None:
    from .helpers import make_merchant

    make_merchant(app, "elsewhere")
    foreign = grant(client, "elsewhere")
    response = client.post("/api/v1/m/demo/recommendations", json={"answers": full_answers()}, headers=foreign)
    assert response.status_code == 403 and "another merchant" in response.json["error"]


@pytest.mark.parametrize("loose", ["yes", 1, "on", "true", None])
def test_consent_must_be_an_explicit_boolean(client: FlaskClient, loose: object) -> None:
    body = {"purposes": {"recommendations": True, "profile": loose}}
    response = client.post("/api/v1/m/demo/consents", json=body)
    assert response.status_code == 422 and "profile" in response.json["fields"]["purposes"]


def test_stale_explainer_version_is_refused(client: FlaskClient) -> None:
    body = {"purposes": {"recommendations": True}, "explainer_version": "2020-01.1"}
    response = client.post("/api/v1/m/demo/consents", json=body)
    assert response.status_code == 422 and "explainer_version" in response.json["fields"]


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"budget": [0, 10**400]}, "budget"),
        ({"looking_for": "\ud800 jacket"}, "looking_for"),
    ],
)
def test_hostile_answers_are_422_not_500(client: FlaskClient, answers: dict[str, Any], field: str) -> None:
    auth = grant(client)
    body = json.dumps({"answers": full_answers(**answers)}).encode()
    response = client.post(
        "/api/v1/m/demo/recommendations", data=body, headers={**auth, "Content-Type": "application/json"}
    )
    assert response.status_code == 422 and field in response.json["fields"]["answers"]


def test_deeply_nested_json_is_400(client: FlaskClient) -> None:
    auth = grant(client)
    body = "[" * 100_000 + "]" * 100_000
    response = client.post(
        "/api/v1/m/demo/recommendations", data=body, headers={**auth, "Content-Type": "application/json"}
    )
    assert response.status_code == 400 and response.json["error"]


def test_control_characters_never_reach_the_database(app: Flask, client: FlaskClient) -> None:
    auth = grant(client, profile=True)
    body = {"answers": full_answers(looking_for="rain\x07 jacket"), "first_name": "A\x1bda"}
    profile_id = client.post("/api/v1/m/demo/responses", json=body, headers=auth).json["profile_id"]
    with app.app_context():
        profile = get_session().get(Profile, profile_id)
        assert profile.first_name == "A da" and profile.answers["looking_for"] == "rain  jacket"


def test_an_address_question_the_consent_does_not_cover_is_neither_asked_nor_validated(client: FlaskClient) -> None:
    """A client that fills every text field (as design.md's contract check does) is answered like the site's
    shopper: without email or SMS consent the address questions are hidden, their answers dropped, not refused."""
    every_text = full_answers(email="lightweight waterproof jacket", phone="lightweight waterproof jacket " * 3)
    quiet = grant(client, "demo", profile=True)
    for path in ("recommendations", "responses"):
        answer = client.post(f"/api/v1/m/demo/{path}", json={"answers": every_text}, headers=quiet)
        assert answer.status_code in (200, 201), answer.json
    kept = client.get("/api/v1/me", headers=quiet).json["profile"]["answers"]
    assert kept["looking_for"] and not {"email", "phone"} & set(kept), "an unasked address is not kept"
    mailing = grant(client, "demo", profile=True, email=True, sms=True)
    refused = client.post("/api/v1/m/demo/recommendations", json={"answers": every_text}, headers=mailing)
    assert refused.status_code == 422 and set(refused.json["fields"]["answers"]) == {"email", "phone"}


def test_picture_choices_reach_api_clients_as_full_addresses(app: Flask, client: FlaskClient) -> None:
    from quiz import quizzes

    from .helpers import make_merchant

    make_merchant(app, "pictures")
    with app.app_context(), transaction():
        shop = merchants.get_by_slug("pictures")
        definition = quizzes.default_definition()
        options = definition["sections"][1]["questions"][0]["options"]
        options[0]["image"] = "/static/demo/tent.png"
        options[1]["image"] = "https://cdn.example/boots.png"
        quizzes.publish(shop, definition, origin="merchant")
    question = client.get("/api/v1/m/pictures/quiz", base_url="https://quiz.example").json["sections"][1]["questions"][
        0
    ]
    images = [option["image"] for option in question["options"]]
    base = (app.config["PUBLIC_URL"] or "https://quiz.example").rstrip("/")  # the instance's address when set
    assert images[:2] == [f"{base}/static/demo/tent.png", "https://cdn.example/boots.png"]
    assert set(images[2:]) == {""}, "an option without a picture says so"
