"""The production shape and its traps: gunicorn + a Redis job worker end to end, SQLite writers, one model.

The end-to-end test starts real processes (``flask jobs worker`` and gunicorn with two workers)
on a fresh instance folder and database: its own PostgreSQL database when the suite runs on
PostgreSQL, else SQLite. It takes about half a minute, most of it three model loads.
"""

from __future__ import annotations

import gc
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from .conftest import make_app
from .helpers import bearer, full_answers, grant, make_merchant, own_database
from .test_import_jobs import catalog_csv
from .test_job_queue import release

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = Path(sys.executable).parent / "gunicorn"
REDIS = "redis://127.0.0.1:6379/0"


# --- one model per process ------------------------------------------------------------------


def test_two_apps_in_one_process_share_one_model(app: Flask, database_url: str, instance_path: Path) -> None:
    from sentence_transformers import SentenceTransformer

    from quiz import merchants
    from quiz.catalog.engine import recommender_for

    def loaded_models() -> int:
        # type(), not isinstance(): isinstance reads __class__, which some torch shims answer with a warning.
        return sum(1 for obj in gc.get_objects() if issubclass(type(obj), SentenceTransformer))

    def recommend_in(each: Flask) -> Any:
        with each.app_context():
            recommender = recommender_for(merchants.get_by_slug("demo"))
            recommender.embedder.encode(["a tent for two"])
            return recommender

    first = recommend_in(app)
    before = loaded_models()
    other = make_app(database_url, instance_path)
    second = recommend_in(other)
    assert first.embedder is not second.embedder, "each app has its own embedder (and text cache)"
    assert first.embedder.model is second.embedder.model
    assert loaded_models() == before, "the second app loaded a model of its own"
    release(other)


# --- SQLite under concurrent writers --------------------------------------------------------


