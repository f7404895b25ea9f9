"""Import jobs: incremental re-imports, and a killed import never breaks what shoppers use."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from quiz.catalog.imports import recover_interrupted
from quiz.models import CatalogImport, Product
from quiz.platform.db import get_session

from .helpers import bearer, grant, make_merchant, upload, wait_for_import

ROOT = Path(__file__).resolve().parents[1]
ADJECTIVES = ["Alpine", "Coastal", "Urban", "Forest", "Desert", "Polar", "Meadow", "Canyon", "River", "Summit"]
THINGS = ["Backpack", "Jacket", "Mug", "Lantern", "Hammock", "Sock", "Bottle", "Tent", "Scarf", "Stool"]


def catalog_csv(count: int, start: int = 0) -> bytes:
    """Return a generic CSV of ``count`` distinct, plausible products."""
    lines = ["id,title,description,price,category"]
    for n in range(start, start + count):
        adjective, thing = ADJECTIVES[n % 10], THINGS[(n // 10) % 10]
        lines.append(
            f"P{n},{adjective} {thing} {n},A {adjective.lower()} {thing.lower()} made to last,{5 + n % 90},Gear"
        )
    return ("\n".join(lines) + "\n").encode()


def test_reimporting_an_unchanged_catalog_embeds_nothing(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "again")
    data = catalog_csv(150)
    first = wait_for_import(client, shop.api_key, upload(client, shop.api_key, "c.csv", data).json["id"])
    assert first["summary"]["embedded"] == 150
    second = wait_for_import(client, shop.api_key, upload(client, shop.api_key, "c.csv", data).json["id"])
    assert second["status"] == "done"
    assert second["summary"]["embedded"] == 0 and second["summary"]["unchanged"] == 150
    assert second["summary"]["index_version"] is None, "nothing changed, so the live index stays"


def test_a_killed_import_leaves_the_previous_catalog_serving(
    app: Flask, client: FlaskClient, database_url: str, instance_path: Path
) -> None:
    shop = make_merchant(app, "crashy")
    wait_for_import(client, shop.api_key, upload(client, shop.api_key, "v1.csv", catalog_csv(20)).json["id"])
    big = instance_path / "crashy-v2.csv"
    big.write_bytes(catalog_csv(3000, start=1000))
    env = {**os.environ, "DATABASE_URL": database_url, "ATTUNE_INSTANCE": str(instance_path), "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "catalog", "import", "--merchant", "crashy", str(big)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        job = _wait_until_embedding(app, shop.merchant.id, process)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    with app.app_context():
        assert get_session().get(CatalogImport, job).status == "running", "the dead process could not say"
        failed, queued = recover_interrupted()
        assert failed == 1 and queued == []
        stored = get_session().get(CatalogImport, job)
        assert stored.status == "failed" and "interrupted" in stored.message
        count = get_session().scalar(sa.select(sa.func.count()).where(Product.merchant_id == shop.merchant.id))
        assert count == 20, "no half-written catalog"
    auth = grant(client, "crashy")
    items = client.post(
        "/api/v1/m/crashy/recommendations", json={"answers": {"looking_for": "a mug"}}, headers=auth
    ).json["items"]
    assert items and all(int(i["id"][1:]) < 20 for i in items)
    assert client.get(f"/api/v1/catalog/imports/{job}", headers=bearer(shop.api_key)).json["status"] == "failed"


def _wait_until_embedding(app: Flask, merchant_id: int, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, "the import process ended before it could be killed"
        with app.app_context():
            job = get_session().scalar(
                sa.select(CatalogImport).where(
                    CatalogImport.merchant_id == merchant_id,
                    CatalogImport.status == "running",
                    CatalogImport.processed > 0,
                )
            )
            if job is not None:
                return job.id
        time.sleep(0.1)
    raise AssertionError("the import never started embedding")
