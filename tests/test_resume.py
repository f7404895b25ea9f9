"""Finish later: a saved quiz resumes from a link on any browser, and is deleted when done with."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from quiz.models import QuizSession
from quiz.platform.db import get_session

from .conftest import csrf_token
from .test_shopper_pages import ABOUT, INTENT, PREFERENCES, answer, decide


def save_for_later(client: FlaskClient) -> str:
    decide(client, "necessary_only")
    answer(client, "about", ABOUT)
    page = client.get("/m/demo/quiz/intent").get_data(as_text=True)
    saved = client.post("/m/demo/quiz/intent", data={"csrf_token": csrf_token(page), "later": "1", **INTENT})
    assert saved.status_code == 200
    text = saved.get_data(as_text=True)
    assert "Your answers are saved" in text
    return re.search(r'value="http://localhost(/m/demo/resume/[^"]+)"', text).group(1)


def saved_rows(app: Flask) -> int:
    with app.app_context():
        return get_session().scalar(sa.select(sa.func.count()).select_from(QuizSession))


def test_a_saved_quiz_resumes_on_another_browser_where_it_stopped(app: Flask, client: FlaskClient) -> None:
    link = save_for_later(client)
    other = app.test_client()  # no cookie from the first browser
    # Another browser confirms first, with its own consent decision (issue 14: a GET binds nothing).
    page = other.get(link).get_data(as_text=True)
    assert "Continue a saved quiz?" in page
    version = re.search(r'name="explainer_version" type="hidden" value="([^"]+)"', page).group(1)
    data = {"csrf_token": csrf_token(page), "explainer_version": version, "necessary_only": "1"}
    resumed = other.post(link, data=data)
    assert resumed.status_code == 302 and resumed.headers["Location"].endswith("/m/demo/quiz/preferences")
    back = other.get("/m/demo/quiz/intent").get_data(as_text=True)
    assert "lightweight waterproof jacket for hiking" in back, "earlier answers are filled in"
    assert saved_rows(app) == 1
    finished = answer(other, "preferences", PREFERENCES)
    assert finished.headers["Location"].endswith("/m/demo/results")
    assert saved_rows(app) == 0, "finishing deletes the saved answers"
    assert app.test_client().get(link).headers["Location"].endswith("/m/demo/"), "a used link leads to the start"


def test_forged_links_and_erasure(app: Flask, client: FlaskClient) -> None:
    assert client.get("/m/demo/resume/forged").headers["Location"].endswith("/m/demo/")
    link = save_for_later(client)
    results_token = None
    with client.session_transaction() as cookie:
        results_token = cookie["attune.quiz"]["demo"]["token"]
    me = client.get("/api/v1/me", headers={"Authorization": "Bearer " + results_token}).json
    assert me["saved_quiz"]["looking_for"] == "lightweight waterproof jacket for hiking"
    client.delete("/api/v1/me", headers={"Authorization": "Bearer " + results_token})
    assert saved_rows(app) == 0
    assert app.test_client().get(link).headers["Location"].endswith("/m/demo/")


def test_finishing_through_the_api_also_deletes_the_saved_quiz(app: Flask, client: FlaskClient) -> None:
    from .helpers import full_answers

    save_for_later(client)
    with client.session_transaction() as cookie:
        token = cookie["attune.quiz"]["demo"]["token"]
    response = client.post(
        "/api/v1/m/demo/responses", json={"answers": full_answers()}, headers={"Authorization": "Bearer " + token}
    )
    assert response.status_code == 201 and saved_rows(app) == 0
