"""Commands: merchant creation, index rebuild, demo loading."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner

from quiz.db import get_session
from quiz.models import ApiKey, Merchant, QuizDefinition


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
