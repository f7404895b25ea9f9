"""The embeddable widget without a browser: framing rules, cookie-free state and CSRF, partner sites."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from quiz import merchants
from quiz.merchants import partners
from quiz.models import ConsentRecord, Profile
from quiz.platform.db import get_session, transaction
from quiz.privacy.explainer import explainer_for
from quiz.shopper.widget import embed_version, parse_hidden

from .conftest import csrf_token
from .helpers import bearer, make_merchant
from .test_admin import log_in
from .test_shopper_pages import ABOUT, INTENT, PREFERENCES

PARTNER = "https://partner.example"


@pytest.fixture
def allow(app: Flask) -> Iterator[Any]:
    """Set the demo merchant's partner sites for a test; put them back afterwards."""
    with app.app_context():
        before = list(merchants.get_by_slug("demo").partner_origins)

    def set_origins(*origins: str) -> None:
        with app.app_context(), transaction():
            partners.set_origins(merchants.get_by_slug("demo"), origins)

    set_origins(PARTNER)
    yield set_origins
    set_origins(*before)


@pytest.fixture
def framed(app: Flask) -> FlaskClient:
    """A client that never sends or keeps cookies, like a partner's iframe with third-party cookies blocked."""
    return app.test_client(use_cookies=False)


def fetch(client: FlaskClient, url: str, data: dict[str, Any] | None = None) -> TestResponse:
    """GET (or POST ``data`` to) a widget page; a widget page must never try to set a cookie."""
    response = client.post(url, data=data) if data is not None else client.get(url)
    assert "Set-Cookie" not in response.headers, (url, response.headers["Set-Cookie"])
    return response


def state(page: str) -> str:
    return re.search(r'name="state" value="([^"]+)"', page).group(1)


def events(page: str) -> list[dict[str, Any]]:
    raw = re.search(r'<script type="application/json" id="widget-events">(.*?)</script>', page, re.S).group(1)
    return json.loads(raw)


