"""Merchant A can neither read nor change merchant B's data, through any page or endpoint (404s)."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from quiz import merchants
from quiz.merchants import api_keys

from .conftest import csrf_token
from .helpers import bearer, full_answers, grant, make_merchant, upload, wait_for_import
from .test_admin import log_in

CSV = b"id,title,price\nB1,Bamboo Cup,7\nB2,Bamboo Plate,9\n"


def test_one_merchant_cannot_reach_anothers_data(app: Flask, client: FlaskClient) -> None:
    alpha = make_merchant(app, "alpha")
    bravo = make_merchant(app, "bravo")
    b_key = bravo.api_key
    with app.app_context():
        [b_key_row] = api_keys.list_keys(merchants.get_by_slug("bravo"))
        b_key_id = b_key_row.id
    # Bravo gets an import and a stored profile.
    b_import = wait_for_import(client, b_key, upload(client, b_key, "b.csv", CSV).json["id"])
    auth = grant(client, "bravo", profile=True)
    b_profile = client.post("/api/v1/m/bravo/responses", json={"answers": full_answers()}, headers=auth).json
    assert b_profile["profile_id"]

    a = bearer(alpha.api_key)
    for path in (
        f"/api/v1/catalog/imports/{b_import['id']}",
        f"/api/v1/catalog/imports/{b_import['id']}/errors.csv",
        f"/api/v1/profiles/{b_profile['profile_id']}",
    ):
        response = client.get(path, headers=a)
        assert response.status_code == 404, path
    assert client.get("/api/v1/products", headers=a).json["total"] == 0
    assert client.get("/api/v1/profiles", headers=a).json["total"] == 0
    assert client.get("/api/v1/catalog/imports", headers=a).json["items"] == []
    definition = client.get("/api/v1/quiz", headers=a).json["definition"]
    definition["title"] = "Alpha only"
    assert client.put("/api/v1/quiz", json={"definition": definition}, headers=a).json["version"] == 2
    assert client.get("/api/v1/m/bravo/quiz").json["title"] == "Find your gear"

    log_in(client, alpha.admin_email)
    for path in (
        f"/admin/imports/{b_import['id']}",
        f"/admin/imports/{b_import['id']}/status.json",
        f"/admin/imports/{b_import['id']}/errors.csv",
    ):
        assert client.get(path).status_code == 404, path
    page = client.get("/admin/keys").get_data(as_text=True)
    assert b_key[:12] not in page
    revoke = client.post(f"/admin/keys/{b_key_id}/revoke", data={"csrf_token": csrf_token(page)})
    assert revoke.status_code == 404
    assert client.get("/api/v1/products", headers=bearer(b_key)).json["total"] == 2
    products_page = client.get("/admin/products").get_data(as_text=True)
    assert "Bamboo Cup" not in products_page and not re.search(r"TS-\d{4}", products_page)
