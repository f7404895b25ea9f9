"""Erasure and A/B tests: an erased shopper leaves no subject id behind, and the results keep their totals."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from quiz import merchants
from quiz.merchants import api_keys
from quiz.models import Base, Exposure, Order, Profile, utcnow
from quiz.outcomes import experiments
from quiz.platform.db import get_session, transaction
from quiz.privacy import retention

from .helpers import bearer, full_answers, grant

# The consent ledger keeps the subject id on purpose: it is the proof of every decision, the
# erasure itself included (its `erase` event), and holds no answer, address or order.
LEDGER = "consent_record"
TEXT_TYPES = (sa.String, sa.Text, sa.JSON)


def _key(app: Flask) -> dict[str, str]:
    with app.app_context(), transaction():
        _, key = api_keys.issue(merchants.get_by_slug("demo"))
    return bearer(key)


def _shopper(app: Flask, client: FlaskClient, key: dict[str, str], n: int, exp_id: str) -> tuple[dict[str, str], str]:
    """Send one shopper through the quiz (exposed, finished); every other one orders. Return its auth, subject."""
    auth = grant(client, profile=True)
    done = client.post("/api/v1/m/demo/responses", json={"answers": full_answers()}, headers=auth)
    assert done.status_code == 201
    with app.app_context():
        subject = get_session().scalar(
            sa.select(Exposure.subject_id).where(Exposure.experiment_id == exp_id).order_by(Exposure.id.desc()).limit(1)
        )
    if n % 2 == 0:
        order = {
            "order_id": f"E-{n}",
            "placed_at": utcnow().isoformat(),
            "currency": "USD",
            "total": 20.0 + 5 * n,
            "items": [{"product_id": "TS-0001", "quantity": 1, "price": 20.0 + 5 * n}],
            "profile_id": done.json["profile_id"],
        }
        assert client.post("/api/v1/orders", json=order, headers=key).status_code == 200
    return auth, subject


def _figures(result: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Return each variant's figures as the merchant reads them (floats to 4 places)."""
    keys = ("name", "exposures", "completions", "conversions", "revenue", "difference", "p_value")
    rows = [[row[k] for k in keys] + [row["rate"][k] for k in ("value", "low", "high")] for row in result["variants"]]
    return [tuple(round(v, 4) if isinstance(v, float) else v for v in row) for row in rows]


def _rows_holding(value: str, column_names: tuple[str, ...]) -> dict[str, int]:
    """Count, per table and column, the rows holding ``value``: in a named id column, or inside any text or JSON."""
    found: dict[str, int] = {}
    session = get_session()
    for table in Base.metadata.sorted_tables:
        if table.name == LEDGER:
            continue
        for column in table.columns:
            if column.name in column_names and isinstance(column.type, sa.String):
                condition = column == value
            elif isinstance(column.type, TEXT_TYPES):
                condition = sa.cast(column, sa.Text).contains(value, autoescape=True)
            else:
                continue
            count = session.scalar(sa.select(sa.func.count()).select_from(table).where(condition))
            if count:
                found[f"{table.name}.{column.name}"] = count
    return found


