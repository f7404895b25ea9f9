"""When a dependency fails: the database goes away, an index file breaks, the disk fills up.

The database outage is staged on real sockets: a PostgreSQL database of the test's own, reached
through tests/tcp_proxy.py, which the test cuts and restores. A full disk is a real small
tmpfs, filled up by the test; where this machine does not let the test mount one, that test is
skipped with the reason rather than faked.
"""

from __future__ import annotations

import errno
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from quiz.models import ConsentRecord, Merchant
from quiz.platform.db import get_engine, get_session
from quiz.shopping.subjects import read_token

from .conftest import make_app
from .helpers import make_merchant, upload, wait_for_import
from .tcp_proxy import TcpProxy

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PURPOSES = {"recommendations": True, "profile": False, "email": False, "sms": False}
NEED = {"answers": {"looking_for": "a warm scarf for winter"}, "limit": 5}


def metric(client: FlaskClient, name: str, **labels: str) -> float:
    """Return the value of one sample of /metrics (0 when it has not been recorded yet)."""
    text = client.get("/metrics").get_data(as_text=True)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def catalog_csv(titles: list[str]) -> bytes:
    """Return a generic CSV with one product per title."""
    rows = ["id,title,description,price,category"]
    rows += [f"X{n},{title},A {title.lower()} for everyday use,{10 + n},Gear" for n, title in enumerate(titles)]
    return ("\n".join(rows) + "\n").encode()


FIRST = ["Wool Scarf", "Rain Jacket", "Trail Shoes", "Camp Mug", "Head Lamp"]
SECOND = ["Silk Scarf", "Down Parka", "City Sneakers", "Travel Mug", "Bike Light"]


# -- database outage --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def outage_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, TcpProxy]]:
    """Yield an app on a PostgreSQL database of its own, reached through a proxy the test can cut."""
    from quiz.demo.shop import load_demo
    from quiz.platform.migrate import upgrade

    base = os.environ.get("DATABASE_URL", "")
    base = base if base.startswith("postgresql") else POSTGRES
    name = f"attune_outage_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    server = make_url(base)
    proxy = TcpProxy((server.host or "127.0.0.1", server.port or 5432))
    url = server.set(database=name, host="127.0.0.1", port=proxy.port, query={"connect_timeout": "3"})
    app = make_app(url.render_as_string(hide_password=False), tmp_path_factory.mktemp("outage"))

    @app.get("/test/read-then-cut")
    def read_then_cut() -> str:
        """Read in a transaction, then lose the database before the session closes."""
        count = get_session().scalar(sa.select(sa.func.count()).select_from(Merchant))
        proxy.cut()
        return f"{count} merchants"

    try:
        with app.app_context():
            upgrade(app)
            load_demo()
        yield app, proxy
    finally:
        proxy.close()
        with app.app_context():
            get_engine().dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def shopper_round(client: FlaskClient) -> tuple[int, int, Any]:
    """Consent, then ask for recommendations; return both statuses and the consent answer."""
    consent = client.post("/api/v1/m/demo/consents", json={"purposes": PURPOSES})
    if consent.status_code != 201:
        return consent.status_code, 0, consent
    token = consent.json["subject_token"]
    asked = client.post("/api/v1/m/demo/recommendations", json=NEED, headers={"Authorization": f"Bearer {token}"})
    return consent.status_code, asked.status_code, consent


