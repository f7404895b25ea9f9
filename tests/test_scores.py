"""Predictive scores: measured on real invoices, stored per profile, shown where merchants work."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from quiz import merchants
from quiz.merchants import api_keys
from quiz.merchants.accounts import create_admin
from quiz.models import Order, Profile, ProfileScore, utcnow
from quiz.platform.db import get_session, transaction

from .helpers import bearer, full_answers, grant
from .test_admin import log_in

DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "orders" / "online-retail-dev" / "invoices.tsv"


def _lines(output: str) -> dict[str, dict[str, str]]:
    """Return ``METHOD key=value ...`` lines by method."""
    found = {}
    for line in output.strip().splitlines():
        method, *pairs = line.split()
        found[method] = dict(pair.split("=") for pair in pairs)
    return found


_DEV_RUNS: dict[str, dict[str, dict[str, str]]] = {}


def _dev_protocol(runner: FlaskCliRunner) -> dict[str, dict[str, str]]:
    """Return ``flask scores eval`` on the development protocol of the data's README (run once per session)."""
    if "lines" not in _DEV_RUNS:
        args = ["scores", "eval", "--orders", str(DEV), "--calibration-end", "2011-06-11", "--window-end", "2011-09-09"]
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
        _DEV_RUNS["lines"] = _lines(result.output)
    return _DEV_RUNS["lines"]


@pytest.mark.skipif(not DEV.exists(), reason="../shared/data/orders is not beside the checkout")
def test_eval_beats_the_baselines_on_the_development_protocol(runner: FlaskCliRunner) -> None:
    lines = _dev_protocol(runner)
    assert list(lines) == ["recency", "rfm", "rate", "production"]
    # The baselines as the data's README measured them: the protocol is the same.
    assert lines["recency"]["auc"] == "0.6687" and lines["rfm"]["auc"] == "0.7521"
    assert lines["rate"]["logloss"] == "0.6265" and lines["rate"]["mae_orders"] == "0.9416"
    production, rate = lines["production"], lines["rate"]
    # Ranks buyers better than RFM, better calibrated than the rate and far from a constant base rate.
    assert float(production["auc"]) > float(lines["rfm"]["auc"])
    assert float(production["logloss"]) < 0.627 and float(production["logloss"]) < float(rate["logloss"]) < 0.6923
    assert float(production["logloss"]) < 0.6923 - 0.05
    assert float(production["mae_orders"]) < float(rate["mae_orders"])
    assert float(production["mae_spend"]) < float(rate["mae_spend"])


@pytest.mark.skipif(not DEV.exists(), reason="../shared/data/orders is not beside the checkout")
@pytest.mark.xfail(strict=True, reason="issue 19's AUC target (RFM + 0.03) is not met yet: see docs/scores.md")
def test_eval_auc_clears_rfm_by_the_issue_target(runner: FlaskCliRunner) -> None:
    lines = _dev_protocol(runner)
    assert float(lines["production"]["auc"]) >= float(lines["rfm"]["auc"]) + 0.03


def test_eval_refuses_what_it_cannot_measure(runner: FlaskCliRunner, tmp_path: Path) -> None:
    missing = runner.invoke(
        args=[
            "scores",
            "eval",
            "--orders",
            str(tmp_path / "none.tsv"),
            "--calibration-end",
            "2011-06-11",
            "--window-end",
            "2011-09-09",
        ]
    )
    assert missing.exit_code != 0 and "no such file" in missing.output
    wrong = tmp_path / "products.tsv"
    wrong.write_text("id\ttitle\n1\tA lamp\n", encoding="utf-8")
    result = runner.invoke(
        args=["scores", "eval", "--orders", str(wrong), "--calibration-end", "2011-06-11", "--window-end", "2011-09-09"]
    )
    assert result.exit_code != 0 and "missing column(s) customer_id" in result.output
    assert len(result.output.strip().splitlines()) == 1
    short = tmp_path / "short.tsv"
    short.write_text(
        "invoice\tcustomer_id\tinvoiced_at\ttotal\tcancelled\n1\tA\t2011-01-03T10:00:00\t10.00\t0\n"
        "2\tB\t2011-07-01T10:00:00\t12.00\t0\n",
        encoding="utf-8",
    )
    backwards = runner.invoke(
        args=["scores", "eval", "--orders", str(short), "--calibration-end", "2011-06-11", "--window-end", "2011-05-01"]
    )
    assert backwards.exit_code != 0 and "before --calibration-end" in backwards.output


def _orders(app: Flask, profile_id: str, days_ago: list[int], total: str = "80.00") -> None:
    """Store orders of a profile placed ``days_ago`` (the merchant's records, as an import leaves them)."""
    with app.app_context(), transaction():
        demo = merchants.get_by_slug("demo")
        now = utcnow()
        for n, days in enumerate(days_ago):
            get_session().add(
                Order(
                    merchant_id=demo.id,
                    order_id=f"{profile_id[:8]}-{n}",
                    placed_at=now - dt.timedelta(days=days, hours=1),
                    currency="USD",
                    total=Decimal(total),
                    profile_id=profile_id,
                    linked_by="profile_id",
                    source="invoices",
                )
            )


def _shopper(client: FlaskClient, email: str) -> str:
    auth = grant(client, "demo", profile=True, email=True)
    response = client.post("/api/v1/m/demo/responses", json={"answers": full_answers(), "email": email}, headers=auth)
    assert response.status_code == 201, response.json
    return response.json["profile_id"]


