"""Journeys: decided at send time, capped, quiet at night, never repeating, sent once, one-click unsubscribe.

Mail goes to a real SMTP server (aiosmtpd) the test starts; the database is the session's.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from quiz import merchants
from quiz.lifecycle import journeys
from quiz.lifecycle.runner import run
from quiz.merchants import api_keys
from quiz.models import JourneySend, LifecycleSetting, Product, Profile, ProfileScore, QuizSession, utcnow
from quiz.platform.db import get_session, transaction
from quiz.privacy import quiz_sessions
from quiz.privacy.consent import current_state

from .helpers import bearer, full_answers, grant
from .test_contact_email import Inbox, bodies, inbox  # noqa: F401  (inbox: the SMTP server fixture)


def _shopper(client: FlaskClient, email: str, confirmed: bool = True, **answers: Any) -> tuple[dict[str, str], str]:
    auth = grant(client, "demo", profile=True, email=True)
    body = {"answers": full_answers(**answers), "email": email}
    response = client.post("/api/v1/m/demo/responses", json=body, headers=auth)
    assert response.status_code == 201, response.json
    profile_id = response.json["profile_id"]
    if confirmed:
        with client.application.app_context(), transaction():
            get_session().get(Profile, profile_id).email_confirmed_at = utcnow()
    return auth, profile_id


def _setup(app: Flask, **limits: int) -> None:
    with app.app_context(), transaction():
        demo = merchants.get_by_slug("demo")
        journeys.configure(demo, "no_order_picks", enabled=True, delay_hours=0)
        get_session().add(LifecycleSetting(merchant_id=demo.id, **{"quiet_start": 0, "quiet_end": 0, **limits}))


def _journey_mail(box: Inbox) -> list[Any]:
    """Return the journey messages the server received (double opt-in confirmations left out)."""
    return [m for m in box.messages if m["List-Unsubscribe"]]


def _wait(box: Inbox, count: int) -> list[Any]:
    with box.arrived:
        box.arrived.wait_for(lambda: len(_journey_mail(box)) >= count, timeout=10)
    return _journey_mail(box)


def _finishes_again(app: Flask, profile_id: str) -> None:
    """The shopper finishes the quiz again, as a person can: in a later second than the last time.

    A trigger is keyed to the second of the finish (``journeys._stamp``); a test that runs faster
    than that must not make two finishes look like one.
    """
    with app.app_context(), transaction():
        profile = get_session().get(Profile, profile_id)
        seen = profile.last_seen_at
        previous = (seen.astimezone(dt.UTC) if seen.tzinfo else seen.replace(tzinfo=dt.UTC)).replace(microsecond=0)
        wait = (previous + dt.timedelta(seconds=1) - utcnow()).total_seconds()
        time.sleep(max(0.0, wait) + 0.01)
        profile.last_seen_at = utcnow()


def _log(app: Flask, profile_id: str) -> list[JourneySend]:
    with app.app_context():
        return list(
            get_session().scalars(
                sa.select(JourneySend).where(JourneySend.profile_id == profile_id).order_by(JourneySend.id)
            )
        )


def test_only_those_who_may_receive_get_one_message_each_with_one_click_unsubscribe(
    app: Flask,
    client: FlaskClient,
    runner: FlaskCliRunner,
    inbox: Inbox,  # noqa: F811
) -> None:
    _setup(app)
    ada_auth, ada = _shopper(client, "ada@example.com")
    una_auth, unconfirmed = _shopper(client, "una@example.com", confirmed=False)
    withdrawn_auth, withdrawn = _shopper(client, "wil@example.com")
    client.patch("/api/v1/me/consents", json={"purposes": {"email": False}}, headers=withdrawn_auth)
    _, young = _shopper(client, "kid@example.com", age_band="under_16")

    dry = runner.invoke(args=["journeys", "run", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"no_order_picks profile {ada} email: would_send: all checks passed" in dry.output
    assert f"profile {unconfirmed} email: skipped: email address not confirmed" in dry.output
    assert f"profile {withdrawn} email: skipped: no email consent now" in dry.output
    assert f"profile {young} email: skipped:" in dry.output
    assert not _log(app, ada) and not _journey_mail(inbox), "a dry run records and sends nothing"

    result = runner.invoke(args=["journeys", "run"])
    assert result.exit_code == 0, result.output
    (message,) = _wait(inbox, 1)
    assert message["To"] == "ada@example.com" and "Trailhead Supply Co." in message["From"]
    text, html = bodies(message)
    first_picks = _log(app, ada)[0].products
    assert len(first_picks) >= 1 and all(p in text for p in []) and "Unsubscribe" in html
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert {row.status for row in _log(app, unconfirmed)} == {"skipped"}
    assert _log(app, ada)[0].status == "sent" and _log(app, ada)[0].sent_at is not None
    # The shopper sees the log in their data: what was sent, what was not, and why.
    (sent,) = client.get("/api/v1/me", headers=ada_auth).json["messages"]
    assert (sent["journey"], sent["status"], sent["products"]) == ("no_order_picks", "sent", first_picks)
    (held,) = client.get("/api/v1/me", headers=una_auth).json["messages"]
    assert held["status"] == "skipped" and held["reason"] == "email address not confirmed (double opt-in)"

    again = runner.invoke(args=["journeys", "run"])
    assert f"profile {ada} email: already: already sent" in again.output
    assert len(_journey_mail(inbox)) == 1, "the same trigger never sends twice"

    # One click in the mail client: the header's link, POSTed as RFC 8058 says.
    link = message["List-Unsubscribe"].strip("<>")
    path = urlsplit(link).path
    clicked = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert clicked.status_code == 200
    with app.app_context():
        subject = get_session().get(Profile, ada).subject_id
        assert current_state(merchants.get_by_slug("demo").id, subject).allows("email") is False
    _finishes_again(app, ada)
    after = runner.invoke(args=["journeys", "run"])
    assert f"profile {ada} email: skipped: no email consent now" in after.output
    assert len(_journey_mail(inbox)) == 1


def test_a_new_trigger_sends_again_without_repeating_a_product(
    app: Flask,
    client: FlaskClient,
    runner: FlaskCliRunner,
    inbox: Inbox,  # noqa: F811
) -> None:
    _setup(app)
    _, ada = _shopper(client, "ada@example.com")
    assert runner.invoke(args=["journeys", "run"]).exit_code == 0
    assert len(_wait(inbox, 1)) == 1
    first_picks = _log(app, ada)[0].products
    # She finishes the quiz again: a new trigger. The picks she was sent are not sent again.
    _finishes_again(app, ada)
    again = runner.invoke(args=["journeys", "run"])
    assert len(_wait(inbox, 2)) == 2, again.output
    second = _log(app, ada)[-1]
    assert second.status == "sent" and not set(second.products) & set(first_picks)


def test_quiet_hours_shift_the_send_and_the_weekly_cap_holds(
    app: Flask,
    client: FlaskClient,
    inbox: Inbox,  # noqa: F811
) -> None:
    _setup(app, weekly_cap=1, quiet_start=21, quiet_end=9)
    _, ada = _shopper(client, "ada@example.com", country="DE")
    # 23:30 in Berlin (22:30 UTC in December): quiet.
    night = dt.datetime.now(dt.UTC).replace(hour=22, minute=30, second=0, microsecond=0) + dt.timedelta(days=1)
    with app.test_request_context(base_url="http://localhost"):
        (decision,) = run(merchants.get_by_slug("demo"), night)
        assert decision.status == "deferred" and "until" in decision.reason
        assert (night + dt.timedelta(hours=9, minutes=30)).isoformat()[:10] in decision.reason
        assert not _journey_mail(inbox)
        morning = night + dt.timedelta(hours=10)  # 09:30 in Berlin
        (decision,) = run(merchants.get_by_slug("demo"), morning)
        assert decision.status == "sent"
    _wait(inbox, 1)
    with app.app_context(), transaction():
        get_session().get(Profile, ada).last_seen_at = morning  # she finished again
    with app.test_request_context(base_url="http://localhost"):
        decisions = run(merchants.get_by_slug("demo"), morning + dt.timedelta(hours=1))
    capped = [d for d in decisions if d.kind == "no_order_picks" and d.status == "skipped"]
    assert capped and capped[0].reason.startswith("frequency cap: 1 messages on email")
    assert len(_journey_mail(inbox)) == 1


def _score(merchant_id: int, profile_id: str, risk: float) -> None:
    """Store a churn risk for a profile, as `flask scores compute` leaves it."""
    get_session().add(
        ProfileScore(
            profile_id=profile_id,
            merchant_id=merchant_id,
            basis="orders",
            model_version="rfm-logit-1",
            scored_on=utcnow().date(),
            propensity_90d=1 - risk,
            churn_risk=risk,
            churn_band="high" if risk >= 0.7 else "low",
            orders=2,
        )
    )


def test_saved_quiz_reminder_and_win_back_with_the_cap_across_journeys(
    app: Flask,
    client: FlaskClient,
    runner: FlaskCliRunner,
    inbox: Inbox,  # noqa: F811
) -> None:
    with app.app_context(), transaction():
        demo = merchants.get_by_slug("demo")
        journeys.configure(demo, "saved_reminder", enabled=True, delay_hours=24)
        journeys.configure(demo, "win_back", enabled=True, threshold=0.7)
        get_session().add(LifecycleSetting(merchant_id=demo.id, weekly_cap=1, quiet_start=0, quiet_end=0))
    _, ada = _shopper(client, "ada@example.com")
    _, bo = _shopper(client, "bo@example.com")
    _, cy = _shopper(client, "cy@example.com")
    with app.app_context(), transaction():
        demo = merchants.get_by_slug("demo")
        subject = get_session().get(Profile, ada).subject_id
        quiz_sessions.save(demo, subject, {"first_name": "Ada"})
        get_session().execute(sa.update(QuizSession).values(updated_at=utcnow() - dt.timedelta(hours=25)))
        _score(demo.id, bo, 0.9)
        _score(demo.id, cy, 0.2)
    result = runner.invoke(args=["journeys", "run"])
    assert result.exit_code == 0, result.output
    assert f"saved_reminder profile {ada} email: sent" in result.output
    assert f"win_back profile {bo} email: sent" in result.output and cy not in result.output
    mails = {m["To"]: m for m in _wait(inbox, 2)}
    reminder, _ = bodies(mails["ada@example.com"])
    link = next(line for line in reminder.splitlines() if "/m/demo/resume/" in line)
    assert client.get(urlsplit(link).path).status_code in (200, 302)
    win_back, _ = bodies(mails["bo@example.com"])
    assert len([line for line in win_back.splitlines() if line.startswith("- ")]) == 3

    # Ada's churn risk crosses the threshold too, but she had her one message this week.
    with app.app_context(), transaction():
        _score(merchants.get_by_slug("demo").id, ada, 0.8)
    again = runner.invoke(args=["journeys", "run"])
    capped = f"win_back profile {ada} email: skipped: frequency cap: 1 messages on email in the last 7 days"
    assert capped in again.output
    assert f"profile {bo} email: already" in again.output
    assert len(_journey_mail(inbox)) == 2


def test_merchants_edit_journeys_and_limits_through_the_api(app: Flask, client: FlaskClient) -> None:
    with app.app_context(), transaction():
        _, key = api_keys.issue(merchants.get_by_slug("demo"))
    auth = bearer(key)
    listed = client.get("/api/v1/journeys", headers=auth).json
    assert [j["kind"] for j in listed["items"]] == ["saved_reminder", "no_order_picks", "new_products", "win_back"]
    assert not any(j["enabled"] for j in listed["items"]) and listed["limits"]["weekly_cap"] == 2
    texts = {"es": {"subject": "Ideas para ti", "intro": "Nuevas."}, "en": {"subject": "Picks for you"}}
    body = {"enabled": True, "delay_hours": 6, "texts": texts}
    changed = client.put("/api/v1/journeys/no_order_picks", json=body, headers=auth)
    assert changed.status_code == 200 and changed.json["enabled"] is True and changed.json["delay_hours"] == 6
    assert changed.json["texts"]["es"]["subject"] == "Ideas para ti"
    bad = client.put("/api/v1/journeys/no_order_picks", json={"delay_hours": -1, "channel": "fax"}, headers=auth)
    assert bad.status_code == 422 and {"delay_hours", "channel"} <= set(bad.json["fields"])
    assert all(j["available"] for j in listed["items"]), "every journey of the issue is built"
    fresh = client.put("/api/v1/journeys/new_products", json={"enabled": True}, headers=auth)
    assert fresh.status_code == 200 and fresh.json["enabled"] is True and fresh.json["threshold"] == 0.35
    assert fresh.json["texts"]["es"]["subject"] == "Novedades en {shop} que van contigo", "defaults in both languages"
    far = client.put("/api/v1/journeys/new_products", json={"threshold": 1.5}, headers=auth)
    assert far.status_code == 422 and set(far.json["fields"]) == {"threshold"}
    assert client.put("/api/v1/journeys/nope", json={}, headers=auth).status_code == 404
    body = {"weekly_cap": 1, "quiet_start": 22, "colour": "red"}  # a field it does not know is ignored
    limits = client.put("/api/v1/journeys/limits", json=body, headers=auth)
    assert limits.status_code == 200 and (limits.json["weekly_cap"], limits.json["quiet_start"]) == (1, 22)
    half = client.put("/api/v1/journeys/limits", json={"quiet_end": 2.5, "weekly_cap": 3.0}, headers=auth)
    assert half.status_code == 422 and set(half.json["fields"]) == {"quiet_end"}, "hours are whole; 3.0 is 3"
    assert client.get("/api/v1/journeys/win_back/log", headers=auth).json == {"items": []}


def test_fresh_picks_stay_within_the_stated_budget(
    app: Flask,
    client: FlaskClient,
    runner: FlaskCliRunner,
    inbox: Inbox,  # noqa: F811
) -> None:
    _setup(app)
    _, bea = _shopper(client, "bea@example.com", budget=[0, 40])
    assert runner.invoke(args=["journeys", "run"]).exit_code == 0
    (sent,) = _log(app, bea)
    with app.app_context():
        demo = merchants.get_by_slug("demo")
        prices = get_session().scalars(
            sa.select(Product.price).where(Product.merchant_id == demo.id, Product.external_id.in_(sent.products))
        )
        assert sent.status == "sent" and sent.products, "the demo has products under 40 not shown yet"
        assert all(price <= 40 for price in prices), "no pick above the budget she gave, in a message"
