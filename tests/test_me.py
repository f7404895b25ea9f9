"""The shopper's own data through the API: export, erase, change and withdraw."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from quiz.models import ConsentRecord, LedgerViolation, Profile
from quiz.platform.db import get_session
from quiz.privacy.explainer import explainer_for

from .helpers import NEED, full_answers, grant


def test_export_contains_answers_and_consent_proof(client: FlaskClient) -> None:
    auth = grant(client, profile=True)
    client.post("/api/v1/m/demo/responses", json={"answers": full_answers()}, headers=auth)
    me = client.get("/api/v1/me", headers=auth).json
    assert me["profile"]["answers"]["looking_for"] == NEED
    assert me["consents"] == {"recommendations": True, "profile": True, "email": False, "sms": False}
    [grant_record] = me["consent_history"]
    explainer = explainer_for("Trailhead Supply Co.", 24)
    assert grant_record["text_sha256"] == explainer.sha256
    assert grant_record["explainer_version"] == explainer.version
    assert len(me["profile"]["preference_embedding"]) == 384


def test_delete_removes_profile_and_keeps_only_a_withdrawal(app: Flask, client: FlaskClient) -> None:
    auth = grant(client, profile=True)
    client.post("/api/v1/m/demo/responses", json={"answers": full_answers()}, headers=auth)
    assert client.delete("/api/v1/me", headers=auth).status_code == 204
    me = client.get("/api/v1/me", headers=auth).json
    assert me["profile"] is None
    assert NEED not in str(me)
    assert me["consents"] == {"recommendations": False, "profile": False, "email": False, "sms": False}
    assert [r["action"] for r in me["consent_history"]] == ["grant", "erase"]
    with app.app_context():
        assert get_session().scalar(sa.select(sa.func.count()).select_from(Profile)) == 0
    # Everything withdrawn: the token no longer gets recommendations.
    response = client.post("/api/v1/m/demo/recommendations", json={"answers": full_answers()}, headers=auth)
    assert response.status_code == 403


def test_withdrawing_profile_deletes_it_at_once(app: Flask, client: FlaskClient) -> None:
    auth = grant(client, profile=True, email=True)
    client.post("/api/v1/m/demo/responses", json={"answers": full_answers()}, headers=auth)
    response = client.patch("/api/v1/me/consents", json={"purposes": {"profile": False}}, headers=auth)
    assert response.status_code == 200
    assert response.json["purposes"] == {"recommendations": True, "profile": False, "email": True, "sms": False}
    assert client.get("/api/v1/me", headers=auth).json["profile"] is None


def test_consent_patch_validates(client: FlaskClient) -> None:
    auth = grant(client)
    assert client.patch("/api/v1/me/consents", json={"purposes": {}}, headers=auth).status_code == 422
    bad = client.patch("/api/v1/me/consents", json={"purposes": {"profile": "maybe"}}, headers=auth)
    assert bad.status_code == 422 and "purposes" in bad.json["fields"]
    assert client.patch("/api/v1/me/consents", json={"purposes": {"profile": True}}).status_code == 401


def test_ledger_is_append_only(app: Flask, client: FlaskClient) -> None:
    grant(client)
    with app.app_context():
        session = get_session()
        record = session.scalars(sa.select(ConsentRecord)).one()
        record.purposes = {"recommendations": True, "profile": True, "email": True, "sms": True}
        with pytest.raises(LedgerViolation, match="append-only"):
            session.commit()
        session.rollback()
        session.delete(session.scalars(sa.select(ConsentRecord)).one())
        with pytest.raises(LedgerViolation, match="append-only"):
            session.commit()
        session.rollback()
        assert session.scalars(sa.select(ConsentRecord)).one().purposes["profile"] is False


def test_expired_profiles_are_purged_and_fresh_ones_kept(app: Flask, client: FlaskClient) -> None:
    import datetime as dt

    from quiz.platform.db import transaction
    from quiz.privacy.profiles import purge_expired

    old = grant(client, profile=True)
    client.post("/api/v1/m/demo/responses", json={"answers": full_answers()}, headers=old)
    fresh = grant(client, profile=True)
    client.post("/api/v1/m/demo/responses", json={"answers": full_answers(looking_for="a tent")}, headers=fresh)
    with app.app_context():
        session = get_session()
        first = session.scalars(sa.select(Profile).order_by(Profile.created_at)).first()
        first.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        session.commit()
        with transaction():
            assert purge_expired() == 1
    assert client.get("/api/v1/me", headers=old).json["profile"] is None
    assert client.get("/api/v1/me", headers=fresh).json["profile"]["answers"]["looking_for"] == "a tent"
    assert client.get("/api/v1/me", headers=old).json["consent_history"], "the ledger keeps the decision"


def test_purge_command_reports_a_count(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["profiles", "purge-expired"])
    assert result.exit_code == 0
    # stdout only: the same figures also go to the log, on stderr.
    assert result.stdout.strip() == (
        "0 expired profiles deleted, 0 stale saved quizzes deleted, 0 ended admin logins deleted"
    )


def test_marketing_is_switched_off_below_the_digital_consent_age(app: Flask, client: FlaskClient) -> None:
    auth = grant(client, profile=True, email=True, sms=True)
    body = {"answers": full_answers(age_band="under_16"), "email": "kid@example.org"}
    response = client.post("/api/v1/m/demo/responses", json=body, headers=auth)
    assert response.status_code == 201 and response.json["profile_id"]
    me = client.get("/api/v1/me", headers=auth).json
    assert me["consents"] == {"recommendations": True, "profile": True, "email": False, "sms": False}
    assert me["consent_history"][-1]["source"] == "age rule"
    assert me["profile"]["email"] is None
    adult = grant(client, profile=True, email=True)
    client.post("/api/v1/m/demo/responses", json={"answers": full_answers(age_band="16-17")}, headers=adult)
    assert client.get("/api/v1/me", headers=adult).json["consents"]["email"] is True, "16 is old enough by default"


def test_the_age_rule_applies_without_a_profile_too(app: Flask) -> None:
    from .test_shopper_pages import INTENT, PREFERENCES, answer, decide

    client = app.test_client()
    decide(client, "save_choices", email="y", sms="y")
    answer(client, "about", {"age_band": "under_16", "country": "DE"})
    answer(client, "intent", INTENT)
    answer(client, "preferences", PREFERENCES)
    with client.session_transaction() as cookie:
        token = cookie["attune.quiz"]["demo"]["token"]
    me = client.get("/api/v1/me", headers={"Authorization": "Bearer " + token}).json
    assert me["profile"] is None
    assert me["consents"] == {"recommendations": True, "profile": False, "email": False, "sms": False}