@pytest.mark.parametrize("metric", ["conversion", "revenue_per_visitor"])
def test_an_erased_shopper_leaves_no_subject_id_and_the_results_keep_their_totals(
    app: Flask, client: FlaskClient, metric: str
) -> None:
    key = _key(app)
    arms = [{"name": "A", "weight": 1}, {"name": "B", "weight": 1, "settings": {"diversity": False}}]
    body = {"name": "Erasure", "metric": metric, "variants": arms}
    created = client.post("/api/v1/experiments", json=body, headers=key)
    exp_id = created.json["id"]
    assert client.post(f"/api/v1/experiments/{exp_id}/start", headers=key).json["status"] == "running"
    shoppers = [_shopper(app, client, key, n, exp_id) for n in range(8)]
    auth, subject = shoppers[4]  # one who ordered (n is even): a conversion and revenue to keep
    with app.app_context():
        profile_id = get_session().scalar(sa.select(Profile.id).where(Profile.subject_id == subject))
    assert subject and profile_id
    with app.app_context():
        assert _rows_holding(subject, ("subject_id",)), "the check finds the shopper before the erasure"
    before = client.get(f"/api/v1/experiments/{exp_id}", headers=key).json
    assert sum(v["exposures"] for v in before["variants"]) == 8
    assert sum(v["conversions"] for v in before["variants"]) == 4

    assert client.delete("/api/v1/me", headers=auth).status_code == 204

    with app.app_context():
        assert _rows_holding(subject, ("subject_id",)) == {}, "no row but the ledger's holds the subject id"
        assert _rows_holding(profile_id, ("profile_id", "id")) == {}, "no row holds the erased profile's id"
        assert get_session().scalar(sa.select(sa.func.count()).select_from(Exposure)) == 7
    after = client.get(f"/api/v1/experiments/{exp_id}", headers=key).json
    assert _figures(after) == _figures(before), "the erased shopper is still counted, anonymously"
    assert after["significant"] == before["significant"]

    # Erasing again changes nothing; the next shopper is counted beside the erased one.
    assert client.delete("/api/v1/me", headers=auth).status_code == 204
    assert _figures(client.get(f"/api/v1/experiments/{exp_id}", headers=key).json) == _figures(before)
    _shopper(app, client, key, 9, exp_id)
    final = client.get(f"/api/v1/experiments/{exp_id}", headers=key).json
    assert sum(v["exposures"] for v in final["variants"]) == 9


def test_a_stopped_tests_results_survive_an_erasure(app: Flask, client: FlaskClient) -> None:
    key = _key(app)
    arms = [{"name": "A", "weight": 1}, {"name": "B", "weight": 1}]
    body = {"name": "Old", "metric": "completion", "variants": arms}
    created = client.post("/api/v1/experiments", json=body, headers=key)
    exp_id = created.json["id"]
    client.post(f"/api/v1/experiments/{exp_id}/start", headers=key)
    auth, subject = _shopper(app, client, key, 0, exp_id)
    client.post(f"/api/v1/experiments/{exp_id}/stop", headers=key)
    before = client.get(f"/api/v1/experiments/{exp_id}", headers=key).json
    assert client.delete("/api/v1/me", headers=auth).status_code == 204
    assert _figures(client.get(f"/api/v1/experiments/{exp_id}", headers=key).json) == _figures(before)
    with app.app_context():
        assert _rows_holding(subject, ("subject_id",)) == {}
        experiment = experiments.get_or_404(merchants.get_by_slug("demo"), exp_id)
        assert sum(v["completions"] for v in experiments.results(experiment)["variants"]) == 1


def test_a_shopper_sees_the_tests_they_took_part_in(app: Flask, client: FlaskClient) -> None:
    key = _key(app)
    arms = [{"name": "A", "weight": 1}, {"name": "B", "weight": 1}]
    created = client.post(
        "/api/v1/experiments", json={"name": "Shorter quiz", "metric": "completion", "variants": arms}, headers=key
    )
    exp_id = created.json["id"]
    client.post(f"/api/v1/experiments/{exp_id}/start", headers=key)
    auth, subject = _shopper(app, client, key, 1, exp_id)
    with app.app_context():
        variant = get_session().scalar(sa.select(Exposure.variant).where(Exposure.subject_id == subject))
    (entry,) = client.get("/api/v1/me", headers=auth).json["experiments"]
    assert (entry["test"], entry["variant"]) == ("Shorter quiz", variant) and entry["finished_at"] is not None
    token = auth["Authorization"].split()[1]
    page = client.get(f"/privacy/{token}", headers={"Accept-Language": "es"}).get_data(as_text=True)
    shown = page.split("Versiones del cuestionario que te mostramos", 1)[1].split("</section>", 1)[0]
    assert "Shorter quiz" in shown and f"<td>{variant}, terminada</td>" in shown
    someone_else = grant(client, profile=True)
    assert client.get("/api/v1/me", headers=someone_else).json["experiments"] == []


