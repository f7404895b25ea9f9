"""NUL characters (U+0000) are refused at the door, the same on SQLite and PostgreSQL.

PostgreSQL cannot store NUL in a text column; without the guard (quiz/platform/nul_guard.py) these
requests were stored on SQLite and ended in a 500 on PostgreSQL.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from quiz.models import Profile, Segment, Webhook
from quiz.platform.db import get_session

from .conftest import csrf_token
from .helpers import bearer, full_answers, grant, make_merchant

MESSAGE = "Text must not contain the NUL character (U+0000)."
CONSENT_RULES = [{"kind": "consent", "purpose": "email"}]


def _count(app: Flask, model: type) -> int:
    with app.app_context():
        return int(get_session().scalar(sa.select(sa.func.count()).select_from(model)) or 0)


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("post", "/api/v1/segments", {"name": "VIP\x00", "rules": CONSENT_RULES}, "name"),
        (
            "post",
            "/api/v1/segments/count",
            {"rules": [{"kind": "answer", "question": "q\x00", "values": []}]},
            "rules.0.question",
        ),
        ("post", "/api/v1/webhooks", {"url": "https://hooks.example\x00.com/in"}, "url"),
        ("put", "/api/v1/widget/origins", {"origins": ["https://a.example", "https://b\x00.example"]}, "origins.1"),
        ("post", "/api/v1/segments", {"name": "VIP", "rules": CONSENT_RULES, "odd\x00key": 1}, "odd\\u0000key"),
    ],
)
def test_a_merchant_json_body_with_nul_is_refused_with_its_fields(
    app: Flask, client: FlaskClient, method: str, path: str, body: dict[str, object], field: str
) -> None:
    shop = make_merchant(app, "nul-shop")
    before = (_count(app, Segment), _count(app, Webhook))
    response = getattr(client, method)(path, json=body, headers=bearer(shop.api_key))
    assert response.status_code == 400
    assert response.json["fields"] == {field: [MESSAGE]}
    assert (_count(app, Segment), _count(app, Webhook)) == before, "nothing is stored"


def test_a_quiz_definition_with_nul_is_refused_and_the_live_quiz_kept(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "nul-quiz")
    live = client.get("/api/v1/quiz", headers=bearer(shop.api_key)).json
    broken = json.loads(json.dumps(live["definition"]))
    broken["sections"][0]["questions"][0]["id"] = "who\x00"
    response = client.put("/api/v1/quiz", json={"definition": broken}, headers=bearer(shop.api_key))
    assert response.status_code == 400 and list(response.json["fields"]) == ["definition.sections.0.questions.0.id"]
    assert client.get("/api/v1/quiz", headers=bearer(shop.api_key)).json == live


def test_nul_in_a_query_parameter_or_a_path_names_nothing(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "nul-query")
    search = client.get("/api/v1/catalog/products?q=tent%00", headers=bearer(shop.api_key))
    assert search.status_code == 400 and search.json["fields"] == {"q": [MESSAGE]}
    for path in ("/api/v1/segments/ab%00cd", "/api/v1/m/de%00mo/quiz", "/m/de%00mo/"):
        response = client.get(path, headers=bearer(shop.api_key))
        assert response.status_code == 404, path


def test_a_shopper_answer_with_nul_is_refused_and_no_profile_stored(app: Flask, client: FlaskClient) -> None:
    auth = grant(client, profile=True)
    body = {"answers": full_answers(looking_for="a tent\x00"), "first_name": "Ada"}
    response = client.post("/api/v1/m/demo/responses", json=body, headers=auth)
    assert response.status_code == 400 and response.json["fields"] == {"answers.looking_for": [MESSAGE]}
    assert _count(app, Profile) == 0


def test_a_form_with_nul_gets_the_bad_request_page(app: Flask, client: FlaskClient) -> None:
    page = client.get("/admin/login").get_data(as_text=True)
    form = {"csrf_token": csrf_token(page), "email": "ada\x00@example.com", "password": "correct horse battery"}
    response = client.post("/admin/login", data=form)
    assert response.status_code == 400 and "text/html" in response.content_type
    assert "Traceback" not in response.get_data(as_text=True)
