"""Returning shoppers: answers filled in, "what changed?" first, and intent shifts followed at once."""

from __future__ import annotations

import re

import numpy as np
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from quiz.models import IntentShift, Profile
from quiz.platform.db import get_session

from .conftest import csrf_token
from .helpers import full_answers, grant
from .test_shopper_pages import privacy_link_after_quiz


def stored_vector(app: Flask, profile_id: str) -> np.ndarray:
    with app.app_context():
        return np.frombuffer(get_session().get(Profile, profile_id).preference_embedding, dtype=np.float32)


def test_a_returning_shopper_starts_at_what_changed_with_answers_filled_in(client: FlaskClient) -> None:
    link = privacy_link_after_quiz(client)
    with client.session_transaction() as cookie:
        cookie.clear()  # a later visit, another day
    # A browser that is not (or no longer) the subject confirms first, with its own consent (issue 14).
    confirm = client.get(link + "/again").get_data(as_text=True)
    assert "Continue a saved quiz?" in confirm
    version = re.search(r'name="explainer_version" type="hidden" value="([^"]+)"', confirm).group(1)
    data = {"csrf_token": csrf_token(confirm), "explainer_version": version, "accept_all": "1"}
    again = client.post(link + "/again", data=data)
    assert again.status_code == 302 and again.headers["Location"].endswith("/m/demo/quiz/intent")
    page = client.get("/m/demo/quiz/intent").get_data(as_text=True)
    assert "Welcome back" in page and "lightweight waterproof jacket for hiking" in page


def test_a_similar_new_need_blends_and_a_turned_around_one_is_a_shift(app: Flask, client: FlaskClient) -> None:
    auth = grant(client, profile=True)

    def respond(need: str) -> str:
        body = {"answers": full_answers(styles=[], looking_for=need)}
        return client.post("/api/v1/m/demo/responses", json=body, headers=auth).json["profile_id"]

    profile_id = respond("lightweight waterproof jacket for hiking")
    first = stored_vector(app, profile_id)
    respond("a rain shell for trekking in the mountains")
    blended = stored_vector(app, profile_id)
    assert 0.35 < float(first @ blended) < 0.9999, "a similar need moves the profile, no shift"
    with app.app_context():
        assert get_session().scalar(sa.select(sa.func.count()).select_from(IntentShift)) == 0

    respond("a baby carrier and soft blankets for our newborn")
    shifted = stored_vector(app, profile_id)
    me = client.get("/api/v1/me", headers=auth).json
    [shift] = me["profile"]["intent_shifts"]
    assert shift["similarity"] < 0.35
    assert float(blended @ shifted) < 0.35, "after a shift the new answers replace the old at once"
    items = client.post(
        "/api/v1/m/demo/recommendations",
        json={"answers": full_answers(styles=[], looking_for="a baby carrier and soft blankets for our newborn")},
        headers=auth,
    ).json["items"]
    assert items, "recommendations follow the new need"


def test_the_merchant_sees_the_shift(app: Flask, client: FlaskClient) -> None:
    from quiz import merchants
    from quiz.merchants import api_keys
    from quiz.platform.db import transaction

    auth = grant(client, profile=True)
    for need in ("a warm down jacket for winter", "yoga mat and blocks for home practice"):
        body = {"answers": full_answers(styles=[], looking_for=need)}
        profile_id = client.post("/api/v1/m/demo/responses", json=body, headers=auth).json["profile_id"]
    with app.app_context(), transaction():
        _, key = api_keys.issue(merchants.get_by_slug("demo"))
    detail = client.get(f"/api/v1/profiles/{profile_id}", headers={"Authorization": "Bearer " + key}).json
    assert len(detail["intent_shifts"]) == 1 and re.match(r"\d{4}-", detail["intent_shifts"][0]["at"])