def test_concurrent_writers_on_sqlite_never_hit_database_is_locked(tmp_path: Path) -> None:
    from quiz import merchants
    from quiz.catalog.imports import create_import, run_import
    from quiz.models import ConsentRecord, Profile
    from quiz.platform.db import get_session
    from quiz.platform.migrate import upgrade

    url = f"sqlite:///{tmp_path}/writers.sqlite3"
    first = make_app(url, tmp_path / "instance")
    with first.app_context():
        upgrade(first)
    make_merchant(first, "writers")
    with first.app_context():
        run_import(create_import(merchants.get_by_slug("writers"), catalog_csv(30), "c.csv").id)
    apps = [make_app(url, tmp_path / "instance") for _ in range(4)]  # an engine (connections) each
    errors: list[str] = []
    per_writer = 8

    def write(app: Flask) -> None:
        client = app.test_client()
        for n in range(per_writer):
            auth = grant(client, "writers", profile=True)
            answer = client.post("/api/v1/m/writers/responses", json={"answers": full_answers()}, headers=auth)
            if answer.status_code != 201 or not answer.json["profile_id"]:
                errors.append(f"{answer.status_code}: {answer.get_data(as_text=True)[:200]}")
            change = client.patch("/api/v1/me/consents", json={"purposes": {"email": n % 2 == 0}}, headers=auth)
            if change.status_code != 200:
                errors.append(f"{change.status_code}: {change.get_data(as_text=True)[:200]}")

    threads = [threading.Thread(target=write, args=(each,)) for each in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == [], errors[:3]
    with first.app_context():
        session = get_session()
        assert session.scalar(sa.select(sa.func.count()).select_from(Profile)) == 4 * per_writer
        assert session.scalar(sa.select(sa.func.count()).select_from(ConsentRecord)) >= 4 * per_writer
    for each in (first, *apps):
        release(each)


# --- the production shape, end to end -------------------------------------------------------


@pytest.fixture
def fresh_database(tmp_path: Path) -> Iterator[str]:
    """Yield a database of this test's own: PostgreSQL when the suite runs there, else SQLite."""
    with own_database(tmp_path / "production.sqlite3", "attune_prod") as url:
        yield url


@pytest.fixture
def queue_name() -> Iterator[str]:
    """Yield an RQ queue name of this test's own, removed afterwards."""
    from redis import Redis
    from rq import Queue

    name = f"attune-test-{uuid.uuid4().hex[:10]}"
    yield name
    connection = Redis.from_url(REDIS)
    Queue(name, connection=connection).delete(delete_jobs=True)
    connection.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def _multipart(name: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def _wait(check: Any, timeout: float, what: str, processes: list[subprocess.Popen[bytes]]) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            assert process.poll() is None, f"{process.args[:4]} ended while waiting for {what}"
        try:
            found = check()
        except OSError:
            found = None
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what} after {timeout:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def test_gunicorn_and_a_job_worker_serve_an_uploaded_catalog(
    tmp_path: Path, fresh_database: str, queue_name: str
) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": fresh_database,
        "ATTUNE_INSTANCE": str(tmp_path / "instance"),
        "REDIS_URL": REDIS,
        "ATTUNE_JOB_QUEUE_NAME": queue_name,
        "ATTUNE_RATELIMIT_KEY_PREFIX": queue_name,  # no count left in Redis by an earlier run applies
        "WEB_CONCURRENCY": "2",
        # This test is about serving while an import runs, not about admission: a shopper here may
        # wait for the encoder as long as a busy CI machine takes (bench/concurrency.py measures 503s).
        "ATTUNE_ADMISSION_WAIT_SECONDS": "30",
        "PORT": str(port),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "PYTHONUNBUFFERED": "1",
    }
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    created = subprocess.run(
        [*flask, "merchant", "create", "prod", "--name", "Prod Shop"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    key = re.search(r"api_key: (\S+)", created.stdout.decode())
    assert key, created.stdout
    logs = {name: (tmp_path / f"{name}.log").open("wb") for name in ("worker", "web")}
    worker = subprocess.Popen(
        [*flask, "jobs", "worker"],
        cwd=ROOT,
        env=env,
        stdout=logs["worker"],
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    web = subprocess.Popen(
        [str(GUNICORN), "-c", "python:quiz.platform.gunicorn_conf", "app:create_app()"],
        cwd=ROOT,
        env=env,
        stdout=logs["web"],
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        processes = [worker, web]
        _wait(lambda: _http("GET", f"{base}/healthz")[0] == 200, 60, "gunicorn", processes)
        with urllib.request.urlopen(f"{base}/healthz", timeout=30) as response:
            assert response.headers.get_all("Server") == ["gunicorn"], "one Server header, with no version (issue 14)"
        body, content_type = _multipart("catalog.csv", catalog_csv(100))
        status, job = _http(
            "POST", f"{base}/api/v1/catalog/imports", body, {"Content-Type": content_type, **bearer(key.group(1))}
        )
        assert status == 202, job

        def finished() -> dict[str, Any] | None:
            found = _http("GET", f"{base}/api/v1/catalog/imports/{job['id']}", headers=bearer(key.group(1)))[1]
            return found if found["status"] in ("done", "failed") else None

        done = _wait(finished, 60, "the import", processes)
        assert done["status"] == "done" and done["summary"]["created"] == 100, done
        engine = sa.create_engine(fresh_database)
        with engine.connect() as conn:
            ran_in = conn.scalar(sa.text("SELECT worker FROM catalog_import WHERE id = :i"), {"i": job["id"]})
        engine.dispose()
        assert ran_in.endswith(f":{worker.pid}"), f"the import ran in {ran_in}, not in the job worker"

        status, consent = _http(
            "POST",
            f"{base}/api/v1/m/prod/consents",
            json.dumps({"purposes": {"recommendations": True}}).encode(),
            {"Content-Type": "application/json"},
        )
        assert status == 201, consent
        headers = {"Content-Type": "application/json", "Authorization": "Bearer " + consent["subject_token"]}
        question = json.dumps({"answers": {"looking_for": "a warm scarf"}, "limit": 5}).encode()
        with ThreadPoolExecutor(4) as pool:  # concurrent, so both gunicorn workers take some
            answers = list(
                pool.map(lambda _: _http("POST", f"{base}/api/v1/m/prod/recommendations", question, headers), range(12))
            )
        assert [status for status, _ in answers] == [200] * 12, answers[0]
        first = [item["id"] for item in answers[0][1]["items"]]
        assert all([item["id"] for item in answer["items"]] == first for _, answer in answers), "one answer everywhere"
        titles = [item["title"] for item in answers[0][1]["items"]]
        assert titles and "Scarf" in titles[0], titles
    finally:
        _stop(web)
        _stop(worker)
        for log in logs.values():
            log.close()
    assert web.returncode == 0, (tmp_path / "web.log").read_text()[-2000:]
