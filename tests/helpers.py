"""Small helpers shared by the tests (answers a shopper would give, consent tokens)."""

from __future__ import annotations

import io
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from quiz.merchants.registry import NewMerchant

NEED = "lightweight waterproof jacket for hiking"


@contextmanager
def own_database(sqlite_file: Path, prefix: str) -> Iterator[str]:
    """Yield the URL of a database of its own, of the suite's kind, dropped afterwards.

    PostgreSQL when ``DATABASE_URL`` names a server (a new database named ``prefix`` and a random
    suffix), else SQLite at ``sqlite_file``.
    """
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgresql"):
        yield f"sqlite:///{sqlite_file}"
        return
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def full_answers(**overrides: Any) -> dict[str, Any]:
    """Return a complete, valid set of answers to the default quiz."""
    answers: dict[str, Any] = {
        "first_name": "Ada",
        "age_band": "25-34",
        "gender": "prefer_not",
        "country": "DE",
        "intent": "myself",
        "looking_for": NEED,
        "timing": "this_month",
        "categories": ["any"],
        "styles": ["technical"],
        "budget": [0, 1000],
        "shopping_style": "no_preference",
        "channels": ["email"],
    }
    answers.update(overrides)
    return answers


def grant(client: FlaskClient, slug: str = "demo", **purposes: bool) -> dict[str, str]:
    """Record a consent decision through the API; return the Authorization header."""
    chosen = {"recommendations": True, "profile": False, "email": False, "sms": False, **purposes}
    response = client.post(f"/api/v1/m/{slug}/consents", json={"purposes": chosen})
    assert response.status_code == 201, response.json
    return {"Authorization": "Bearer " + response.json["subject_token"]}


def make_merchant(app: Flask, slug: str, name: str | None = None) -> NewMerchant:
    """Create a merchant (default quiz, admin login, API key) through the service."""
    from quiz import merchants
    from quiz.platform.db import transaction

    with app.app_context(), transaction():
        return merchants.create(slug, name or slug.title(), password="correct horse battery")


def wait_for_import(client: FlaskClient, key: str, import_id: str, timeout_s: float = 120) -> dict[str, Any]:
    """Poll an import through the API until it is done or failed."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = client.get(f"/api/v1/catalog/imports/{import_id}", headers=bearer(key)).json
        if status["status"] in ("done", "failed"):
            return status
        time.sleep(0.2)
    raise AssertionError(f"import {import_id} did not finish in {timeout_s} s")


def bearer(key: str) -> dict[str, str]:
    """Return an Authorization header."""
    return {"Authorization": "Bearer " + key}


def upload(client: FlaskClient, key: str, name: str, data: bytes, **fields: str) -> Any:
    """POST a catalog file to the merchant API."""
    return client.post(
        "/api/v1/catalog/imports",
        data={"file": (io.BytesIO(data), name), **fields},
        headers=bearer(key),
        content_type="multipart/form-data",
    )
