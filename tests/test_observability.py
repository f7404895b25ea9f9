"""Request ids, JSON log lines without personal data, and the Prometheus metrics."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from quiz.platform import logs

from .conftest import csrf_token
from .helpers import bearer, grant, make_merchant, upload, wait_for_import

ROOT = Path(__file__).resolve().parents[1]
EMAIL = "ada.lovelace@example.com"
PASSWORD = "hunter2-correct-horse"


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Collect the JSON lines the app's loggers write while the test runs."""
    stream = io.StringIO()
    handler = logs.make_handler("json", stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def parsed(stream: io.StringIO) -> list[dict[str, object]]:
    """Return every line written so far as a JSON object (each line must be one)."""
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def samples(client: FlaskClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Return every sample of /metrics by name and labels."""
    response = client.get("/metrics")
    assert response.status_code == 200
    found = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = float(sample.value)
    return found


def value(found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    """Return one sample's value (0 when absent)."""
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


# -- request ids ------------------------------------------------------------------------------


def test_each_response_carries_a_request_id_kept_from_a_sane_header(client: FlaskClient) -> None:
    made = client.get("/healthz").headers["X-Request-ID"]
    assert len(made) == 32 and made != client.get("/healthz").headers["X-Request-ID"]
    assert client.get("/healthz", headers={"X-Request-ID": "lb-1234abcd"}).headers["X-Request-ID"] == "lb-1234abcd"
    for forged in ("short", "x" * 129, "abc def ghi jkl", 'id"} {"level": "ERROR"', "caf\u00e9-1234567"):
        echoed = client.get("/healthz", headers={"X-Request-ID": forged}).headers["X-Request-ID"]
        assert echoed != forged and len(echoed) == 32


def test_log_lines_are_json_with_the_request_id_and_no_personal_data(
    app: Flask, client: FlaskClient, log_lines: io.StringIO
) -> None:
    @app.get("/test-log")
    def noisy() -> str:
        logging.getLogger("quiz.test").warning("mail to %s failed, header Bearer abc.def.ghi", EMAIL)
        return "ok"

    noisy_id = client.get("/test-log", headers={"X-Request-ID": "probe-0001"}).headers["X-Request-ID"]
    headers = grant(client, profile=True)
    token = headers["Authorization"].removeprefix("Bearer ")
    client.get(f"/privacy/{token}?token={token}", headers=headers)
    login = client.get("/admin/login")
    client.post(
        "/admin/login",
        data={"csrf_token": csrf_token(login.get_data(as_text=True)), "email": EMAIL, "password": PASSWORD},
    )
    client.get(f"/nowhere/{EMAIL}/{token}")

    lines = parsed(log_lines)
    text = log_lines.getvalue()
    for secret in (EMAIL, PASSWORD, token, "abc.def.ghi"):
        assert secret not in text, f"{secret[:12]}... reached the log"
    for line in lines:
        assert {"time", "level", "logger", "message", "request_id"} <= line.keys()
    noisy_lines = [line for line in lines if line["request_id"] == "probe-0001"]
    assert noisy_id == "probe-0001"
    assert [line["logger"] for line in noisy_lines] == ["quiz.test", logs.ACCESS_LOGGER]
    assert "<email>" in str(noisy_lines[0]["message"]) and "<redacted>" in str(noisy_lines[0]["message"])
    access = {line["route"]: line for line in lines if line["logger"] == logs.ACCESS_LOGGER}
    privacy = access["/privacy/<token>"]
    assert privacy["path"] == "/privacy/<token>" and privacy["method"] == "GET"
    assert isinstance(privacy["status"], int) and isinstance(privacy["duration_ms"], float)
    assert access["/api/v1/m/<slug>/consents"]["path"] == "/api/v1/m/demo/consents"
    assert access["/api/v1/m/<slug>/consents"]["status"] == 201
    unmatched = access[None]
    assert unmatched["status"] == 404 and unmatched["path"] == "/nowhere/<redacted>/<redacted>"


def test_log_format_json_from_the_environment_writes_json_lines(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        from app import create_app
        app = create_app({{"INSTANCE_PATH": {str(tmp_path)!r}, "SECRET_KEY": "x" * 32}})
        app.test_client().get("/healthz", headers={{"X-Request-ID": "env-check-42"}})
        """
    )
    env = {**os.environ, "ATTUNE_LOG_FORMAT": "json", "ATTUNE_LOG_LEVEL": "DEBUG", "HF_HUB_OFFLINE": "1"}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == logs.ACCESS_LOGGER]
    assert access and access[-1]["request_id"] == "env-check-42" and access[-1]["route"] == "/healthz"


# -- metrics ----------------------------------------------------------------------------------


def test_metrics_record_requests_by_route_rule_and_recommendations(client: FlaskClient) -> None:
    before = samples(client)
    headers = grant(client)
    token = headers["Authorization"].removeprefix("Bearer ")
    client.get(f"/privacy/{token}")
    answer = client.post("/api/v1/m/demo/recommendations", json={"answers": {"looking_for": "a tent"}}, headers=headers)
    assert answer.status_code == 200
    response = client.get("/metrics")
    assert response.headers["Content-Type"].startswith("text/plain")
    text = response.get_data(as_text=True)
    assert token not in text and "/privacy/<token>" in text
    after = samples(client)
    route = {"route": "/api/v1/m/<slug>/recommendations", "method": "POST", "status_class": "2xx"}
    name = "attune_http_request_duration_seconds_count"
    assert value(after, name, **route) == value(before, name, **route) + 1
    name = "attune_recommendation_duration_seconds_count"
    assert value(after, name) == value(before, name) + 1
    assert ("attune_job_queue_depth", ()) in after
    client.get("/readyz")  # starts this app's warm-up; the model is already in memory, so it ends at once
    deadline = time.monotonic() + 30
    while value(samples(client), "attune_model_ready") != 1:
        assert time.monotonic() < deadline, "the warm-up did not finish"
        time.sleep(0.1)


def test_metrics_count_import_rows_and_outcomes(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "metered")
    before = samples(client)
    data = b"id,title,price\nA1,Wool Scarf,10\nA2,Rain Jacket,20\nA3,Camp Mug,5\n"
    done = wait_for_import(client, shop.api_key, upload(client, shop.api_key, "c.csv", data).json["id"])
    assert done["status"] == "done"
    after = samples(client)
    rows = "attune_import_rows_processed_total"
    assert value(after, rows) == value(before, rows) + 3
    finished = "attune_imports_finished_total"
    assert value(after, finished, outcome="done") == value(before, finished, outcome="done") + 1
    assert client.get("/api/v1/catalog/imports", headers=bearer(shop.api_key)).status_code == 200


def test_metrics_are_for_loopback_or_the_metrics_token(new_app: Callable[..., Flask], client: FlaskClient) -> None:
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 403
    token = "metrics-token-0123456789"
    guarded = new_app(METRICS_TOKEN=token).test_client()
    assert guarded.get("/metrics").status_code == 403, "with a token set, loopback needs it too"
    assert guarded.get("/metrics", headers=bearer("wrong-token-0123456789")).status_code == 403
    remote = {"REMOTE_ADDR": "203.0.113.9"}
    assert guarded.get("/metrics", headers=bearer(token), environ_base=remote).status_code == 200


def test_metrics_add_up_over_worker_processes(tmp_path: Path) -> None:
    folder = tmp_path / "prom"
    script = textwrap.dedent(
        f"""
        import os
        from quiz.platform import metrics
        child = os.fork()
        if child == 0:  # a worker: records, then exits
            metrics.observe_recommendation(0.05)
            metrics.count_import_rows(7)
            os._exit(0)
        os.waitpid(child, 0)
        metrics.mark_worker_dead(child)
        metrics.count_import_rows(5)
        from app import create_app
        app = create_app({{"INSTANCE_PATH": {str(tmp_path / "inst")!r}, "SECRET_KEY": "x" * 32}})
        print(app.test_client().get("/metrics").get_data(as_text=True))
        """
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder), "HF_HUB_OFFLINE": "1"}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    found = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(done.stdout)
        for s in family.samples
    }
    assert found[("attune_import_rows_processed_total", ())] == 12
    assert found[("attune_recommendation_duration_seconds_count", ())] == 1
