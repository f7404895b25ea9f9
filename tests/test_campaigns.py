"""Double opt-in for email, the outbox, and consent-clean campaign exports."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from quiz import merchants, quizzes
from quiz.marketing.campaigns import neutralise
from quiz.platform.db import transaction

from .conftest import csrf_token
from .helpers import bearer, full_answers, grant, make_merchant
from .test_admin import log_in

EVERYTHING = {"profile": True, "email": True, "sms": True}


@pytest.fixture
def shop(app: Flask) -> Any:
    """A merchant with the demo catalog's quiz, whose exports the tests read through the API."""
    return make_merchant(app, "campaigner")


@pytest.fixture
def outbox(app: Flask) -> Iterator[Path]:
    folder = Path(app.instance_path) / "outbox"
    yield folder
    for message in folder.glob("*.eml"):
        message.unlink()


def finish(client: FlaskClient, slug: str = "demo", email: str | None = None, **answers: Any) -> dict[str, str]:
    """Consent to everything, submit the quiz through the API and return the shopper's auth header."""
    auth = grant(client, slug, **EVERYTHING)
    body = {"answers": full_answers(**answers), "email": email, "first_name": answers.get("first_name", "Ada")}
    response = client.post(f"/api/v1/m/{slug}/responses", json=body, headers=auth)
    assert response.status_code == 201, response.json
    return auth


def confirmation_link(outbox: Path, address: str) -> str:
    """Return the link in the newest message of the outbox to ``address``."""
    parsed = [BytesParser(policy=policy.default).parsebytes(p.read_bytes()) for p in sorted(outbox.glob("*.eml"))]
    newest = [m for m in parsed if m["To"] == address][-1]
    return re.search(r"http://localhost(/confirm/\S+)", newest.get_body().get_content()).group(1)


