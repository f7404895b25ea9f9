"""Commands: merchant creation, index rebuild, demo loading."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner

from quiz.catalog.engine import to_item
from quiz.models import ApiKey, Merchant, Product, QuizDefinition
from quiz.platform.db import get_session, transaction
from recommender import document_hash, item_document

from . import supplier_catalog


def test_merchant_create_prints_the_key_once_and_stores_only_its_hash(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["merchant", "create", "acme-outdoor", "--name", "Acme Outdoor"])
    assert result.exit_code == 0, result.output
    [key_line] = [line for line in result.output.splitlines() if line.startswith("api_key: ")]
    key = key_line.removeprefix("api_key: ")
    with app.app_context():
        session = get_session()
        merchant = session.scalar(sa.select(Merchant).where(Merchant.slug == "acme-outdoor"))
        stored = session.scalars(sa.select(ApiKey).where(ApiKey.merchant_id == merchant.id)).one()
        assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
        assert key not in str(stored.__dict__)
        quiz = session.scalars(sa.select(QuizDefinition).where(QuizDefinition.merchant_id == merchant.id)).one()
        assert quiz.version == 1


def test_merchant_create_refuses_bad_and_duplicate_slugs(runner: FlaskCliRunner) -> None:
    bad = runner.invoke(args=["merchant", "create", "Not A Slug", "--name", "X"])
    assert bad.exit_code != 0 and "slug must be" in bad.output
    duplicate = runner.invoke(args=["merchant", "create", "demo", "--name", "Again"])
    assert duplicate.exit_code != 0
    assert duplicate.output.strip().splitlines()[-1] == "Error: a merchant with slug 'demo' already exists"


def test_index_rebuild_activates_a_new_version_without_reembedding(app: Flask, runner: FlaskCliRunner) -> None:
    with app.app_context():
        before = get_session().scalar(sa.select(Merchant.active_index).where(Merchant.slug == "demo"))
    result = runner.invoke(args=["index", "rebuild", "--merchant", "demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        after = get_session().scalar(sa.select(Merchant.active_index).where(Merchant.slug == "demo"))
    assert after != before and after in result.output
    client = app.test_client()
    token = client.post("/api/v1/m/demo/consents", json={"purposes": {"recommendations": True}}).json
    response = client.post(
        "/api/v1/m/demo/recommendations",
        json={"answers": {"looking_for": "yoga mat"}},
        headers={"Authorization": "Bearer " + token["subject_token"]},
    )
    assert "Yoga" in response.json["items"][0]["category"]


def test_index_rebuild_after_a_model_change_embeds_again_once_and_says_so(app: Flask, runner: FlaskCliRunner) -> None:
    """Products embedded before issue 16 (MiniLM alone, its hash) get both models' vectors, once."""
    with app.app_context(), transaction():
        session = get_session()
        demo = session.scalar(sa.select(Merchant).where(Merchant.slug == "demo"))
        products = session.scalars(sa.select(Product).where(Product.merchant_id == demo.id)).all()
        for product in products:
            product.embedding = product.embedding[: 384 * 4]  # MiniLM's vector alone, as stored before
            product.content_hash = document_hash(item_document(to_item(product)))  # the hash of before
    result = runner.invoke(args=["index", "rebuild", "--merchant", "demo"])
    assert result.exit_code == 0, result.output
    assert f"embedded {len(products)} products again: they were embedded by another model" in result.output
    with app.app_context():
        stored = get_session().scalars(sa.select(Product.embedding).where(Product.merchant_id == demo.id)).all()
    assert {len(e) for e in stored} == {(384 + 512) * 4}, "each product holds both models' vectors"
    again = runner.invoke(args=["index", "rebuild", "--merchant", "demo"])
    assert again.exit_code == 0 and "embedded" not in again.output, again.output


def test_index_rebuild_of_unknown_merchant_fails_clearly(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["index", "rebuild", "--merchant", "ghost"])
    assert result.exit_code != 0 and "no merchant 'ghost'" in result.output


