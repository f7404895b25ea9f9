"""Small helpers shared by the tests (answers a shopper would give, consent tokens)."""

from __future__ import annotations

import io
import time
from typing import TYPE_CHECKING, Any

from flask import Flask
from flask.testing import FlaskClient

if TYPE_CHECKING:
    from quiz.merchants import NewMerchant

NEED = "lightweight waterproof jacket for hiking"


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
    from quiz.db import transaction

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
