"""Merchant admin pages: login, throttling, uploads with live progress, keys, mapping."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from quiz.accounts import DEFAULT_HASH_METHOD
from quiz.db import get_session
from quiz.models import AdminUser

from .conftest import _clean, csrf_token
from .helpers import bearer, make_merchant

PASSWORD = "correct horse battery"


def log_in(client: FlaskClient, email: str, password: str = PASSWORD, next_path: str = ""):
    page = client.get("/admin/login").get_data(as_text=True)
    return client.post(
        "/admin/login" + next_path, data={"csrf_token": csrf_token(page), "email": email, "password": password}
    )


def test_admin_pages_need_a_login(app: Flask, client: FlaskClient) -> None:
    for path in ("/admin/", "/admin/imports", "/admin/keys", "/admin/mapping", "/admin/products"):
        response = client.get(path)
        assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_login_logout_and_cookie_flags(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "adminshop")
    wrong = log_in(client, shop.admin_email, "not the password")
    assert wrong.status_code == 401 and "Wrong email or password." in wrong.get_data(as_text=True)
    ok = log_in(client, shop.admin_email)
    assert ok.status_code == 302 and ok.headers["Location"] == "/admin/"
    cookie = ok.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert "Adminshop" in dashboard and "Products" in dashboard
    logout = client.post("/admin/logout", data={"csrf_token": csrf_token(dashboard)})
    assert logout.status_code == 302
    assert client.get("/admin/").status_code == 302


def test_passwords_are_stored_as_owasp_grade_scrypt_hashes(
    database_url: str, instance_path: Path, demo_loaded: None
) -> None:
    production = create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(instance_path), "TESTING": True})
    shop = make_merchant(production, "owasp")
    with production.app_context():
        stored = get_session().scalar(sa.select(AdminUser.password_hash).where(AdminUser.email == shop.admin_email))
    assert stored.startswith(DEFAULT_HASH_METHOD + "$") and DEFAULT_HASH_METHOD == "scrypt:131072:8:1"
    assert "correct horse battery" not in stored
    _clean(production)


def test_login_is_throttled_after_repeated_failures(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "throttled")
    for _ in range(5):
        assert log_in(client, shop.admin_email, "wrong password!").status_code == 401
    blocked = log_in(client, shop.admin_email)
    assert blocked.status_code == 429 and "Too many failed attempts" in blocked.get_data(as_text=True)


def test_next_parameter_cannot_send_the_admin_elsewhere(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "redirects")
    response = log_in(client, shop.admin_email, next_path="?next=//evil.example/x")
    assert response.headers["Location"] == "/admin/"


def test_upload_through_the_page_shows_progress_and_row_errors(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "uploader")
    log_in(client, shop.admin_email)
    page = client.get("/admin/imports").get_data(as_text=True)
    csv = b"id,title,price\nT1,Tea Tin,9.5\nT2,,3\nT3,Tea Pot,oops\nT4,Tea Cup,4\n"
    response = client.post(
        "/admin/imports",
        data={"csrf_token": csrf_token(page), "file": (io.BytesIO(csv), "tea.csv"), "format": "", "mode": "upsert"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    detail_url = response.headers["Location"]
    status_url = detail_url + "/status.json"
    deadline = time.monotonic() + 60
    while client.get(status_url).json["status"] not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.2)
    status = client.get(status_url).json
    assert status["status"] == "done" and status["percent"] == 100.0
    detail = client.get(detail_url).get_data(as_text=True)
    assert "<progress" in detail and "2 rows skipped" in detail
    assert re.search(r"<td class=\"num\">3</td><td>title</td>", detail)
    errors_csv = client.get(detail_url + "/errors.csv").get_data(as_text=True)
    assert errors_csv.splitlines()[1].startswith("3,title,")
    history = client.get("/admin/imports").get_data(as_text=True)
    assert "tea.csv" in history and "done" in history


def test_a_non_catalog_upload_gets_an_inline_error(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "inline")
    log_in(client, shop.admin_email)
    page = client.get("/admin/imports").get_data(as_text=True)
    response = client.post(
        "/admin/imports",
        data={"csrf_token": csrf_token(page), "file": (io.BytesIO(b"\x89PNG\r\n"), "x.png"), "mode": "upsert"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert 'class="error" id="file-error"' in response.get_data(as_text=True)


def test_keys_are_listed_by_prefix_rotated_and_revoked(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "keyring")
    log_in(client, shop.admin_email)
    page = client.get("/admin/keys").get_data(as_text=True)
    assert shop.api_key[:12] in page and shop.api_key not in page
    key_id = re.search(r"/admin/keys/(\d+)/rotate", page).group(1)
    rotated = client.post(f"/admin/keys/{key_id}/rotate", data={"csrf_token": csrf_token(page)})
    new_key = re.search(r"(atk_[A-Za-z0-9_-]{40,})", rotated.get_data(as_text=True))
    assert rotated.status_code == 200 and new_key is not None
    assert new_key.group(1) not in client.get("/admin/keys").get_data(as_text=True), "shown once"
    assert new_key.group(1) not in rotated.headers.get("Set-Cookie", ""), "never put in the session cookie"
    assert client.get("/api/v1/products", headers=bearer(shop.api_key)).status_code == 401
    assert client.get("/api/v1/products", headers=bearer(new_key.group(1))).status_code == 200
    page = client.get("/admin/keys").get_data(as_text=True)
    new_id = re.search(r"/admin/keys/(\d+)/revoke", page).group(1)
    client.post(f"/admin/keys/{new_id}/revoke", data={"csrf_token": csrf_token(page)})
    assert client.get("/api/v1/products", headers=bearer(new_key.group(1))).status_code == 401


def test_forms_without_csrf_token_are_refused(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "csrf")
    log_in(client, shop.admin_email)
    assert client.post("/admin/keys", data={}).status_code == 400
    assert client.post("/admin/mapping", data={"title": "name"}).status_code == 400


def test_column_mapping_is_remembered_and_used(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "mapper")
    log_in(client, shop.admin_email)
    page = client.get("/admin/mapping").get_data(as_text=True)
    saved = client.post(
        "/admin/mapping",
        data={"csrf_token": csrf_token(page), "id": "Art.Nr", "title": "Bezeichnung", "price": "Preis EUR"},
    )
    assert saved.status_code == 302
    assert 'value="Bezeichnung"' in client.get("/admin/mapping").get_data(as_text=True)
    german = b"Art.Nr;Bezeichnung;Preis EUR\nK-1;Wanderstock;39,90\n"
    response = client.post(
        "/api/v1/catalog/imports",
        data={"file": (io.BytesIO(german), "artikel.csv")},
        headers=bearer(shop.api_key),
        content_type="multipart/form-data",
    )
    assert response.status_code == 202, response.json
    from .helpers import wait_for_import

    status = wait_for_import(client, shop.api_key, response.json["id"])
    assert status["status"] == "done"
    [product] = client.get("/api/v1/products", headers=bearer(shop.api_key)).json["items"]
    assert (product["id"], product["title"], product["price"]) == ("K-1", "Wanderstock", 39.9)