def test_a_database_outage_answers_503_and_service_recovers_by_itself(outage_app: tuple[Flask, TcpProxy]) -> None:
    app, proxy = outage_app
    client = app.test_client()
    stored: list[str] = []
    with app.app_context():  # several pooled connections, all of which the cut will break
        held = [get_engine().connect() for _ in range(3)]
        for conn in held:
            conn.close()
    for _ in range(3):
        consent_status, recommend_status, consent = shopper_round(client)
        assert (consent_status, recommend_status) == (201, 200)
        stored.append(consent.json["subject_token"])
    failures_before = metric(client, "attune_database_unavailable_responses_total")

    proxy.cut()
    try:
        consent = client.post("/api/v1/m/demo/consents", json={"purposes": PURPOSES})
        assert consent.status_code == 503, "a consent that could not be stored must fail loudly"
        assert consent.json["error"] and "Traceback" not in consent.get_data(as_text=True)
        assert int(consent.headers["Retry-After"]) > 0
        quiz = client.get("/api/v1/m/demo/quiz")
        assert quiz.status_code == 503 and quiz.headers["Retry-After"]
        page = client.get("/m/demo/", headers={"Accept-Language": "es"})
        assert page.status_code == 503 and page.headers["Retry-After"]
        assert (
            "Traceback" not in page.get_data(as_text=True) and "<!doctype html" in page.get_data(as_text=True).lower()
        )
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json["checks"]["database"]["status"] == "failed"
        assert ready.headers["Retry-After"]
    finally:
        proxy.restore()
    restored = time.monotonic()

    while True:  # the pool's broken connections must be dropped and replaced without a restart
        consent_status, recommend_status, consent = shopper_round(client)
        if (consent_status, recommend_status) == (201, 200):
            break
        assert consent_status in (201, 503) and recommend_status in (0, 200, 503)
        assert time.monotonic() - restored < 10, "no recovery within 10 s of the database returning"
        time.sleep(0.2)
    print(f"recovered {time.monotonic() - restored:.2f} s after the database returned")
    stored.append(consent.json["subject_token"])
    assert client.get("/readyz").status_code == 200
    assert metric(client, "attune_database_unavailable_responses_total") >= failures_before + 3

    with app.app_context():  # every consent that was answered 201 is in the ledger
        subjects = [read_token(token) for token in stored]
        assert all(subjects)
        found = set(get_session().scalars(sa.select(ConsentRecord.subject_id)))
        assert {s.subject_id for s in subjects if s} <= found


def test_a_connection_lost_after_the_answer_was_made_keeps_the_answer(outage_app: tuple[Flask, TcpProxy]) -> None:
    app, proxy = outage_app
    try:
        response = app.test_client().get("/test/read-then-cut")
    finally:
        proxy.restore()
    assert response.status_code == 200 and response.get_data(as_text=True) == "1 merchants"
    assert app.test_client().get("/api/v1/m/demo/quiz").status_code == 200


# -- index files ------------------------------------------------------------------------------


def _shop_with_catalog(app: Flask, client: FlaskClient, slug: str, titles: list[str]) -> tuple[Any, str]:
    shop = make_merchant(app, slug)
    done = wait_for_import(client, shop.api_key, upload(client, shop.api_key, "c.csv", catalog_csv(titles)).json["id"])
    assert done["status"] == "done", done
    return shop, done["summary"]["index_version"]


def _index_file(app: Flask, slug: str, version: str) -> Path:
    with app.app_context():
        merchant_id = get_session().scalar(sa.select(Merchant.id).where(Merchant.slug == slug))
    return Path(app.config["INDEX_ROOT"]) / str(merchant_id) / version / "index.faiss"


def _ask(client: FlaskClient, slug: str) -> Any:
    consent = client.post(f"/api/v1/m/{slug}/consents", json={"purposes": PURPOSES})
    assert consent.status_code == 201
    return client.post(
        f"/api/v1/m/{slug}/recommendations",
        json=NEED,
        headers={"Authorization": "Bearer " + consent.json["subject_token"]},
    )


def test_a_missing_index_with_nothing_loaded_answers_503_and_is_not_retried_on_every_request(
    new_app: Callable[..., Flask], app: Flask, client: FlaskClient
) -> None:
    _, version = _shop_with_catalog(app, client, "lostidx", FIRST)
    _index_file(app, "lostidx", version).unlink()
    fresh = new_app().test_client()  # a process that never loaded it
    failures = metric(fresh, "attune_index_load_failures_total")

    answer = _ask(fresh, "lostidx")
    assert answer.status_code == 503 and answer.json["error"] and answer.headers["Retry-After"]
    assert _ask(fresh, "lostidx").status_code == 503
    assert metric(fresh, "attune_index_load_failures_total") == failures + 1, "tried once, then backed off"
    deadline = time.monotonic() + 60  # the probe starts this app's warm-up (the model is already in memory)
    while (ready := fresh.get("/readyz")).status_code != 200:
        assert ready.json["checks"]["model"]["status"] == "loading", "a broken index must not make the process unready"
        assert time.monotonic() < deadline
        time.sleep(0.1)
    indexes = ready.json["checks"]["indexes"]
    assert indexes["status"] == "degraded" and "nothing to serve" in indexes["merchants"]["lostidx"]
    assert _ask(fresh, "demo").status_code == 200, "other merchants keep being served"