def test_demo_load_is_idempotent(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0 and "already loaded" in result.output


def test_catalog_import_shows_progress_and_a_summary(app: Flask, runner: FlaskCliRunner, tmp_path) -> None:
    from .helpers import make_merchant

    make_merchant(app, "clishop")
    catalog = tmp_path / "catalog.csv"
    catalog.write_text("id,title,price\nC1,Canvas Tote,25\nC2,,10\nC3,Cotton Cap,18\n")
    result = runner.invoke(args=["catalog", "import", "--merchant", "clishop", str(catalog)])
    assert result.exit_code == 0, result.output
    assert "Importing catalog.csv" in result.output
    assert result.output.strip().splitlines()[-1] == (
        "catalog.csv: generic_csv, 3 products: 2 new, 0 updated, 0 unchanged, 0 made unavailable, "
        "1 rows skipped (2 embedded)"
    )


def test_catalog_import_of_a_non_catalog_fails_with_one_line(app: Flask, runner: FlaskCliRunner, tmp_path) -> None:
    from .helpers import make_merchant

    make_merchant(app, "clifail")
    junk = tmp_path / "notes.txt"
    junk.write_text("dear diary\n")
    result = runner.invoke(args=["catalog", "import", "--merchant", "clifail", str(junk)])
    assert result.exit_code != 0
    [line] = result.output.strip().splitlines()
    assert line.startswith("Error: notes.txt: ")
    unknown = runner.invoke(args=["catalog", "import", "--merchant", "ghost", str(junk)])
    assert unknown.exit_code != 0 and "no merchant 'ghost'" in unknown.output


@pytest.mark.skipif(not supplier_catalog.AVAILABLE, reason=supplier_catalog.SKIP_REASON)
def test_catalog_import_dry_run_previews_then_the_import_warns_of_derived_ids(
    app: Flask, runner: FlaskCliRunner, tmp_path
) -> None:
    from .helpers import make_merchant

    make_merchant(app, "clisupplier")
    sheet = tmp_path / "supplier.csv"
    sheet.write_bytes(supplier_catalog.supplier_csv())
    rows = len(supplier_catalog.supplier_rows())
    dry = runner.invoke(args=["catalog", "import", "--merchant", "clisupplier", "--dry-run", str(sheet)])
    assert dry.exit_code == 0, dry.output
    lines = dry.output.strip().splitlines()
    assert lines[0] == "format: generic_csv"
    assert lines[1].startswith("mapping: title <- Product name, description <- Description, category <- Category")
    assert "id_from_sku <- SKU" in lines[1]
    assert lines[2] == "first 20 products:" and lines[3].startswith(
        "  cc-hoodie-with-logo  Hoodie with Pocket and Logo"
    )
    assert any(line.startswith("warning: The file has no id column") for line in lines)
    assert lines[-1] == (
        f"supplier.csv: dry run, nothing changed: {rows} products would give {rows} new, 0 updated, 0 unchanged, "
        "0 made unavailable, 0 rows skipped"
    )
    with app.app_context():
        mine = get_session().scalar(sa.select(Merchant.id).where(Merchant.slug == "clisupplier"))
        assert get_session().scalar(sa.select(sa.func.count()).where(Product.merchant_id == mine)) == 0

    result = runner.invoke(args=["catalog", "import", "--merchant", "clisupplier", str(sheet)])
    assert result.exit_code == 0, result.output
    *_, warning, summary = result.output.strip().splitlines()
    assert warning.startswith("warning: The file has no id column, so product ids were derived")
    assert summary.startswith(f"supplier.csv: generic_csv, {rows} products: {rows} new")
    again = runner.invoke(args=["catalog", "import", "--merchant", "clisupplier", str(sheet)])
    assert f"0 new, 0 updated, {rows} unchanged" in again.output.strip().splitlines()[-1]
    bad = runner.invoke(args=["catalog", "import", "--merchant", "clisupplier", "--dry-run", str(tmp_path)])
    assert bad.exit_code != 0