def test_retention_keeps_old_exposures_only_as_counts(app: Flask, client: FlaskClient) -> None:
    key = _key(app)
    arms = [{"name": "A", "weight": 1}, {"name": "B", "weight": 1}]
    body = {"name": "Long-running", "metric": "conversion", "variants": arms}
    exp_id = client.post("/api/v1/experiments", json=body, headers=key).json["id"]
    client.post(f"/api/v1/experiments/{exp_id}/start", headers=key)
    with_profiles = [_shopper(app, client, key, n, exp_id)[1] for n in range(4)]
    anonymous = grant(client, profile=False)
    assert client.post("/api/v1/m/demo/responses", json={"answers": full_answers()}, headers=anonymous).status_code
    with app.app_context():
        everyone = set(get_session().scalars(sa.select(Exposure.subject_id)))
    (no_profile,) = everyone - set(with_profiles)
    old = [with_profiles[0], with_profiles[1], no_profile]  # one who ordered, one who did not, one anonymous
    before = client.get(f"/api/v1/experiments/{exp_id}", headers=key).json
    assert sum(v["exposures"] for v in before["variants"]) == 5

    with app.app_context():
        with transaction() as session:
            months = merchants.get_by_slug("demo").retention_months
            backdated = utcnow() - dt.timedelta(days=31 * months + 1)
            session.execute(sa.update(Exposure).where(Exposure.subject_id.in_(old)).values(exposed_at=backdated))
            # The one who ordered did so the next day: that order is past the period too (it gets unlinked).
            bought_then = backdated + dt.timedelta(days=1)
            session.execute(sa.update(Order).where(Order.order_id == "E-0").values(placed_at=bought_then))
        retention.purge()
        kept = set(get_session().scalars(sa.select(Exposure.subject_id)))
        assert kept == everyone - set(old), "exposures past the retention period go, recent ones stay"
        assert _rows_holding(no_profile, ("subject_id",)) == {}, "nothing but the ledger keeps the anonymous shopper"
    after = client.get(f"/api/v1/experiments/{exp_id}", headers=key).json
    assert _figures(after) == _figures(before), "the old exposures are still counted, anonymously"


@pytest.mark.parametrize("how", ["withdraw profile", "profile expires"])
def test_a_profile_that_goes_leaves_its_conversions_in_the_results(app: Flask, client: FlaskClient, how: str) -> None:
    key = _key(app)
    arms = [{"name": "A", "weight": 1}, {"name": "B", "weight": 1}]
    body = {"name": "Kept", "metric": "revenue_per_visitor", "variants": arms}
    exp_id = client.post("/api/v1/experiments", json=body, headers=key).json["id"]
    client.post(f"/api/v1/experiments/{exp_id}/start", headers=key)
    shoppers = [_shopper(app, client, key, n, exp_id) for n in range(4)]
    auth, subject = shoppers[2]  # ordered (n is even)
    before = client.get(f"/api/v1/experiments/{exp_id}", headers=key).json
    assert sum(v["conversions"] for v in before["variants"]) == 2

    if how == "withdraw profile":
        changed = client.patch("/api/v1/me/consents", json={"purposes": {"profile": False}}, headers=auth)
        assert changed.status_code in (200, 201), changed.json
    else:
        with app.app_context():
            with transaction() as session:
                past = utcnow() - dt.timedelta(days=1)
                session.execute(sa.update(Profile).where(Profile.subject_id == subject).values(expires_at=past))
            retention.purge()
    with app.app_context():
        assert get_session().scalar(sa.select(Profile.id).where(Profile.subject_id == subject)) is None
    after = client.get(f"/api/v1/experiments/{exp_id}", headers=key).json
    assert _figures(after) == _figures(before), "the shopper's purchase still counts for their variant"
