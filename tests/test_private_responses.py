"""What responses say about themselves (issue 14): no-store where they hold personal data or
secrets, and no server or Python version in ``Server``.

The no-store walk requests each page and API answer the issue names, with real data behind it
(a shopper's privacy token and profile, a webhook's secret, a new API key, an export), and
checks the header there, rather than trusting quiz.security's own list.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from quiz import merchants
from quiz.merchants import accounts, api_keys
from quiz.models import AdminUser, ApiKey
from quiz.platform.db import transaction
from quiz.platform.security import NO_STORE_ENDPOINTS

from .conftest import csrf_token
from .helpers import bearer, full_answers
from .test_admin import PASSWORD, log_in
from .test_shopper_pages import privacy_link_after_quiz

ADMIN_EMAIL = "no-store@demo.example"


@pytest.fixture
def demo_admin(app: Flask) -> Iterator[str]:
    """An API key and an admin login of the demo merchant (whose shoppers have profiles); removed after."""
    with app.app_context(), transaction():
        demo = merchants.get_by_slug("demo")
        assert demo is not None
        row, key = api_keys.issue(demo)
        accounts.create_admin(demo, ADMIN_EMAIL, PASSWORD)
        key_id = row.id
    yield key
    with app.app_context(), transaction() as session:
        session.execute(sa.delete(ApiKey).where(ApiKey.merchant_id == demo.id, ApiKey.id >= key_id))
        session.execute(sa.delete(AdminUser).where(AdminUser.email == ADMIN_EMAIL))


def test_every_response_with_personal_data_or_secrets_is_no_store(app: Flask, demo_admin: str) -> None:
    shopper = app.test_client()
    token = privacy_link_after_quiz(shopper).removeprefix("/privacy/")
    api = app.test_client()
    key = bearer(demo_admin)
    consent = api.post("/api/v1/m/demo/consents", json={"purposes": {"recommendations": True, "profile": True}})
    auth = {"Authorization": "Bearer " + consent.json["subject_token"]}
    saved = api.post("/api/v1/m/demo/responses", json={"answers": full_answers(), "first_name": "Ada"}, headers=auth)
    assert saved.status_code == 201, saved.json
    profile_id = saved.json["profile_id"]
    hook = api.post("/api/v1/webhooks", json={"url": "https://hooks.example.com/in"}, headers=key)
    assert hook.status_code == 201, hook.json
    admin = app.test_client()
    assert log_in(admin, ADMIN_EMAIL).status_code == 302
    keys_page = admin.get("/admin/keys").get_data(as_text=True)
    campaigns_page = admin.get("/admin/campaigns").get_data(as_text=True)

    answers = {
        "consent (subject token)": consent,
        "privacy page": shopper.get(f"/privacy/{token}"),
        "privacy export": shopper.get(f"/privacy/{token}/export.json"),
        "consent receipt": shopper.get(f"/privacy/{token}/receipt"),
        "consent receipt (JSON)": shopper.get(f"/privacy/{token}/receipt.json"),
        "again link in another browser (confirm step)": app.test_client().get(f"/privacy/{token}/again"),
        "GET /api/v1/me": api.get("/api/v1/me", headers=auth),
        "profiles (API)": api.get("/api/v1/profiles", headers=key),
        "a profile (API)": api.get(f"/api/v1/profiles/{profile_id}", headers=key),
        "profiles (admin)": admin.get("/admin/profiles"),
        "a profile (admin)": admin.get(f"/admin/profiles/{profile_id}"),
        "new webhook (its secret)": hook,
        "webhooks (API)": api.get("/api/v1/webhooks", headers=key),
        "webhooks (admin)": admin.get("/admin/webhooks"),
        "API keys (admin)": admin.get("/admin/keys"),
        "new API key (admin, shown once)": admin.post("/admin/keys", data={"csrf_token": csrf_token(keys_page)}),
        "campaign export (API)": api.get("/api/v1/campaigns/export?channel=email", headers=key),
        "campaign export (admin)": admin.post(
            "/admin/campaigns",
            data={"csrf_token": csrf_token(campaigns_page), "channel": "email", "format": "csv", "products": "3"},
        ),
    }
    shown = answers["new API key (admin, shown once)"].get_data(as_text=True)
    assert re.search(r"atk_[\w-]{20,}", shown), "the new key page shows the key"
    problems = [
        f"{name}: {response.status_code} {response.headers.get('Cache-Control')!r}"
        for name, response in answers.items()
        if response.status_code >= 300 or response.headers.get("Cache-Control") != "no-store"
    ]
    assert problems == []


def test_public_answers_may_be_cached(client: FlaskClient) -> None:
    """The list is not "everything": the public quiz and the OpenAPI document carry no personal data."""
    for path in ("/api/v1/m/demo/quiz", "/api/v1/openapi.json", "/healthz"):
        response = client.get(path)
        assert response.status_code == 200 and "no-store" not in response.headers.get("Cache-Control", ""), path


def test_every_no_store_endpoint_exists(app: Flask) -> None:
    """A renamed view would silently lose the header: every name in the list must be a route."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    blueprints = {endpoint.partition(".")[0] + "." for endpoint in endpoints}
    missing = [name for name in NO_STORE_ENDPOINTS if name not in endpoints and name not in blueprints]
    assert missing == []


def test_the_development_server_names_no_versions(live_server: str) -> None:
    """``make run`` serves through Werkzeug's server, which would send ``Werkzeug/3.x Python/3.x``."""
    for path in ("/healthz", "/m/demo/", "/api/v1/nowhere", "/static/js/quiz.js"):
        try:
            with urllib.request.urlopen(live_server + path, timeout=30) as response:
                servers = response.headers.get_all("Server")
        except urllib.error.HTTPError as exc:
            servers = exc.headers.get_all("Server")
        assert servers == ["Attune"], (path, servers)