def start(client: FlaskClient, hidden: str = "") -> str:
    url = f"/w/demo/?origin={quote(PARTNER)}&lang=en" + (f"&hidden={quote(hidden)}" if hidden else "")
    response = fetch(client, url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def consent(client: FlaskClient, page: str, button: str = "accept_all") -> TestResponse:
    version = re.search(r'name="explainer_version" type="hidden" value="([^"]+)"', page).group(1)
    data = {"csrf_token": csrf_token(page), "state": state(page), "explainer_version": version, button: "1"}
    return fetch(client, "/w/demo/consent", data)


def test_only_widget_pages_may_be_framed_and_only_by_allowed_sites(client: FlaskClient, allow: Any) -> None:
    allow(PARTNER, "http://localhost:5001")
    widget = client.get(f"/w/demo/?origin={quote(PARTNER)}")
    assert widget.status_code == 200
    policy = widget.headers["Content-Security-Policy"]
    assert "frame-ancestors https://partner.example http://localhost:5001" in policy
    assert "X-Frame-Options" not in widget.headers, "it cannot name several sites and would block them all"
    assert widget.headers["Cache-Control"] == "no-store"
    for path in ("/", "/m/demo/", "/admin/login", "/api/v1/m/demo/quiz", "/embed.js"):
        response = client.get(path)
        response.close()
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert response.headers["Content-Security-Policy"].endswith("frame-ancestors 'none'"), path

    allow()
    nobody = client.get(f"/w/demo/?origin={quote(PARTNER)}")
    assert nobody.status_code == 403 and "frame-ancestors 'none'" in nobody.headers["Content-Security-Policy"]
    assert nobody.headers["X-Frame-Options"] == "DENY"


def test_widget_pages_refuse_to_open_at_the_top_level(client: FlaskClient, allow: Any) -> None:
    url = f"/w/demo/?origin={quote(PARTNER)}"
    assert client.get(url, headers={"Sec-Fetch-Dest": "iframe"}).status_code == 200
    top = client.get(url, headers={"Sec-Fetch-Dest": "document"})
    assert top.status_code == 403, "a link carrying somebody's run must not open as a page"
    assert "This page works only inside the quiz on a partner site." in top.get_data(as_text=True)


def test_an_expired_run_starts_again_on_the_same_partner_site(framed: FlaskClient, allow: Any) -> None:
    page = start(framed)
    page = fetch(framed, consent(framed, page).headers["Location"]).get_data(as_text=True)
    gone = fetch(framed, f"/w/demo/quiz/about?origin={quote(PARTNER)}&state=expired", None)
    assert gone.status_code == 302
    again = fetch(framed, gone.headers["Location"])
    assert again.status_code == 200, "the address keeps the partner origin, checked against the list again"
    assert "Please make a choice about your data first." in again.get_data(as_text=True)


def test_a_page_naming_a_site_that_is_not_allowed_is_refused(client: FlaskClient, allow: Any) -> None:
    for origin in ("https://evil.example", "", "javascript:alert(1)", "https://partner.example.evil.example"):
        response = client.get(f"/w/demo/?origin={quote(origin)}")
        assert response.status_code == 403, origin
        assert "This site may not show this quiz." in response.get_data(as_text=True)


def test_a_whole_widget_run_works_without_any_cookie(app: Flask, framed: FlaskClient, allow: Any) -> None:
    page = start(framed, hidden="campaign_id=spring24")
    assert "You are taking this quiz on partner.example" in page, "the explainer names the partner site"
    assert 'data-parent-origin="https://partner.example"' in page
    assert events(page) == []

    response = consent(framed, page)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/w/demo/quiz/about?") and "state=" in location and "lang=en" in location
    page = fetch(framed, location).get_data(as_text=True)
    assert [e["type"] for e in events(page)] == ["consent", "started", "step"]
    assert events(page)[0]["data"] == {"purposes": ["recommendations", "profile", "email", "sms"]}
    for section, answers in (("about", ABOUT), ("intent", INTENT), ("preferences", PREFERENCES)):
        url = f"/w/demo/quiz/{section}"
        response = fetch(framed, url, {"csrf_token": csrf_token(page), "state": state(page), **answers})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        page = fetch(framed, response.headers["Location"]).get_data(as_text=True)
        if section != "preferences":
            assert [e["type"] for e in events(page)] == ["step"], "consent and start are told once"

    assert "Picked for you" in page and 'target="_top"' in page
    (completed,) = events(page)
    assert completed["type"] == "completed" and len(completed["data"]["items"]) == 12
    assert set(completed["data"]["items"][0]) == {"id", "title", "url", "price", "currency"}, "no answers"
    with app.app_context():
        profile = get_session().scalars(sa.select(Profile)).one()
        record = get_session().scalars(sa.select(ConsentRecord)).one()
    assert completed["data"]["profile_id"] == profile.id
    assert profile.hidden_fields == {"campaign_id": "spring24"}
    assert (record.source, record.origin) == ("widget", PARTNER)
    shown = explainer_for("Trailhead Supply Co.", 24, "en", partner="partner.example")
    assert record.text_sha256 == shown.sha256, "the hash covers the partner section the shopper read"


def test_the_privacy_controls_work_inside_the_widget(app: Flask, framed: FlaskClient, allow: Any) -> None:
    page = start(framed)
    page = fetch(framed, consent(framed, page).headers["Location"]).get_data(as_text=True)
    for section, answers in (("about", ABOUT), ("intent", INTENT), ("preferences", PREFERENCES)):
        response = fetch(
            framed, f"/w/demo/quiz/{section}", {"csrf_token": csrf_token(page), "state": state(page), **answers}
        )
        page = fetch(framed, response.headers["Location"]).get_data(as_text=True)
    link = re.search(r'href="(/w/privacy/[^"]+)"', page).group(1).replace("&amp;", "&")
    privacy = fetch(framed, link)
    assert privacy.headers["Content-Security-Policy"].endswith(f"frame-ancestors {PARTNER}")
    text = privacy.get_data(as_text=True)
    assert "Your data at Trailhead Supply Co." in text and 'name="state"' in text
    token = link.split("/")[3].split("?")[0]
    form = {"csrf_token": csrf_token(text), "state": state(text)}
    asked = fetch(framed, f"/w/privacy/{token}/delete", form)
    assert asked.status_code == 200 and "Yes, delete my data" in asked.get_data(as_text=True), "asked first"
    delete = fetch(framed, f"/w/privacy/{token}/delete", {**form, "confirmed": "yes"})
    assert delete.status_code == 302
    after = fetch(framed, delete.headers["Location"]).get_data(as_text=True)
    assert "Your data is deleted" in after, "the message travels in the link, not in a cookie"
    with app.app_context():
        assert get_session().scalars(sa.select(Profile)).all() == []
        assert get_session().scalars(sa.select(ConsentRecord).order_by(ConsentRecord.id)).all()[-1].source == "widget"


def test_widget_forms_refuse_missing_forged_and_foreign_tokens(app: Flask, framed: FlaskClient, allow: Any) -> None:
    first, second = start(framed), start(framed)
    version = re.search(r'name="explainer_version" type="hidden" value="([^"]+)"', first).group(1)
    base = {"explainer_version": version, "accept_all": "1"}

    no_state = fetch(framed, "/w/demo/consent", {**base, "csrf_token": csrf_token(first)})
    assert no_state.status_code == 400
    forged = fetch(framed, "/w/demo/consent", {**base, "csrf_token": csrf_token(first), "state": state(first) + "x"})
    assert forged.status_code == 400
    foreign = fetch(framed, "/w/demo/consent", {**base, "csrf_token": csrf_token(second), "state": state(first)})
    assert foreign.status_code == 400, "a form token is bound to its own widget run"
    assert "This page expired; please choose again." in foreign.get_data(as_text=True)
    no_csrf = fetch(framed, "/w/demo/consent", {**base, "state": state(first)})
    assert no_csrf.status_code == 400
    with app.app_context():
        assert get_session().scalars(sa.select(ConsentRecord)).all() == []
    assert consent(framed, first).status_code == 302


def test_error_pages_in_the_widget_tell_the_host_page(framed: FlaskClient) -> None:
    response = fetch(framed, "/w/privacy/not-a-token?lang=en")
    assert response.status_code == 404
    assert events(response.get_data(as_text=True)) == [
        {"type": "error", "data": {"status": 404, "message": "This privacy link is not valid."}}
    ]


def test_hidden_fields_are_checked_and_problems_reported() -> None:
    fields, problems = parse_hidden("campaign_id=spring24, ref=blog,bad key=x,,=empty")
    assert fields == {"campaign_id": "spring24", "ref": "blog"}
    assert len(problems) == 2 and all("ignored" in p for p in problems)
    many, problems = parse_hidden(",".join(f"k{i}=v" for i in range(12)))
    assert len(many) == 10 and len(problems) == 2


def test_bad_hidden_fields_reach_the_host_page_as_an_error_event(framed: FlaskClient, allow: Any) -> None:
    page = start(framed, hidden="fine=1,not fine=2")
    assert [e["type"] for e in events(page)] == ["error"]
    assert "not fine" in events(page)[0]["data"]["message"]


def test_partner_origins_through_the_api(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "embedder")
    auth = bearer(shop.api_key)
    bad = client.put(
        "/api/v1/widget/origins",
        json={"origins": ["https://ok.example", "ftp://x", "https://a.example/path"]},
        headers=auth,
    )
    assert bad.status_code == 422
    assert set(bad.json["fields"]) == {"origins[1]", "origins[2]"}
    assert client.get("/api/v1/widget", headers=auth).json["origins"] == [], "nothing changed"
    good = client.put(
        "/api/v1/widget/origins",
        json={"origins": ["HTTPS://Shop.Example:443/", "http://localhost:5001", "https://shop.example"]},
        headers=auth,
    )
    assert good.status_code == 200
    assert good.json["origins"] == ["https://shop.example", "http://localhost:5001"]
    assert f"/embed.js?v={embed_version()}" in good.json["script"]
    assert 'data-attune-quiz="embedder"' in good.json["snippet"] and good.json["script"] in good.json["snippet"]
    assert client.put("/api/v1/widget/origins", json={"origins": "https://x.example"}, headers=auth).status_code == 422
    assert client.get("/api/v1/widget").status_code == 401


def test_partner_sites_in_the_admin(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "adminembed")
    log_in(client, shop.admin_email)
    page = client.get("/admin/widget").get_data(as_text=True)
    assert 'data-attune-quiz="adminembed"' in html.unescape(page) and "embed.js?v=" in page
    bad = client.post(
        "/admin/widget", data={"csrf_token": csrf_token(page), "origins": "https://ok.example\nnot a site"}
    )
    assert bad.status_code == 422
    assert "is not an origin such as https://shop.example" in bad.get_data(as_text=True)
    good = client.post("/admin/widget", data={"csrf_token": csrf_token(page), "origins": "https://ok.example\n\n"})
    assert good.status_code == 302
    with app.app_context():
        assert merchants.get_by_slug("adminembed").partner_origins == ["https://ok.example"]


def test_the_embed_script_is_cached_by_version(client: FlaskClient) -> None:
    with client.get("/embed.js") as plain:
        assert plain.status_code == 200 and plain.mimetype == "text/javascript"
        assert plain.headers["Cache-Control"] == "public, max-age=3600"
    with client.get(f"/embed.js?v={embed_version()}") as versioned:
        assert "max-age=31536000" in versioned.headers["Cache-Control"]
        assert "immutable" in versioned.headers["Cache-Control"]
    with client.get("/embed.js?v=stale") as stale:
        assert "max-age=3600" in stale.headers["Cache-Control"]


def test_the_widget_never_posts_to_any_origin(client: FlaskClient) -> None:
    with client.get("/static/js/widget.js") as response:
        script = response.get_data(as_text=True)
    calls = re.findall(r"postMessage\(([^;]+)\);", script)
    assert calls and all(call.rstrip(")").endswith("parentOrigin") for call in calls), calls
    assert "'*'" not in script and '"*"' not in script


def test_origins_are_normalised_or_refused() -> None:
    assert partners.normalise_origin("HTTPS://Shop.Example:443") == "https://shop.example"
    assert partners.normalise_origin("http://localhost:5001/") == "http://localhost:5001"
    assert partners.normalise_origin("http://[::1]:8000") == "http://[::1]:8000"
    assert partners.normalise_origin("https://bücher.example") == "https://xn--bcher-kva.example"
    wildcards = ("https://*", "https://*.example", "https://a b.example", "https://a;b.example", "https://a,b")
    for bad in (
        "shop.example",
        "https://",
        "https://shop.example/page",
        "https://u:p@shop.example",
        "data:x",
        *wildcards,
    ):
        with pytest.raises(ValueError):
            partners.normalise_origin(bad)
