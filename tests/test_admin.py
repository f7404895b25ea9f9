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
from quiz.merchants.accounts import DEFAULT_HASH_METHOD
from quiz.models import AdminUser
from quiz.platform.db import get_session

from .conftest import _clean, csrf_token
from .helpers import bearer, make_merchant, upload, wait_for_import

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
    preview = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Preview of tea.csv" in preview and "Tea Tin" in preview and "Tea Pot is" not in preview
    response = client.post(response.headers["Location"] + "/confirm", data={"csrf_token": csrf_token(preview)})
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


def test_an_upload_is_previewed_then_confirmed_or_cancelled(app: Flask, client: FlaskClient) -> None:
    from quiz.catalog import previews as import_previews

    shop = make_merchant(app, "previewer")
    log_in(client, shop.admin_email)
    page = client.get("/admin/imports").get_data(as_text=True)
    sheet = b"name,sku,price,link\nTea Tin,T-1,9.5,https://shop.test/tin\nTea Pot,,oops,https://shop.test/pot\n"

    def send() -> str:
        form = {"csrf_token": csrf_token(page), "file": (io.BytesIO(sheet), "tea.csv"), "format": "", "mode": "upsert"}
        response = client.post("/admin/imports", data=form, content_type="multipart/form-data")
        assert response.status_code == 302
        return response.headers["Location"]

    preview_url = send()
    preview = client.get(preview_url).get_data(as_text=True)
    assert "generic csv" in preview and "Import 1 product<" in preview
    assert "no id column" in preview and "id (derived from SKU)" in preview
    assert re.search(r'<td class="num">3</td><td>price</td>', preview)
    with app.app_context():
        assert len(list(import_previews.held_folder().iterdir())) == 2, "the file and its note wait in the instance"
    assert client.get("/api/v1/products", headers=bearer(shop.api_key)).json["total"] == 0, "nothing imported yet"

    cancelled = client.post(preview_url + "/cancel", data={"csrf_token": csrf_token(preview)}, follow_redirects=True)
    assert "tea.csv was not imported; nothing changed." in cancelled.get_data(as_text=True)
    assert client.get(preview_url).status_code == 404
    with app.app_context():
        assert not list(import_previews.held_folder().iterdir()), "cleaned up"

    preview_url = send()
    preview = client.get(preview_url).get_data(as_text=True)
    done = client.post(preview_url + "/confirm", data={"csrf_token": csrf_token(preview)})
    assert done.status_code == 302 and "/admin/imports/" in done.headers["Location"]
    with app.app_context():
        assert not list(import_previews.held_folder().iterdir()), "cleaned up after the confirm"
    import_id = done.headers["Location"].rsplit("/", 1)[1]
    status = wait_for_import(client, shop.api_key, import_id)
    assert status["status"] == "done" and status["summary"]["created"] == 1
    detail = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "no id column" in detail
    # Words a shop owner reads once it is done: no rate, no "ETA – s", no "embedded".
    assert "1 new product, ready for shoppers" in detail and "1 row skipped" in detail
    assert "ETA" not in detail and "– s" not in detail and "per second" not in detail and "embedded" not in detail
    assert client.post(preview_url + "/confirm", data={"csrf_token": csrf_token(preview)}).status_code == 404


def test_held_uploads_older_than_an_hour_are_removed(app: Flask) -> None:
    import os
    import time as clock

    from quiz import merchants
    from quiz.catalog import previews as import_previews

    make_merchant(app, "forgetful")
    with app.app_context():
        merchant = merchants.get_by_slug("forgetful")
        held, _ = import_previews.hold(merchant, b"id,title\n1,Mug\n", "mug.csv", None, "upsert")
        old = clock.time() - import_previews.MAX_AGE_S - 60
        for path in (held.path, import_previews.held_folder() / f"{held.token}.json"):
            os.utime(path, (old, old))
        fresh, _ = import_previews.hold(merchant, b"id,title\n2,Cup\n", "cup.csv", None, "upsert")
        assert import_previews.find(merchant, held.token) is None
        assert import_previews.find(merchant, fresh.token) is not None


