"""Overload is answered, not queued: past ADMISSION_WAIT_SECONDS a request gets 503 busy with Retry-After.

Real parts: the app's own database pool is really exhausted (every connection held by the test)
and the real encoder is really busy with a long batch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask import Flask

from quiz.catalog.engine import get_embedder
from quiz.platform.db import get_engine

from .helpers import grant
from .test_shopper_pages import ABOUT, INTENT, PREFERENCES, answer, decide

BUSY_EN = "We are busy right now. Your answers so far are kept: try again in a moment."
BUSY_ES = "Tus respuestas hasta aquí se conservan"


@contextmanager
def every_connection_taken(app: Flask) -> Iterator[None]:
    """Hold every connection of the app's pool until the block ends (checkout then times out)."""
    held = []
    with app.app_context():
        engine = get_engine()
    try:
        while True:
            try:
                held.append(engine.connect())
            except sa.exc.TimeoutError:
                break
        yield
    finally:
        for connection in held:
            connection.close()


def test_a_shopper_past_the_database_bound_is_told_busy_and_keeps_their_answers(
    app: Flask, new_app: Callable[..., Flask]
) -> None:
    bounded = new_app(ADMISSION_WAIT_SECONDS=0.3)
    client = bounded.test_client()
    decide(client, "accept_all")
    answer(client, "about", ABOUT)
    answer(client, "intent", INTENT)
    assert answer(client, "preferences", PREFERENCES).headers["Location"].endswith("/m/demo/results")
    with every_connection_taken(bounded):
        busy = client.get("/m/demo/results")
        busy_es = client.get("/m/demo/results?lang=es")
    assert busy.status_code == 503 and int(busy.headers["Retry-After"]) >= 1
    page = busy.get_data(as_text=True)
    assert BUSY_EN in page and 'href="http://localhost/m/demo/results"' in page
    assert busy_es.status_code == 503 and BUSY_ES in busy_es.get_data(as_text=True)
    results = client.get("/m/demo/results")
    assert results.status_code == 200, "once it is quiet again, the same answers give their results"
    assert results.get_data(as_text=True).count('class="card"') == 12


@contextmanager
def encoder_busy(app: Flask) -> Iterator[None]:
    """Keep the app's one encoder thread busy with a long batch while the block runs."""
    with app.app_context():
        embedder = get_embedder()
    embedder.encode(["warm up"])
    # A long batch keeps the one encoder thread busy for a good while (64 texts of ~250 words).
    long_texts = [f"text {i}: " + "a sturdy waterproof jacket for long winter hikes " * 30 for i in range(64)]
    worker = threading.Thread(target=embedder.encode, args=(long_texts,))
    worker.start()
    while embedder.expected_wait_s() == 0 and worker.is_alive():
        threading.Event().wait(0.001)
    try:
        yield
    finally:
        worker.join(120)


def test_the_api_answers_busy_when_the_encoder_queue_is_past_the_bound(
    app: Flask, new_app: Callable[..., Flask]
) -> None:
    bounded = new_app(ADMISSION_WAIT_SECONDS=0.001, ENCODER_MAX_BATCH=64)
    client = bounded.test_client()
    auth = grant(client)
    with encoder_busy(bounded):
        response = client.post(
            "/api/v1/m/demo/recommendations", json={"answers": {"looking_for": "a warm coat"}}, headers=auth
        )
    assert response.status_code == 503, response.json
    assert int(response.headers["Retry-After"]) >= 1
    assert "busy" in response.json["error"] and "nothing was lost" in response.json["error"]
    again = client.post(
        "/api/v1/m/demo/recommendations", json={"answers": {"looking_for": "a warm coat"}}, headers=auth
    )
    assert again.status_code == 200 and again.json["items"], "served once the encoder is free"


@pytest.mark.parametrize("path", ["recommendations", "responses"])
def test_a_refusal_under_overload_reads_nothing_from_the_database(
    app: Flask, new_app: Callable[..., Flask], path: str
) -> None:
    bounded = new_app(ADMISSION_WAIT_SECONDS=0.001, ENCODER_MAX_BATCH=64)
    client = bounded.test_client()
    auth = grant(client, profile=True)
    statements: list[str] = []
    with bounded.app_context():
        engine = get_engine()

    def note(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    body = {"answers": {"looking_for": "a warm coat"}}
    with encoder_busy(bounded):
        sa.event.listen(engine, "before_cursor_execute", note)
        try:
            response = client.post(f"/api/v1/m/demo/{path}", json=body, headers=auth)
        finally:
            sa.event.remove(engine, "before_cursor_execute", note)
    assert response.status_code == 503, response.json
    assert statements == [], "refused before reading the token's consent, the merchant or the quiz"
