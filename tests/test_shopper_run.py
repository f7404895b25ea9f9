"""One shopper run: the last answer is cleaned and embedded once, whichever channel finishes it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from quiz.catalog.engine import get_embedder
from quiz.models import Profile
from quiz.platform.db import get_session

from . import test_widget
from .conftest import csrf_token
from .helpers import NEED, full_answers, grant
from .test_shopper_pages import ABOUT, INTENT, PREFERENCES, answer, decide
from .test_widget import consent, events, fetch, start, state

allow = test_widget.allow  # the widget tests' fixtures: the partner site allowed, a client without cookies
framed = test_widget.framed
TITLES = re.compile(r'<h2><a href="[^"]*" rel="noopener">([^<]+)</a></h2>')


@pytest.fixture
def need_encodings(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Sequence[str]]]:
    """Count the app's real embedder's model runs that carry the shopper's free text (``NEED``).

    The wrapper calls the real model and hands its vectors back: only the count is added.
    """
    with app.app_context():
        embedder = get_embedder()
    real: Callable[..., np.ndarray] = embedder.encode
    calls: list[Sequence[str]] = []

    def counting(texts: Sequence[str], *args: Any, **kwargs: Any) -> np.ndarray:
        if any(NEED in text for text in texts):
            calls.append(list(texts))
        return real(texts, *args, **kwargs)

    monkeypatch.setattr(embedder, "encode", counting)
    yield calls


def test_the_pages_embed_the_answers_once_per_finish(
    app: Flask, client: FlaskClient, need_encodings: list[Sequence[str]]
) -> None:
    decide(client, "accept_all")
    answer(client, "about", ABOUT)
    answer(client, "intent", INTENT)
    assert need_encodings == [], "no search runs before the quiz is finished"
    finished = answer(client, "preferences", PREFERENCES)
    assert finished.headers["Location"].endswith("/m/demo/results")
    first = TITLES.findall(client.get("/m/demo/results").get_data(as_text=True))
    assert len(first) == 12
    assert len(need_encodings) == 1, f"the answers were embedded {len(need_encodings)} times: {need_encodings}"
    cookie = client.get_cookie("session")
    assert cookie is not None and len(cookie.value) < 4000, "browsers drop cookies over 4 KB"
    with app.app_context():
        profile = get_session().scalars(sa.select(Profile)).one()
    assert profile.preference_embedding is not None, "the profile keeps the vector the results came from"
    again = TITLES.findall(client.get("/m/demo/results").get_data(as_text=True))
    assert again == first and len(need_encodings) == 1, "reloading the results shows the same picks"
    different = TITLES.findall(client.get("/m/demo/results?different=1").get_data(as_text=True))
    assert len(different) == 12 and not set(different) & set(first)
    assert len(need_encodings) == 2, "something different is a new search"


def test_the_results_page_words_the_finished_picks_in_the_language_asked(client: FlaskClient) -> None:
    decide(client, "necessary_only")
    answer(client, "about", ABOUT)
    answer(client, "intent", INTENT)
    answer(client, "preferences", PREFERENCES)
    english = client.get("/m/demo/results").get_data(as_text=True)
    spanish = client.get("/m/demo/results?lang=es").get_data(as_text=True)
    assert "matches: " in english and "coincide: " in spanish and "matches: " not in spanish
    assert TITLES.findall(english) == TITLES.findall(spanish)


def test_changing_an_answer_after_finishing_searches_again(client: FlaskClient) -> None:
    decide(client, "necessary_only")
    answer(client, "about", ABOUT)
    answer(client, "intent", INTENT)
    answer(client, "preferences", PREFERENCES)
    first = TITLES.findall(client.get("/m/demo/results").get_data(as_text=True))
    narrow = {**PREFERENCES, "categories": ["outerwear"], "budget-low": "0", "budget-high": "30"}
    answer(client, "preferences", narrow)
    results = client.get("/m/demo/results").get_data(as_text=True)
    assert TITLES.findall(results) != first and "a little over your budget" in results


def test_the_api_embeds_a_finished_quiz_once(client: FlaskClient, need_encodings: list[Sequence[str]]) -> None:
    headers = grant(client, profile=True)
    response = client.post("/api/v1/m/demo/responses", json={"answers": full_answers()}, headers=headers)
    assert response.status_code == 201, response.json
    assert response.json["profile_id"] and len(response.json["items"]) == 12
    assert len(need_encodings) == 1


def test_the_widget_embeds_once_and_its_results_address_stays_short(
    app: Flask, framed: FlaskClient, allow: Any, need_encodings: list[Sequence[str]]
) -> None:
    page = start(framed)
    page = fetch(framed, consent(framed, page).headers["Location"]).get_data(as_text=True)
    for section, answers in (("about", ABOUT), ("intent", INTENT), ("preferences", PREFERENCES)):
        data = {"csrf_token": csrf_token(page), "state": state(page), **answers}
        response = fetch(framed, f"/w/demo/quiz/{section}", data)
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        location = response.headers["Location"]
        page = fetch(framed, location).get_data(as_text=True)
    assert location.startswith("/w/demo/results?")
    # gunicorn refuses request lines over 4094 bytes: the finished picks ride in the address
    assert len(location) < 3000, len(location)
    (completed,) = events(page)
    assert completed["type"] == "completed" and len(completed["data"]["items"]) == 12
    assert len(need_encodings) == 1