def test_a_new_merchants_overview_has_a_first_run_checklist_that_follows_what_they_do(
    app: Flask, client: FlaskClient
) -> None:
    from .helpers import full_answers, grant

    shop = make_merchant(app, "firstrun")
    log_in(client, shop.admin_email)
    shopper = app.test_client()
    site = "https://shop.firstrun.example"

    def steps() -> dict[str, str]:
        page = client.get("/admin/").get_data(as_text=True)
        return {key: state for state, key in re.findall(r'<li class="(done|todo)" data-step="(\w+)"', page)}

    assert steps() == dict.fromkeys(("catalog", "quiz", "partners", "snippet", "shopper"), "todo")
    assert "0 of 5 done" in client.get("/admin/").get_data(as_text=True)

    job = upload(client, shop.api_key, "c.csv", b"id,title,price\nK1,Kettle,20\nK2,Teapot,25\n")
    assert wait_for_import(client, shop.api_key, job.json["id"])["status"] == "done"
    assert steps()["catalog"] == "done"

    page = client.get("/admin/").get_data(as_text=True)
    client.post("/admin/first-run/quiz-reviewed", data={"csrf_token": csrf_token(page)})
    assert steps()["quiz"] == "done"

    framed = {"Sec-Fetch-Dest": "iframe"}
    assert shopper.get(f"/w/firstrun/?origin={site}", headers=framed).status_code == 403
    assert steps()["snippet"] == "todo", "a load from a site not allowed is not the snippet working"
    assert (
        client.put("/api/v1/widget/origins", json={"origins": [site]}, headers=bearer(shop.api_key)).status_code == 200
    )
    assert steps()["partners"] == "done"
    assert shopper.get(f"/w/firstrun/?origin={site}", headers=framed).status_code == 200
    assert steps()["snippet"] == "done"

    auth = grant(shopper, "firstrun")
    finished = shopper.post("/api/v1/m/firstrun/responses", json={"answers": full_answers()}, headers=auth)
    assert finished.status_code == 201, finished.json
    assert "Getting started" not in client.get("/admin/").get_data(as_text=True), "all done: the checklist goes"


def test_products_are_searched_by_title_filtered_and_newest_import_first(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "browser")
    log_in(client, shop.admin_email)
    first = (
        "id,title,price,category,in_stock,image\n"
        "S1,Rain Shell,90,Clothing > Jackets,yes,https://cdn.shop.test/s1.jpg\n"
        "S2,Wool Hat,20,Clothing > Hats,no,\n"
        "S3,Tent 100% waterproof,300,Camping,yes,\n"
    )
    wait_for_import(client, shop.api_key, upload(client, shop.api_key, "a.csv", first.encode()).json["id"])
    later = "id,title,price,category\nS4,Camp Stove,45,Camping\n"
    wait_for_import(client, shop.api_key, upload(client, shop.api_key, "b.csv", later.encode()).json["id"])

    def titles(query: str = "") -> list[str]:
        page = client.get("/admin/products" + query).get_data(as_text=True)
        return re.findall(r'<td class="title">(?:<a [^>]*>)?([^<]+?)(?:</a>)?</td>', page)

    assert titles()[0] == "Camp Stove", "the newest import comes first"
    assert titles("?q=rain+SHELL") == ["Rain Shell"]
    assert titles("?q=100%25") == ["Tent 100% waterproof"], "a % in the search is a character, not a wildcard"
    assert titles("?q=_") == []
    assert sorted(titles("?category=Clothing")) == ["Rain Shell", "Wool Hat"], "a category takes its subcategories"
    assert titles("?category=Clothing+%3E+Hats") == ["Wool Hat"]
    assert titles("?available=no") == ["Wool Hat"]
    assert sorted(titles("?available=yes&category=Camping")) == ["Camp Stove", "Tent 100% waterproof"]
    page = client.get("/admin/products?category=Camping").get_data(as_text=True)
    assert '<option value="Camping" selected>' in page and '<option value="Clothing &gt; Hats">' in page
    shell = client.get("/admin/products?q=shell").get_data(as_text=True)
    assert '<img class="thumb" src="https://cdn.shop.test/s1.jpg" alt=""' in shell
    assert "No products match." in client.get("/admin/products?q=zebra").get_data(as_text=True)


def test_the_navigation_marks_the_current_page_and_docs_references_are_links(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "navigator")
    log_in(client, shop.admin_email)

    def current(path: str) -> list[str]:
        page = client.get(path).get_data(as_text=True)
        return re.findall(r'<a href="[^"]+" aria-current="page">([^<]+)</a>', page)

    assert current("/admin/") == ["Overview"]
    assert current("/admin/imports") == ["Imports"]
    assert current("/admin/products?q=x") == ["Products"]
    assert current("/admin/segments") == ["Segments"]
    # Every reference to the docs in the admin is a link that opens the document.
    paths = ("/admin/", "/admin/imports", "/admin/mapping", "/admin/products", "/admin/segments", "/admin/widget")
    for path in paths:
        page = client.get(path).get_data(as_text=True)
        assert not re.search(r"(?<!href=\")docs/[a-z-]+\.md", page), path
    widget = client.get("/admin/widget").get_data(as_text=True)
    link = re.search(r'<a href="(/admin/docs/embedding)">', widget).group(1)
    doc = client.get(link)
    assert doc.status_code == 200 and "<h1>" in doc.get_data(as_text=True)
    catalog_doc = client.get("/admin/docs/catalog-import").get_data(as_text=True)
    assert "Files without an id column" in catalog_doc and "<table>" in catalog_doc
    assert client.get("/admin/docs/..%2FREADME").status_code == 404
    assert client.get("/admin/docs/nothing-here").status_code == 404
    client.post("/admin/logout", data={"csrf_token": csrf_token(client.get("/admin/").get_data(as_text=True))})
    assert client.get("/admin/docs/segments").status_code == 302, "docs are behind the login too"
