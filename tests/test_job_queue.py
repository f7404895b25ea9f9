"""The job queue: RQ on a real Redis when REDIS_URL is set, the in-process thread otherwise."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from quiz.catalog import jobs
from quiz.catalog import worker as job_tasks
from quiz.platform import scheduling

from .conftest import make_app
from .helpers import bearer, grant, make_merchant, upload, wait_for_import
from .test_import_jobs import catalog_csv

REDIS = "redis://127.0.0.1:6379/0"
NOWHERE = "redis://127.0.0.1:1/0"  # nothing listens there: Redis "down"


@pytest.fixture
def queue_name() -> Iterator[str]:
    """Yield a queue name of this test's own; its keys are removed afterwards."""
    from redis import Redis
    from rq import Queue

    name = f"attune-test-{uuid.uuid4().hex[:10]}"
    yield name
    connection = Redis.from_url(REDIS)
    Queue(name, connection=connection).delete(delete_jobs=True)
    connection.close()


@pytest.fixture
def rq_app(app: Flask, database_url: str, instance_path: Path, queue_name: str) -> Iterator[Flask]:
    """Yield an app on the session database whose jobs go to a Redis queue (the `app` fixture cleans up)."""
    found = make_app(database_url, instance_path, REDIS_URL=REDIS, JOB_QUEUE_NAME=queue_name)
    yield found
    release(found)


def release(app: Flask) -> None:
    """Close an extra app's database connections once its warm-up is over (no connection left to the GC)."""
    from quiz.platform.db import get_engine

    for thread in threading.enumerate():
        if thread.name == "attune-warm-up":
            thread.join(timeout=60)
    with app.app_context():
        get_engine().dispose()
    if isinstance(jobs.backend(app), jobs.RedisJobs):
        jobs.backend(app).close()  # type: ignore[attr-defined]


def _status(client: FlaskClient, key: str, import_id: str) -> dict[str, object]:
    answer: dict[str, object] = client.get(f"/api/v1/catalog/imports/{import_id}", headers=bearer(key)).json
    return answer


def _titles(client: FlaskClient, slug: str, need: str) -> list[str]:
    response = client.post(
        f"/api/v1/m/{slug}/recommendations", json={"answers": {"looking_for": need}}, headers=grant(client, slug)
    )
    assert response.status_code == 200, response.json
    return [item["title"] for item in response.json["items"]]


def test_an_upload_waits_in_redis_until_a_worker_runs_it(rq_app: Flask) -> None:
    client = rq_app.test_client()
    shop = make_merchant(rq_app, "rqshop")
    response = upload(client, shop.api_key, "c.csv", catalog_csv(30))
    assert response.status_code == 202 and response.json["status"] == "queued"
    assert response.json["message"] == ""
    with rq_app.app_context():
        assert jobs.queue_depth() == 1
    time.sleep(0.5)
    assert _status(client, shop.api_key, response.json["id"])["status"] == "queued", "no web thread runs it"

    assert job_tasks.work(rq_app, burst=True) is True

    done = _status(client, shop.api_key, response.json["id"])
    assert done["status"] == "done" and done["processed"] == 30
    with rq_app.app_context():
        assert jobs.queue_depth() == 0
    titles = _titles(client, "rqshop", "a mug for my coffee")
    assert titles and all(title.split()[-1].isdigit() for title in titles), "the new catalog answers"
    assert any("Mug" in title for title in titles[:3])


def test_redis_down_at_upload_keeps_the_import_queued_and_a_worker_start_runs_it(
    app: Flask, database_url: str, instance_path: Path, rq_app: Flask
) -> None:
    down = make_app(database_url, instance_path, REDIS_URL=NOWHERE, JOB_QUEUE_NAME=rq_app.config["JOB_QUEUE_NAME"])
    client = down.test_client()
    shop = make_merchant(down, "redisdown")
    started = time.monotonic()
    response = upload(client, shop.api_key, "c.csv", catalog_csv(20))
    assert time.monotonic() - started < 5, "the upload answers at once, it does not hang on Redis"
    assert response.status_code == 202 and response.json["status"] == "queued"
    assert "job queue cannot be reached" in response.json["message"]
    assert "nothing needs uploading again" in response.json["message"]
    with down.app_context():
        assert jobs.queue_depth() == -1
    import_id = response.json["id"]
    assert _status(client, shop.api_key, import_id)["status"] == "queued"

    # Redis is back: a job worker starts, finds the waiting import in the database and runs it.
    assert job_tasks.work(rq_app, burst=True) is True
    done = _status(rq_app.test_client(), shop.api_key, import_id)
    assert done["status"] == "done" and done["message"] == "", "the note about the queue is gone"
    assert _titles(rq_app.test_client(), "redisdown", "a lantern")
    release(down)


