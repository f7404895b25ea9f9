"""Probes: /healthz says the process lives, /readyz whether it can serve shoppers now."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from recommender import embedder
from recommender.embedder import default_model_path

from .helpers import grant


def wait_ready(client: FlaskClient, timeout_s: float = 120) -> dict[str, object]:
    """Poll /readyz until it answers 200; return its body."""
    deadline = time.monotonic() + timeout_s
    while True:
        response = client.get("/readyz")
        if response.status_code == 200:
            return dict(response.json)
        assert response.status_code == 503 and response.headers["Retry-After"]
        assert time.monotonic() < deadline, response.json
        time.sleep(0.2)


def test_healthz_says_alive(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json["status"] == "ok"


def test_readyz_is_ready_with_database_model_and_indexes(client: FlaskClient) -> None:
    body = wait_ready(client)
    assert body["status"] == "ready"
    checks = body["checks"]
    assert isinstance(checks, dict)
    assert checks["database"] == {"status": "ok"} and checks["model"] == {"status": "ok"}
    assert checks["indexes"]["status"] == "ok" and checks["indexes"]["loadable"] >= 1, "the demo's index is on disk"
    answer = client.post(
        "/api/v1/m/demo/recommendations", json={"answers": {"looking_for": "a tent"}}, headers=grant(client)
    )
    assert answer.status_code == 200
    assert client.get("/readyz").json["checks"]["indexes"]["loaded"] >= 1


def test_readyz_is_unavailable_with_a_reason_when_the_database_is_unreachable(
    new_app: Callable[..., Flask], tmp_path: Path
) -> None:
    # Nothing listens on port 1: the connection is refused, as with a stopped server.
    app = new_app(
        database_url="postgresql+psycopg://postgres@127.0.0.1:1/attune?connect_timeout=2", instance_path=tmp_path
    )
    started = time.monotonic()
    response = app.test_client().get("/readyz")
    assert time.monotonic() - started < 5
    assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
    assert response.json["status"] == "unavailable"
    database = response.json["checks"]["database"]
    assert database["status"] == "failed" and "unreachable" in database["reason"]
    assert "postgres@" not in response.get_data(as_text=True), "no connection details in a public probe"


def test_a_fresh_process_reports_loading_until_its_model_is_loaded(
    new_app: Callable[..., Flask], demo_loaded: None, tmp_path: Path
) -> None:
    # Another path to the same model is a model this process has not loaded yet: a cold start.
    cold = tmp_path / "model"
    cold.symlink_to(default_model_path(), target_is_directory=True)
    client = new_app(EMBEDDING_MODEL=str(cold)).test_client()
    try:
        # From the page cache the model loads in a fraction of a second; holding the loader's lock
        # makes the load take as long as a cold one does, so the probe is seen while it runs.
        with embedder._MODELS_LOCK:
            started = time.monotonic()
            first = client.get("/readyz")
            assert time.monotonic() - started < 2, "the probe must not wait for the model"
        assert first.status_code == 503 and first.headers["Retry-After"]
        assert first.json["checks"]["model"]["status"] == "loading"
        assert first.json["checks"]["database"]["status"] == "ok"
        assert wait_ready(client)["checks"]["model"] == {"status": "ok"}  # type: ignore[index]
    finally:
        # Leave the process with the one model every other test shares.
        with embedder._MODELS_LOCK:
            embedder._MODELS.pop(str(cold), None)


def test_readyz_reports_a_model_that_cannot_load(
    new_app: Callable[..., Flask], demo_loaded: None, tmp_path: Path
) -> None:
    empty = tmp_path / "no-model"
    empty.mkdir()
    client = new_app(EMBEDDING_MODEL=str(empty)).test_client()
    deadline = time.monotonic() + 60
    while (model := client.get("/readyz").json["checks"]["model"])["status"] == "loading":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert model["status"] == "failed" and model["reason"]
    assert client.get("/readyz").status_code == 503