def _clones(app: Flask, model_id: str, count: int) -> list[str]:
    """Store ``count`` more profiles like ``model_id`` (a shop's other customers)."""
    with app.app_context(), transaction():
        model = get_session().get(Profile, model_id)
        made = [
            Profile(
                merchant_id=model.merchant_id,
                subject_id=f"clone{i:027d}",
                answers=model.answers,
                quiz_version=model.quiz_version,
                consent_record_id=model.consent_record_id,
                expires_at=model.expires_at,
            )
            for i in range(count)
        ]
        get_session().add_all(made)
        get_session().flush()
        return [p.id for p in made]


def test_scores_are_computed_from_orders_and_shown_in_api_admin_segments_and_exports(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner
) -> None:
    regular = _shopper(client, "rita@example.com")
    newcomer = _shopper(client, "nina@example.com")
    with app.app_context(), transaction():
        for profile_id in (regular, newcomer):
            get_session().get(Profile, profile_id).email_confirmed_at = utcnow()
    _orders(app, regular, list(range(3, 241, 14)))
    # The shop's other customers: regulars, lapsed ones and one-off buyers, 240 days of history.
    others = _clones(app, regular, 60)
    lapsed = []
    for i, profile_id in enumerate(others):
        if i % 3 == 0:
            _orders(app, profile_id, list(range(2 + i % 7, 241, 14)))
        elif i % 3 == 1:
            _orders(app, profile_id, list(range(150, 241, 20)))
            lapsed.append(profile_id)
        else:
            _orders(app, profile_id, [200 - i])

    result = runner.invoke(args=["scores", "compute", "--merchant", "demo"])
    assert result.exit_code == 0, result.output
    assert "demo: 61 profiles scored from orders, 1 without orders (no score), model rank-logit-2" in result.output

    with app.app_context(), transaction():
        _, key = api_keys.issue(merchants.get_by_slug("demo"))
    scored = client.get(f"/api/v1/profiles/{regular}", headers=bearer(key)).json["scores"]
    assert scored["basis"] == "orders" and scored["model_version"] == "rank-logit-2"
    assert scored["scored_on"] == utcnow().date().isoformat()
    assert scored["orders"] == 17 and scored["days_since_last_order"] == 3
    assert scored["explanation"] == "Ordered 17 times, last 3 days ago; 1360.00 net so far."
    assert scored["propensity_90d"] > 0.6 and scored["churn_band"] == "low" and scored["expected_spend_12m"] > 0
    gone = client.get(f"/api/v1/profiles/{lapsed[0]}", headers=bearer(key)).json["scores"]
    assert gone["propensity_90d"] < scored["propensity_90d"] and gone["churn_band"] == "high"
    unscored = client.get(f"/api/v1/profiles/{newcomer}", headers=bearer(key)).json["scores"]
    assert unscored["basis"] == "none" and unscored["propensity_90d"] is None and unscored["churn_risk"] is None
    assert unscored["explanation"].startswith("No orders yet")

    likely = {"name": "Likely", "rules": [{"kind": "score", "score": "propensity_90d", "min": 0.6}]}
    leaving = {"name": "Leaving", "rules": [{"kind": "score", "score": "churn_risk", "band": "high"}]}
    counted = client.post("/api/v1/segments/count", json=likely, headers=bearer(key))
    assert counted.status_code == 200 and counted.json["count"] >= 1
    saved = client.post("/api/v1/segments", json=leaving, headers=bearer(key))
    assert saved.status_code == 201, saved.json
    bad = client.post(
        "/api/v1/segments/count",
        json={"name": "x", "rules": [{"kind": "score", "score": "propensity_90d", "band": "high"}]},
        headers=bearer(key),
    )
    assert bad.status_code == 422 and "band" in str(bad.json["fields"])

    export = client.get("/api/v1/campaigns/export?channel=email&format=csv&products=0", headers=bearer(key))
    rows = {row["Email"]: row for row in csv.DictReader(io.StringIO(export.get_data(as_text=True)))}
    assert rows["rita@example.com"]["Churn Risk"] == "low"
    assert float(rows["rita@example.com"]["Propensity 90d"]) == pytest.approx(scored["propensity_90d"], abs=1e-4)
    assert rows["rita@example.com"]["Scores Model"].startswith("rank-logit-2 ")
    assert rows["nina@example.com"]["Propensity 90d"] == "" and rows["nina@example.com"]["Churn Risk"] == ""

    with app.app_context(), transaction():
        create_admin(merchants.get_by_slug("demo"), "scores@demo.example", "correct horse battery")
    log_in(client, "scores@demo.example")
    page = client.get(f"/admin/profiles/{regular}").get_data(as_text=True)
    assert "Ordered 17 times, last 3 days ago" in page and "rank-logit-2" in page
    assert "No orders yet" in client.get(f"/admin/profiles/{newcomer}").get_data(as_text=True)


def test_a_short_history_is_scored_by_the_rate_baseline_and_erasure_removes_the_scores(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner
) -> None:
    auth = grant(client, "demo", profile=True)
    profile_id = client.post("/api/v1/m/demo/responses", json={"answers": full_answers()}, headers=auth).json[
        "profile_id"
    ]
    _orders(app, profile_id, [5, 40])
    result = runner.invoke(args=["scores", "compute"])
    assert (
        result.exit_code == 0
        and "demo: 1 profiles scored from orders, 0 without orders (no score), model rate-1" in (result.output)
    )
    me = client.get("/api/v1/me", headers=auth)
    assert me.status_code == 200
    assert client.delete("/api/v1/me", headers=auth).status_code in (200, 204)
    with app.app_context():
        assert get_session().scalar(sa.select(sa.func.count()).select_from(ProfileScore)) == 0