def test_a_corrupted_new_index_leaves_the_previous_one_serving_until_a_good_one_loads(
    new_app: Callable[..., Flask], app: Flask, client: FlaskClient
) -> None:
    shop, first = _shop_with_catalog(app, client, "badidx", FIRST)
    serving = new_app(INDEX_RETRY_SECONDS=3).test_client()
    titles = {item["title"] for item in _ask(serving, "badidx").json["items"]}
    assert titles and titles <= set(FIRST)
    done = wait_for_import(client, shop.api_key, upload(client, shop.api_key, "c.csv", catalog_csv(SECOND)).json["id"])
    second = done["summary"]["index_version"]
    path = _index_file(app, "badidx", second)
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2] + bytes(len(good) - len(good) // 2))  # same size, wrong bytes
    failures = metric(serving, "attune_index_load_failures_total")

    answer = _ask(serving, "badidx")
    assert answer.status_code == 200
    titles = {item["title"] for item in answer.json["items"]}
    assert titles and titles <= set(FIRST), "the previous version keeps serving"
    assert _ask(serving, "badidx").status_code == 200
    assert metric(serving, "attune_index_load_failures_total") == failures + 1
    indexes = serving.get("/readyz").json["checks"]["indexes"]
    assert indexes["status"] == "degraded" and f"still serving {first}" in indexes["merchants"]["badidx"]

    path.write_bytes(good)  # the file is fixed (e.g. restored); after the back-off the new version loads
    time.sleep(3.1)
    titles = {item["title"] for item in _ask(serving, "badidx").json["items"]}
    assert titles and titles <= set(SECOND)
    assert serving.get("/readyz").json["checks"]["indexes"]["status"] == "ok"


# -- disk full --------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """Yield a folder on a 2 MB tmpfs; skip the test, saying why, where mounting one is not allowed."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        why = mounted.stderr.decode(errors="replace").strip() or f"exit {mounted.returncode}"
        pytest.skip(f"a full disk needs a small tmpfs, and mounting one is not allowed here: {why}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _fill(folder: Path) -> None:
    """Write a file until the disk holding ``folder`` has no space left."""
    with (folder / "filler").open("wb", buffering=0) as fh:  # unbuffered: nothing left to flush at close
        try:
            while True:
                fh.write(b"\0" * 65536)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


def test_a_full_disk_while_writing_an_index_fails_the_import_cleanly(
    new_app: Callable[..., Flask],
    app: Flask,  # removes the test's merchant afterwards
    small_disk: Path,
) -> None:
    folder = small_disk
    disk_app = new_app(INDEX_ROOT=str(folder / "indexes"))
    client = disk_app.test_client()
    shop, first = _shop_with_catalog(disk_app, client, "fulldisk", FIRST)
    titles = {i["title"] for i in _ask(client, "fulldisk").json["items"]}
    assert titles and titles <= set(FIRST)
    failed_before = metric(client, "attune_import_failures_total", reason="index_write")
    _fill(folder)

    done = wait_for_import(client, shop.api_key, upload(client, shop.api_key, "c.csv", catalog_csv(SECOND)).json["id"])
    assert done["status"] == "failed"
    assert "disk space" in (done.get("message") or ""), done
    merchant_folder = _index_file(disk_app, "fulldisk", first).parent.parent
    assert [p.name for p in merchant_folder.iterdir()] == [first], "no partial version folder is left"
    with disk_app.app_context():
        assert get_session().scalar(sa.select(Merchant.active_index).where(Merchant.slug == "fulldisk")) == first
    titles = {i["title"] for i in _ask(client, "fulldisk").json["items"]}
    assert titles and titles <= set(FIRST), "the previous index serves"
    assert metric(client, "attune_import_failures_total", reason="index_write") == failed_before + 1
    (folder / "filler").unlink(missing_ok=True)