def test_an_import_queued_twice_runs_once(rq_app: Flask) -> None:
    client = rq_app.test_client()
    shop = make_merchant(rq_app, "twice")
    import_id = upload(client, shop.api_key, "c.csv", catalog_csv(10)).json["id"]
    with rq_app.app_context():
        jobs.enqueue(import_id)  # e.g. a recovery sweep racing the upload
        assert jobs.queue_depth() == 2
    job_tasks.work(rq_app, burst=True)
    done = _status(client, shop.api_key, import_id)
    assert done["status"] == "done" and done["summary"]["created"] == 10


def test_the_worker_start_fails_imports_of_dead_processes(rq_app: Flask) -> None:
    from quiz.models import CatalogImport
    from quiz.platform.db import get_session, transaction

    client = rq_app.test_client()
    shop = make_merchant(rq_app, "deadrun")
    import_id = upload(client, shop.api_key, "c.csv", catalog_csv(10)).json["id"]
    with rq_app.app_context(), transaction():
        job = get_session().get(CatalogImport, import_id)
        job.status, job.worker = "running", f"{socket.gethostname()}:999999999"
    job_tasks.work(rq_app, burst=True)
    failed = _status(client, shop.api_key, import_id)
    assert failed["status"] == "failed" and "interrupted" in failed["message"]


def test_stale_index_staging_folders_are_removed(tmp_path: Path) -> None:
    old = tmp_path / "7" / ".v12-abc"
    fresh = tmp_path / "7" / ".v13-def"
    live = tmp_path / "7" / "v11"
    writing = tmp_path / "8" / ".v3-ghi"
    for folder in (old, fresh, live, writing):
        folder.mkdir(parents=True)
    past = time.time() - job_tasks.STAGING_MAX_AGE_S - 60
    for folder in (old, live, writing):
        os.utime(folder, (past, past))
    assert job_tasks.remove_stale_staging(tmp_path, busy_merchants={8}) == 1, "a sweep: only old ones"
    assert not old.exists() and fresh.exists() and live.exists() and writing.exists()
    assert job_tasks.remove_stale_staging(tmp_path, 0, busy_merchants={8}) == 1, "the start: every idle one"
    assert not fresh.exists() and live.exists(), "version folders stay"
    assert writing.exists(), "a merchant whose import runs may be writing it now"


def test_the_in_process_backend_reports_its_queue(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "inproc")
    ids = [upload(client, shop.api_key, f"c{n}.csv", catalog_csv(120, start=n * 1000)).json["id"] for n in range(3)]
    with app.app_context():
        assert isinstance(jobs.backend(), jobs.ImportWorker)
        assert jobs.queue_depth() >= 1, "two uploads wait while the first runs"
    for import_id in ids:
        assert wait_for_import(client, shop.api_key, import_id)["status"] == "done"
    with app.app_context():
        assert jobs.queue_depth() == 0


def test_a_web_process_of_the_production_shape_runs_no_background_loops(
    app: Flask, database_url: str, instance_path: Path, queue_name: str
) -> None:
    web = make_app(database_url, instance_path, REDIS_URL=REDIS, JOB_QUEUE_NAME=queue_name, WARM_UP=True)
    assert isinstance(jobs.backend(web), jobs.RedisJobs)
    running = [name for name in ("imports", "retention", "webhooks") if scheduling.running(web, name)]
    assert running == [], "the daily purge and webhook retries run in the job worker only, imports in RQ"
    embedded = make_app(database_url, instance_path, WARM_UP=True)
    for name in ("imports", "retention", "webhooks"):
        assert scheduling.running(embedded, name), f"the embedded default still runs {name} itself"
    scheduling.stop(embedded)
    release(web)
    release(embedded)


def test_the_worker_refuses_to_start_without_redis(app: Flask) -> None:
    assert app.config["REDIS_URL"] is None
    result = app.test_cli_runner().invoke(args=["jobs", "worker", "--burst"])
    assert result.exit_code != 0 and "REDIS_URL" in result.output