def export(client: FlaskClient, key: str, channel: str = "email", kind: str = "csv", products: int = 3) -> Any:
    response = client.get(
        f"/api/v1/campaigns/export?channel={channel}&format={kind}&products={products}", headers=bearer(key)
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    if kind == "json":
        return json.loads(response.get_data(as_text=True))
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def demo_key(app: Flask) -> str:
    from quiz.merchants import api_keys

    with app.app_context(), transaction():
        _, key = api_keys.issue(merchants.get_by_slug("demo"))
    return key


def confirm(client: FlaskClient, link: str) -> str:
    page = client.get(link).get_data(as_text=True)
    return client.post(link, data={"csrf_token": csrf_token(page)}).get_data(as_text=True)


def test_an_address_is_exported_only_after_its_owner_confirms_it(app: Flask, client: FlaskClient, outbox: Path) -> None:
    key = demo_key(app)
    finish(client, email="ada@example.com")
    assert export(client, key) == [], "not confirmed yet"
    link = confirmation_link(outbox, "ada@example.com")

    page = client.get(link).get_data(as_text=True)
    assert "Confirm that ada@example.com is your address" in page
    assert export(client, key) == [], "opening the link (a mail scanner might) confirms nothing"
    assert "Thank you: ada@example.com is confirmed." in confirm(client, link)
    (row,) = export(client, key)
    assert row["Email"] == "ada@example.com" and row["Consent Status"] == "SUBSCRIBED"
    assert row["First Name"] == "Ada" and "explainer 2026-12.1" in row["Consent Provenance"]
    assert row["quiz_looking_for"] == "lightweight waterproof jacket for hiking"
    assert row["product_1_title"] and row["product_1_url"].startswith("http") and row["product_3_id"]
    assert "already confirmed" in client.get(link).get_data(as_text=True), "a link works once"


def test_links_in_mail_use_the_public_url_not_the_request_host(app: Flask, client: FlaskClient, outbox: Path) -> None:
    auth = grant(client, **EVERYTHING)
    body = {"answers": full_answers(), "email": "host@example.com"}
    client.post("/api/v1/m/demo/responses", json=body, headers={**auth, "Host": "evil.example"})
    newest = sorted(outbox.glob("*.eml"))[-1].read_bytes()
    assert b"evil.example" not in newest and b"http://localhost/confirm/" in newest


def test_contact_answers_stay_out_of_answers_and_exports(app: Flask, client: FlaskClient, shop: Any) -> None:
    definition = quizzes.default_definition()
    definition["sections"][0]["questions"] += [
        {"id": "mail", "type": "text", "label": "Email", "role": "email", "max_length": 200},
        {"id": "mobile", "type": "text", "label": "Mobile", "role": "phone", "max_length": 30},
    ]
    with app.app_context(), transaction():
        quizzes.publish(merchants.get_by_slug("demo"), definition)
    auth = grant(client, profile=True, email=False, sms=True)
    answers = full_answers(mail="secret@example.com", mobile="+34 600 111 222")
    profile_id = client.post("/api/v1/m/demo/responses", json={"answers": answers}, headers=auth).json["profile_id"]
    key = demo_key(app)
    stored = client.get(f"/api/v1/profiles/{profile_id}", headers=bearer(key)).json
    assert "mail" not in stored["answers"] and "mobile" not in stored["answers"]
    assert stored["email"] is None and stored["phone"] == "+34600111222", "email refused, sms allowed"
    (row,) = export(client, key, channel="sms", products=0)
    assert row["Phone Number"] == "+34600111222", "an E.164 number is left as it is: it cannot run"
    assert "secret@example.com" not in json.dumps(row)
    client.patch("/api/v1/me/consents", json={"purposes": {"sms": False}}, headers=auth)
    assert client.get(f"/api/v1/profiles/{profile_id}", headers=bearer(key)).json["phone"] is None


def test_a_new_address_or_link_replaces_the_old_one_and_links_expire(
    app: Flask, client: FlaskClient, outbox: Path
) -> None:
    auth = finish(client, email="old@example.com")
    first = confirmation_link(outbox, "old@example.com")
    body = {"answers": full_answers(), "email": "new@example.com"}
    assert client.post("/api/v1/m/demo/responses", json=body, headers=auth).status_code == 201
    second = confirmation_link(outbox, "new@example.com")
    assert "not valid, or was replaced" in client.get(first).get_data(as_text=True)

    app.config["EMAIL_CONFIRM_MAX_AGE"] = -1
    page = client.get(second).get_data(as_text=True)
    assert "This link has expired" in page
    action = re.search(r'<form method="post" action="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert "/resend" in action
    resent = client.post(action, data={"csrf_token": csrf_token(page)}).get_data(as_text=True)
    assert "A new link is on its way to new@example.com." in resent
    # Each link resends once (the new link replaces it), so a link cannot be used to flood an inbox.
    again = client.post(action, data={"csrf_token": csrf_token(page)})
    assert again.status_code == 404 and "A new link" not in again.get_data(as_text=True)
    app.config["EMAIL_CONFIRM_MAX_AGE"] = 3600
    third = confirmation_link(outbox, "new@example.com")
    assert third != second and "is confirmed" in confirm(client, third)
    assert "already confirmed" in client.get(second).get_data(as_text=True), "an old link confirms nothing more"
    assert len(list(outbox.glob("*.eml"))) == 3


def test_withdrawal_age_and_deletion_keep_people_out_of_exports(app: Flask, client: FlaskClient, outbox: Path) -> None:
    key = demo_key(app)
    withdrawn = finish(client, email="withdraws@example.com")
    confirm(client, confirmation_link(outbox, "withdraws@example.com"))
    erased = finish(client, email="erased@example.com")
    confirm(client, confirmation_link(outbox, "erased@example.com"))
    finish(client, email="young@example.com", age_band="under_16")
    assert not list(outbox.glob("*young*")), "no mail below the consent age"
    assert {r["Email"] for r in export(client, key)} == {"withdraws@example.com", "erased@example.com"}

    client.patch("/api/v1/me/consents", json={"purposes": {"email": False}}, headers=withdrawn)
    assert {r["Email"] for r in export(client, key)} == {"erased@example.com"}, "withdrawal counts at once"
    client.delete("/api/v1/me", headers=erased)
    assert export(client, key) == [] and export(client, key, kind="json")["recipients"] == []


def test_sms_exports_take_phone_numbers_only_with_sms_consent(app: Flask, client: FlaskClient, shop: Any) -> None:
    definition = quizzes.default_definition()
    definition["sections"][0]["questions"].append(
        {"id": "mobile", "type": "text", "label": "Mobile number", "role": "phone", "max_length": 30}
    )
    with app.app_context(), transaction():
        quizzes.publish(merchants.get_by_slug("campaigner"), definition)
        from quiz.catalog.sync import upsert_products
        from quiz.demo.shop import demo_records

        upsert_products(merchants.get_by_slug("campaigner"), demo_records()[:40])
    with app.app_context():
        from quiz.catalog.sync import rebuild_index

        with transaction():
            rebuild_index(merchants.get_by_slug("campaigner"))
    bad = grant(client, "campaigner", **EVERYTHING)
    refused = client.post(
        "/api/v1/m/campaigner/responses", json={"answers": full_answers(mobile="call me maybe")}, headers=bad
    )
    assert refused.status_code == 422 and "mobile" in refused.json["fields"]["answers"]
    finish(client, "campaigner", mobile="+34 600 123 456")
    no_sms = grant(client, "campaigner", profile=True, email=True, sms=False)
    body = {"answers": full_answers(mobile="+34 600 999 999")}
    assert client.post("/api/v1/m/campaigner/responses", json=body, headers=no_sms).status_code == 201
    rows = export(client, shop.api_key, channel="sms", products=2)
    assert [r["Phone Number"] for r in rows] == ["+34600123456"], "sms consent only, in E.164 form"
    assert "product_2_title" in rows[0] and "product_3_title" not in rows[0]


def test_cells_that_a_spreadsheet_would_run_are_neutralised(app: Flask, client: FlaskClient, outbox: Path) -> None:
    for cell in ('=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tx", "\rx", "+1234567+A1", "+34 600 123 456"):
        assert neutralise(cell) == "'" + cell
    assert neutralise("Ada") == "Ada" and neutralise("") == ""
    key = demo_key(app)
    finish(client, email="formula@example.com", first_name='=HYPERLINK("http://evil.example","click")')
    confirm(client, confirmation_link(outbox, "formula@example.com"))
    (row,) = export(client, key)
    assert row["First Name"].startswith("'="), row["First Name"]
    data = export(client, key, kind="json")
    assert data["recipients"][0]["first_name"].startswith("=HYPERLINK"), "JSON keeps the value as it is"
    assert data["recipients"][0]["consent"]["source"] == "api" and len(data["recipients"][0]["products"]) == 3


def test_export_requests_are_checked(client: FlaskClient, shop: Any) -> None:
    auth = bearer(shop.api_key)
    assert client.get("/api/v1/campaigns/export?channel=email").status_code == 401
    fax = client.get("/api/v1/campaigns/export?channel=fax", headers=auth)
    assert fax.status_code == 422 and "channel" in fax.json["fields"]
    many = client.get("/api/v1/campaigns/export?channel=email&products=99", headers=auth)
    assert many.status_code == 422 and "products" in many.json["fields"]
    empty = client.get("/api/v1/campaigns/export?channel=email", headers=auth)
    assert empty.headers["Content-Disposition"].startswith('attachment; filename="attune-campaigner-email-')
    assert empty.get_data(as_text=True).startswith("Email,First Name,Consent Status")


def test_the_admin_shows_counts_downloads_and_the_outbox(
    app: Flask, client: FlaskClient, shop: Any, outbox: Path
) -> None:
    log_in(client, shop.admin_email)
    page = client.get("/admin/campaigns").get_data(as_text=True)
    assert "Shoppers you may contact now" in page
    bad = client.post("/admin/campaigns", data={"csrf_token": csrf_token(page), "channel": "email", "products": "50"})
    assert bad.status_code == 422 and "Choose from 0 to 10 products." in bad.get_data(as_text=True)
    download = client.post(
        "/admin/campaigns", data={"csrf_token": csrf_token(page), "channel": "sms", "format": "json", "products": "2"}
    )
    assert download.status_code == 200 and json.loads(download.get_data(as_text=True))["channel"] == "sms"
    assert "No messages yet." in client.get("/admin/outbox").get_data(as_text=True)


def test_a_consent_receipt_lists_every_decision_with_its_text_hash(app: Flask, client: FlaskClient) -> None:
    from quiz.privacy.explainer import explainer_for

    auth = grant(client, **EVERYTHING)
    client.patch("/api/v1/me/consents", json={"purposes": {"sms": False}}, headers=auth)
    token = auth["Authorization"].split()[1]
    receipt = client.get(f"/privacy/{token}/receipt.json")
    assert receipt.headers["Content-Disposition"].startswith("attachment")
    data = receipt.json
    shown = explainer_for("Trailhead Supply Co.", 24, "en")
    assert [d["action"] for d in data["decisions"]] == ["grant", "change"]
    assert data["decisions"][0]["text_sha256"] == shown.sha256 and data["decisions"][0]["explainer_locale"] == "en"
    assert data["in_force"] == {"recommendations": True, "profile": True, "email": True, "sms": False}
    assert data["controller"]["name"] == "Trailhead Supply Co."
    page = client.get(f"/privacy/{token}/receipt", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "Justificante de consentimiento" in page and shown.sha256 in page and "SMS: no" in page


def test_the_serving_process_purges_expired_data_by_itself(app: Flask, client: FlaskClient) -> None:
    import datetime as dt
    import time

    import sqlalchemy as sa

    from quiz.models import Profile
    from quiz.platform.db import get_session
    from quiz.privacy import retention

    finish(client)
    with app.app_context(), transaction():
        get_session().execute(sa.update(Profile).values(expires_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC)))
    retention.start(app, interval=0.05)
    try:
        for _ in range(100):
            with app.app_context():
                if not get_session().scalars(sa.select(Profile)).all():
                    break
            time.sleep(0.05)
        with app.app_context():
            assert get_session().scalars(sa.select(Profile)).all() == []
    finally:
        retention.stop(app)


def test_exports_carry_answer_labels_and_absolute_links_as_klaviyo_imports_them(
    app: Flask, client: FlaskClient, outbox: Path
) -> None:
    """Klaviyo's CSV import: one row per profile, Email, First Name and custom properties as plain text; a
    relative image URL would break in every email tool, and option ids mean nothing to a marketer."""
    key = demo_key(app)
    finish(client, email="lin@example.com", intent="myself", styles=["technical", "classic"], budget=[0, 250])
    assert "is confirmed" in confirm(client, confirmation_link(outbox, "lin@example.com"))
    rows = export(client, key)
    (row,) = [r for r in rows if r["Email"] == "lin@example.com"]
    assert row["quiz_intent"] == "Shopping for myself"
    assert row["quiz_styles"] == "Technical and performance, Classic"
    assert row["quiz_budget"] == "0 to 250"
    assert row["quiz_timing"] == "This month" and row["quiz_country"] == "Germany"
    links = [row[f"product_{n}_{kind}"] for n in (1, 2, 3) for kind in ("url", "image_url")]
    assert all(link.startswith(("http://", "https://")) for link in links), links
    assert any(link.startswith("http://localhost/static/") for link in links), "the demo's own pictures, made absolute"
    data = export(client, key, kind="json")
    (person,) = [p for p in data["recipients"] if p["address"] == "lin@example.com"]
    assert person["answers"]["styles"] == ["technical", "classic"], "JSON keeps the stored values"
    assert person["answer_labels"]["styles"] == "Technical and performance, Classic"
    assert all(p["image_url"].startswith("http") for p in person["products"])
    saved, app.config["PUBLIC_URL"] = app.config.get("PUBLIC_URL"), "https://quiz.shop.example"
    try:
        (row,) = [r for r in export(client, key) if r["Email"] == "lin@example.com"]
        assert row["product_1_image_url"].startswith("https://quiz.shop.example/static/")
    finally:
        app.config["PUBLIC_URL"] = saved


def test_absolute_urls_keep_http_resolve_paths_and_drop_other_schemes() -> None:
    from quiz.marketing.campaigns import absolute_url

    assert (
        absolute_url("/static/demo/a.svg", "https://quiz.shop.example") == "https://quiz.shop.example/static/demo/a.svg"
    )
    assert absolute_url("https://cdn.example/a.jpg", "https://quiz.shop.example/") == "https://cdn.example/a.jpg"
    assert absolute_url("javascript:alert(1)", "https://quiz.shop.example/") == ""
    assert absolute_url("", "https://quiz.shop.example/") == ""
