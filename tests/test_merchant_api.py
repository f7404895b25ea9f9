"""The merchant API: catalog imports from real exports, products, quiz publishing, keys."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from quiz.models import CatalogImport, Product
from quiz.platform.db import get_session

from . import supplier_catalog
from .conftest import SHARED_DATA, make_app
from .helpers import bearer, full_answers, grant, make_merchant, upload, wait_for_import

CATALOGS = SHARED_DATA / "catalogs"
needs_shared = pytest.mark.skipif(not CATALOGS.is_dir(), reason="../shared/data/catalogs is not beside the checkout")

GENERIC = (
    b"sku,name,price,link,category\n"
    b"A1,Trail Mug,12.50,https://shop.test/a1,Kitchen\n"
    b"A2,,9.00,https://shop.test/a2,Kitchen\n"
    b"A3,Camp Spork,cheap,https://shop.test/a3,Kitchen\n"
    b"A1,Trail Mug Again,12.50,https://shop.test/a1b,Kitchen\n"
    b"A4,Enamel Plate,8.00,not a url,Kitchen\n"
    b"A5,Titanium Pot,45.00,https://shop.test/a5,Cookware\n"
)


def count(app: Flask, model: type, **where: object) -> int:
    with app.app_context():
        query = sa.select(sa.func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return get_session().scalar(query)


@needs_shared
@pytest.mark.parametrize(
    ("path", "fmt", "products"),
    [
        ("shopify/apparel.csv", "shopify", 20),
        ("shopify/home-and-garden.csv", "shopify", 20),
        ("google_merchant/newluckypharma_google-merchant-feed.xml", "google_merchant", 60),
        ("woocommerce/classic-commerce_sample_products.csv", "woocommerce", 15),
    ],
)
def test_real_exports_import_and_become_searchable(
    app: Flask, client: FlaskClient, path: str, fmt: str, products: int
) -> None:
    shop = make_merchant(app, "real-" + fmt.replace("_", "-"))
    response = upload(client, shop.api_key, Path(path).name, (CATALOGS / path).read_bytes())
    assert response.status_code == 202, response.json
    assert response.json["format"] == fmt
    status = wait_for_import(client, shop.api_key, response.json["id"])
    assert status["status"] == "done", status
    assert status["summary"]["created"] == products and status["processed"] == status["total"]
    listed = client.get("/api/v1/products?limit=500", headers=bearer(shop.api_key)).json
    assert listed["total"] == products
    auth = grant(client, shop.merchant.slug)
    items = client.post(
        f"/api/v1/m/{shop.merchant.slug}/recommendations",
        json={"answers": {"looking_for": listed["items"][0]["title"]}},
        headers=auth,
    ).json["items"]
    assert items[0]["title"] == listed["items"][0]["title"]


def test_row_errors_are_reported_and_good_rows_imported(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "generic")
    response = upload(client, shop.api_key, "catalog.csv", GENERIC)
    assert response.status_code == 202
    status = wait_for_import(client, shop.api_key, response.json["id"])
    assert status["status"] == "done"
    problems = {(e["row"], e["field"]) for e in status["errors"]}
    assert {(3, "title"), (4, "price"), (5, "id"), (6, "url")} <= problems
    assert status["failed"] == 4
    titles = {p["title"] for p in client.get("/api/v1/products", headers=bearer(shop.api_key)).json["items"]}
    assert titles == {"Trail Mug", "Titanium Pot"}
    csv_text = client.get(f"/api/v1/catalog/imports/{status['id']}/errors.csv", headers=bearer(shop.api_key))
    assert csv_text.headers["Content-Disposition"].startswith("attachment")
    assert csv_text.get_data(as_text=True).splitlines()[0] == "row,field,message"


def test_not_a_catalog_is_rejected_and_changes_nothing(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "rejects")
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    for name, data in (("logo.png", png), ("empty.csv", b""), ("notes.csv", b"hello,world\n1,2\n")):
        response = upload(client, shop.api_key, name, data)
        assert response.status_code == 422, name
        assert response.json["error"] and response.json["fields"]["file"]
    missing = client.post("/api/v1/catalog/imports", headers=bearer(shop.api_key), data={})
    assert missing.status_code == 422 and "file" in missing.json["fields"]
    bad_mode = upload(client, shop.api_key, "c.csv", GENERIC, mode="replace")
    assert bad_mode.status_code == 422 and "mode" in bad_mode.json["fields"]
    bad_format = upload(client, shop.api_key, "c.csv", GENERIC, format="excel")
    assert bad_format.status_code == 422 and "format" in bad_format.json["fields"]
    assert count(app, CatalogImport, merchant_id=shop.merchant.id) == 0


def test_oversized_upload_is_413_json(database_url: str, instance_path: Path, demo_loaded: None) -> None:
    app = make_app(database_url, instance_path, MAX_CONTENT_LENGTH=2048)
    shop = make_merchant(app, "big")
    response = upload(app.test_client(), shop.api_key, "big.csv", GENERIC * 100)
    assert response.status_code == 413
    assert set(response.json) == {"error", "fields"}
    assert response.json["error"].startswith("The upload is larger than the ")
    assert response.json["fields"]["file"] == [response.json["error"]]
    from .conftest import _clean

    _clean(app)


def test_full_mode_retires_missing_products_and_upsert_keeps_them(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "modes")
    first = b"id,title,price\nP1,Red Kettle,20\nP2,Blue Kettle,22\nP3,Green Kettle,24\n"
    wait_for_import(client, shop.api_key, upload(client, shop.api_key, "a.csv", first).json["id"])
    upsert = b"id,title,price\nP1,Red Kettle,19\n"
    status = wait_for_import(client, shop.api_key, upload(client, shop.api_key, "b.csv", upsert).json["id"])
    assert status["summary"]["updated"] == 1 and status["summary"]["embedded"] == 0
    assert count(app, Product, merchant_id=shop.merchant.id, available=True) == 3
    full = wait_for_import(client, shop.api_key, upload(client, shop.api_key, "c.csv", upsert, mode="full").json["id"])
    assert full["summary"]["deactivated"] == 2
    assert count(app, Product, merchant_id=shop.merchant.id, available=True) == 1


def test_api_key_is_required_and_revocation_is_immediate(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "keys")
    assert client.get("/api/v1/products").status_code == 401
    assert client.get("/api/v1/products", headers=bearer("atk_wrong")).status_code == 401
    assert client.get("/api/v1/products", headers=bearer(shop.api_key)).status_code == 200
    from quiz.merchants import api_keys
    from quiz.platform.db import transaction

    with app.app_context(), transaction():
        [key] = api_keys.list_keys(shop.merchant)
        api_keys.revoke(key)
    assert client.get("/api/v1/products", headers=bearer(shop.api_key)).status_code == 401


def test_publishing_a_quiz_checks_it_and_versions_it(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "quizzer")
    current = client.get("/api/v1/quiz", headers=bearer(shop.api_key)).json
    definition = current["definition"]
    definition["title"] = "Find your tea"
    ok = client.put("/api/v1/quiz", json={"definition": definition}, headers=bearer(shop.api_key))
    assert ok.status_code == 200 and ok.json["version"] == 2
    definition["sections"][0]["questions"][1]["type"] = "dropdown"
    bad = client.put("/api/v1/quiz", json={"definition": definition}, headers=bearer(shop.api_key))
    assert bad.status_code == 422 and "sections[0].questions[1].type" in bad.json["fields"]
    live = client.get(f"/api/v1/m/{shop.merchant.slug}/quiz").json
    assert live["version"] == 2 and live["title"] == "Find your tea"


def test_profiles_api_lists_only_consented_profiles(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "profiles")
    wait_for_import(client, shop.api_key, upload(client, shop.api_key, "c.csv", GENERIC).json["id"])
    assert client.get("/api/v1/profiles", headers=bearer(shop.api_key)).json["total"] == 0
    kept = grant(client, "profiles", profile=True)
    not_kept = grant(client, "profiles")
    for auth in (kept, not_kept):
        response = client.post("/api/v1/m/profiles/responses", json={"answers": full_answers()}, headers=auth)
        assert response.status_code == 201
    listed = client.get("/api/v1/profiles", headers=bearer(shop.api_key)).json
    assert listed["total"] == 1
    [profile] = listed["items"]
    assert profile["answers"]["looking_for"] and profile["consents"]["profile"] is True
    assert "preference_embedding" not in profile
    detail = client.get(f"/api/v1/profiles/{profile['id']}", headers=bearer(shop.api_key)).json
    assert len(detail["preference_embedding"]) == 384


def test_full_sync_keeps_products_whose_rows_were_rejected(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "keepers")
    first = b"id,title,price\nK1,Kettle,20\nK2,Teapot,30\n"
    wait_for_import(client, shop.api_key, upload(client, shop.api_key, "a.csv", first).json["id"])
    broken = b"id,title,price\nK1,Kettle,21\nK2,Teapot,thirty\n"
    status = wait_for_import(
        client, shop.api_key, upload(client, shop.api_key, "b.csv", broken, mode="full").json["id"]
    )
    assert status["summary"]["deactivated"] == 0 and status["failed"] == 1
    assert count(app, Product, merchant_id=shop.merchant.id, available=True) == 2


def test_a_change_anywhere_in_a_product_is_saved(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "changes")
    long_text = "Sturdy enamel. " * 60
    first = f"id,title,description,tags\nM1,Mug,{long_text}end one,red\n".encode()
    wait_for_import(client, shop.api_key, upload(client, shop.api_key, "a.csv", first).json["id"])
    second = f'id,title,description,tags\nM1,Mug,{long_text}end two,"red, blue"\n'.encode()
    status = wait_for_import(client, shop.api_key, upload(client, shop.api_key, "b.csv", second).json["id"])
    assert status["summary"]["updated"] == 1
    [product] = client.get("/api/v1/products", headers=bearer(shop.api_key)).json["items"]
    assert product["description"].endswith("end two") and product["tags"] == ["red", "blue"]


def test_odd_paging_and_file_names_are_handled(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "oddities")
    huge = client.get("/api/v1/products?offset=99999999999999999999", headers=bearer(shop.api_key))
    assert huge.status_code == 422 and "offset" in huge.json["fields"]
    response = upload(client, shop.api_key, "../../etc/pass\x00wd.csv", GENERIC)
    assert response.status_code == 202 and response.json["filename"] == "passwd.csv"
    wait_for_import(client, shop.api_key, response.json["id"])


@needs_shared
def test_a_generated_quiz_follows_the_catalog_and_a_merchants_own_does_not(app: Flask, client: FlaskClient) -> None:
    pharma = make_merchant(app, "pharma")
    feed = (CATALOGS / "google_merchant/newluckypharma_google-merchant-feed.xml").read_bytes()
    wait_for_import(client, pharma.api_key, upload(client, pharma.api_key, "feed.xml", feed).json["id"])
    quiz = client.get("/api/v1/m/pharma/quiz").json
    [categories] = [q for s in quiz["sections"] for q in s["questions"] if q["id"] == "categories"]
    labels = [o["label"] for o in categories["options"]]
    assert labels[0] == "Any category" and "Health & Beauty" in labels
    assert "Jackets and outerwear" not in labels
    auth = grant(client, "pharma")
    answers = {"categories": [categories["options"][1]["value"]], "looking_for": "allergy relief"}
    items = client.post("/api/v1/m/pharma/recommendations", json={"answers": answers}, headers=auth).json["items"]
    assert items and all(i["category"].startswith(labels[1]) for i in items)

    own = make_merchant(app, "ownquiz")
    definition = client.get("/api/v1/quiz", headers=bearer(own.api_key)).json["definition"]
    client.put("/api/v1/quiz", json={"definition": definition}, headers=bearer(own.api_key))
    wait_for_import(client, own.api_key, upload(client, own.api_key, "feed.xml", feed).json["id"])
    assert client.get("/api/v1/m/ownquiz/quiz").json["version"] == 2, "the merchant's own quiz is left alone"


# --- catalogs as they come: derived ids, the mapping through the API, dry runs -------------------


@pytest.mark.skipif(not supplier_catalog.AVAILABLE, reason=supplier_catalog.SKIP_REASON)
def test_supplier_file_without_ids_imports_and_a_second_import_updates_it(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "supplier")
    data = supplier_catalog.supplier_csv()
    rows = len(supplier_catalog.supplier_rows())
    first = wait_for_import(client, shop.api_key, upload(client, shop.api_key, "supplier.csv", data).json["id"])
    assert first["status"] == "done", first
    assert first["summary"]["created"] == rows and first["failed"] == 0
    (warning,) = first["warnings"]
    assert "no id column" in warning and "from the SKU" in warning
    # The supplier changes one price and sends the same sheet again: updated, not duplicated.
    changed = data.replace(b"\r\nBeanie;cc-beanie;20;", b"\r\nBeanie;cc-beanie;17;")
    assert changed != data
    second = wait_for_import(client, shop.api_key, upload(client, shop.api_key, "supplier.csv", changed).json["id"])
    assert second["status"] == "done", second
    assert (second["summary"]["created"], second["summary"]["updated"]) == (0, 1)
    assert count(app, Product, merchant_id=shop.merchant.id) == rows


def test_mapping_is_read_and_set_through_the_api_and_used_by_imports(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "mapper")
    auth = bearer(shop.api_key)
    assert client.get("/api/v1/catalog/mapping", headers=auth).json == {
        "mapping": {},
        "fields": [
            "id",
            "title",
            "description",
            "brand",
            "category",
            "tags",
            "price",
            "currency",
            "url",
            "image_url",
            "available",
        ],
    }
    bad = client.put(
        "/api/v1/catalog/mapping",
        headers=auth,
        json={"mapping": {"title": "Bezeichnung", "colour": "Farbe", "price": 3}},
    )
    assert bad.status_code == 422
    assert set(bad.json["fields"]) == {"mapping.colour", "mapping.price"}
    assert "Unknown product field" in bad.json["fields"]["mapping.colour"][0]
    assert client.get("/api/v1/catalog/mapping", headers=auth).json["mapping"] == {}, "nothing changed"
    assert client.put("/api/v1/catalog/mapping", headers=auth, json={"colour": "x"}).status_code == 422

    saved = client.put(
        "/api/v1/catalog/mapping",
        headers=auth,
        json={"mapping": {"title": " Bezeichnung ", "price": "Preis", "id": "Artikel", "brand": ""}},
    )
    assert saved.status_code == 200
    assert saved.json["mapping"] == {"id": "Artikel", "title": "Bezeichnung", "price": "Preis"}
    sheet = b"Artikel;Bezeichnung;Preis\nK-1;Kaffeebecher;7,50\nK-2;Teekanne;19,00\n"
    status = wait_for_import(client, shop.api_key, upload(client, shop.api_key, "lieferant.csv", sheet).json["id"])
    assert status["status"] == "done" and status["warnings"] == []
    items = client.get("/api/v1/products", headers=auth).json["items"]
    expected = {("K-1", "Kaffeebecher", 7.5), ("K-2", "Teekanne", 19.0)}
    assert {(p["id"], p["title"], p["price"]) for p in items} == expected
    # The admin's mapping page shows the mapping the API set: one stored mapping.
    with app.app_context():
        from quiz import merchants

        assert merchants.get_by_slug("mapper").column_mapping == saved.json["mapping"]


def test_dry_run_previews_and_changes_nothing(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "dryrun")
    first = upload(client, shop.api_key, "first.csv", b"id,title,price\nA5,Old Pot,40\n")
    wait_for_import(client, shop.api_key, first.json["id"])
    rows = "".join(f"P{n},Pan number {n},{n}.50,https://shop.test/p{n},Cookware\n" for n in range(30))
    data = GENERIC + rows.encode()
    mine = shop.merchant.id
    before = (count(app, CatalogImport, merchant_id=mine), count(app, Product, merchant_id=mine))
    with app.app_context():
        from quiz.catalog.imports import upload_folder

        files_before = set(upload_folder().iterdir())
    response = upload(client, shop.api_key, "catalog.csv", data, dry_run="true", mode="full")
    assert response.status_code == 200, response.json
    preview = response.json
    assert preview["dry_run"] is True and preview["format"] == "generic_csv"
    assert preview["mapping"]["title"] == "name" and preview["mapping"]["url"] == "link"
    assert preview["mapping"]["id_from_sku"] == "sku"
    assert len(preview["products"]) == 20
    assert preview["products"][0] == {
        "id": "A1", "title": "Trail Mug", "description": "", "brand": "", "category": "Kitchen", "tags": [],
        "price": 12.5, "currency": "USD", "url": "https://shop.test/a1", "image_url": "", "available": True,
        "attributes": {},
    }  # fmt: skip
    assert {(e["row"], e["field"]) for e in preview["errors"]} >= {(3, "title"), (4, "price"), (5, "id"), (6, "url")}
    assert (preview["total"], preview["valid"], preview["failed"]) == (36, 32, 4)
    assert preview["changes"] == {"created": 31, "updated": 1, "unchanged": 0, "deactivated": 0}
    assert preview["warnings"] and "no id column" in preview["warnings"][0]
    after = (count(app, CatalogImport, merchant_id=mine), count(app, Product, merchant_id=mine))
    assert after == before
    with app.app_context():
        assert set(upload_folder().iterdir()) == files_before, "a dry run keeps no file"
    refused = upload(client, shop.api_key, "logo.png", b"\x89PNG\r\n\x1a\n", dry_run="true")
    assert refused.status_code == 422 and refused.json["fields"]["file"]
    assert upload(client, shop.api_key, "c.csv", data, dry_run="maybe").status_code == 422
