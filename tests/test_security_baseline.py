"""The security baseline on every route: headers, framing, HSTS, cookie flags; inert catalog HTML; quiet logs.

The walk enumerates ``app.url_map``: a route added tomorrow is walked tomorrow, with no list to
keep up to date here.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import Flask, Response
from flask.testing import FlaskClient
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from quiz import merchants
from quiz.catalog.sync import rebuild_index, upsert_products
from quiz.models import Product
from quiz.platform.db import get_engine, get_session, transaction
from recommender import ProductRecord

from .conftest import SECRET, _clean, csrf_token, make_app
from .helpers import bearer, grant, make_merchant, upload, wait_for_import
from .test_admin import PASSWORD, log_in
from .test_shopper_pages import ABOUT, INTENT, PREFERENCES, privacy_link_after_quiz

HSTS = "max-age=31536000; includeSubDomains"
PARTNER = "http://localhost:5001"  # DEMO_PARTNER_ORIGIN: the demo merchant lets it frame the widget
OK_REFERRER = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}


class HttpsClient(FlaskClient):
    """A test client whose every request arrives over HTTPS (as behind TLS)."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        kwargs.setdefault("base_url", "https://localhost")
        return super().open(*args, **kwargs)


def policy(header: str) -> dict[str, list[str]]:
    """Split a Content-Security-Policy into its directives."""
    directives = {}
    for part in filter(None, (p.strip() for p in header.split(";"))):
        name, *sources = part.split()
        directives[name.lower()] = sources
    return directives


def header_problems(response: TestResponse, *, widget: bool, secure: bool, cookie_secure: bool) -> list[str]:
    """Return what is missing or wrong in one response's security headers and cookies."""
    found: list[str] = []
    headers = response.headers
    csp = policy(headers.get("Content-Security-Policy", ""))
    scripts = csp.get("script-src", csp.get("default-src"))
    if not scripts:
        found.append("no CSP script-src")
    elif {"'unsafe-inline'", "'unsafe-eval'", "*"} & set(scripts):
        found.append(f"unsafe script-src {scripts}")
    if headers.get("X-Content-Type-Options") != "nosniff":
        found.append("no nosniff")
    if headers.get("Referrer-Policy") not in OK_REFERRER:
        found.append(f"Referrer-Policy {headers.get('Referrer-Policy')!r}")
    if not headers.get("Permissions-Policy"):
        found.append("no Permissions-Policy")
    ancestors = csp.get("frame-ancestors")
    framed = ancestors is not None and ancestors != ["'none'"]
    if not ancestors:
        found.append("no frame-ancestors")
    elif framed and not widget:
        found.append(f"a page outside the widget may be framed by {ancestors}")
    elif framed and any(a == "*" or not a.startswith(("https://", "http://")) for a in ancestors):
        found.append(f"widget framed by {ancestors}")
    if framed and "X-Frame-Options" in headers:
        found.append("X-Frame-Options on a framable widget page would block its partner sites")
    if not framed and headers.get("X-Frame-Options") != "DENY":
        found.append("no X-Frame-Options DENY")
    hsts = headers.get("Strict-Transport-Security")
    if secure and hsts != HSTS:
        found.append(f"HSTS {hsts!r} over HTTPS")
    if not secure and hsts is not None:
        found.append("HSTS over plain HTTP")
    for cookie in headers.getlist("Set-Cookie"):
        flags = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")[1:]}
        if "httponly" not in flags or flags.get("samesite", "").lower() not in ("samesite=lax", "samesite=strict"):
            found.append(f"cookie without HttpOnly/SameSite: {cookie}")
        if cookie_secure and "secure" not in flags:
            found.append(f"cookie without Secure: {cookie}")
    if response.status_code == 500:
        found.append("500")
    return found


def fill(rule: Rule, values: dict[str, str]) -> str:
    """Return the rule's path with its variables filled from ``values`` (a dummy where none is known)."""

    def value(match: re.Match[str]) -> str:
        converter, name = match.group(1) or "", match.group(2)
        return quote(values.get(name, "1" if converter.startswith("int") else "x"), safe="/")

    path = re.sub(r"<(?:([^:<>]+):)?([^<>]+)>", value, rule.rule)
    return path + (f"?origin={quote(PARTNER)}" if rule.endpoint.startswith("widget.") else "")


def walk(app: Flask, roles: dict[str, tuple[FlaskClient, dict[str, str]]], values: dict[str, str]) -> list[str]:
    """Request every route of the app as each role (GET), and anonymously by every other method.

    Returns one line per problem found ("GET /path as role: what").
    """
    secure = issubclass(app.test_client_class or FlaskClient, HttpsClient)
    cookie_secure = bool(app.config["SESSION_COOKIE_SECURE"])
    found: list[str] = []
    rules = sorted(app.url_map.iter_rules(), key=lambda r: r.rule)
    assert len(rules) > 50, "the walk must see the whole app"
    for rule in rules:
        path = fill(rule, values)
        methods = sorted((rule.methods or set()) - {"OPTIONS"})
        for role, (client, headers) in roles.items():
            sent_by = methods if role == "anonymous" else [m for m in methods if m == "GET"]
            for method in sent_by:
                # Anonymous requests with no body or CSRF token: refused, so never destructive.
                sent = headers if path.startswith("/api/") else {}
                with client.open(path, method=method, headers=sent) as response:  # closes streamed files
                    widget = rule.endpoint.startswith("widget.")
                    for problem in header_problems(response, widget=widget, secure=secure, cookie_secure=cookie_secure):
                        found.append(f"{method} {path} as {role} ({response.status_code}): {problem}")
    return found


def set_up_roles(app: Flask, slug: str) -> tuple[dict[str, tuple[FlaskClient, dict[str, str]]], dict[str, str]]:
    """Return the clients of an anonymous visitor, a shopper mid-way and an admin, and real path values."""
    shop = make_merchant(app, slug)
    shopper = app.test_client()
    link = privacy_link_after_quiz(shopper)
    token = link.removeprefix("/privacy/")
    admin = app.test_client()
    logged_in = log_in(admin, shop.admin_email)
    assert logged_in.status_code == 302
    with app.app_context():
        demo = merchants.get_by_slug("demo")
        product = get_session().scalar(
            sa.select(Product.external_id).where(Product.merchant_id == demo.id).order_by(Product.id).limit(1)
        )
    values = {"slug": "demo", "section_id": "about", "token": token, "product_id": product, "filename": "js/quiz.js"}
    roles = {
        "anonymous": (app.test_client(), {}),
        "shopper": (shopper, {"Authorization": f"Bearer {token}"}),
        "admin": (admin, bearer(shop.api_key)),
    }
    cookie_secure = bool(app.config["SESSION_COOKIE_SECURE"])
    secure = issubclass(app.test_client_class or FlaskClient, HttpsClient)
    setup = header_problems(logged_in, widget=False, secure=secure, cookie_secure=cookie_secure)
    assert setup == [], setup
    return roles, values


def test_every_route_sends_the_security_headers_over_http(app: Flask) -> None:
    roles, values = set_up_roles(app, "walker")
    assert walk(app, roles, values) == []


@pytest.fixture
def https_app(database_url: str, instance_path: Path, demo_loaded: None) -> Iterator[Flask]:
    """An app served over HTTPS with Secure session cookies (SESSION_COOKIE_SECURE on)."""
    secure = make_app(database_url, instance_path, SESSION_COOKIE_SECURE=True)
    secure.test_client_class = HttpsClient
    yield secure
    _clean(secure)


def test_every_route_sends_the_security_headers_and_hsts_over_https(https_app: Flask) -> None:
    roles, values = set_up_roles(https_app, "tlswalker")
    assert walk(https_app, roles, values) == []


def test_the_walk_catches_a_new_route_without_the_baseline(database_url: str, instance_path: Path) -> None:
    """The walk is not a fixed list: a route added to the app is walked, and its faults are reported."""
    probe = make_app(database_url, instance_path)

    @probe.get("/probe/inline-scripts")
    def inline_scripts() -> Response:
        return Response("x", headers={"Content-Security-Policy": "script-src 'self' 'unsafe-inline'"})

    @probe.get("/probe/cookie")
    def cookie() -> Response:
        response = Response("x")
        response.set_cookie("tracker", "1")
        return response

    found = walk(probe, {"anonymous": (probe.test_client(), {})}, {})
    assert any(line.startswith("GET /probe/inline-scripts") and "unsafe script-src" in line for line in found), found
    assert any(line.startswith("GET /probe/cookie") and "without HttpOnly" in line for line in found), found
    assert all(line.split()[1].startswith("/probe/") for line in found), found
    with probe.app_context():
        get_engine().dispose()


def test_proxy_headers_count_only_when_proxy_hops_is_set(
    app: Flask, database_url: str, instance_path: Path, client: FlaskClient
) -> None:
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    assert "Strict-Transport-Security" not in client.get("/healthz", headers=forwarded).headers
    proxied = make_app(database_url, instance_path, PROXY_HOPS=1, RATELIMIT_LOGIN="2 per minute")
    behind = proxied.test_client()
    assert behind.get("/healthz", headers=forwarded).headers["Strict-Transport-Security"] == HSTS
    # The client address for rate limits is the proxy's X-Forwarded-For, and only with PROXY_HOPS.
    for email in ("a@x.example", "b@x.example"):
        page = behind.get("/admin/login").get_data(as_text=True)
        data = {"csrf_token": csrf_token(page), "email": email, "password": "not the password"}
        assert behind.post("/admin/login", data=data, headers=forwarded).status_code == 401
    assert behind.post("/admin/login", data=data, headers=forwarded).status_code == 429
    other = {**forwarded, "X-Forwarded-For": "203.0.113.8"}
    assert behind.post("/admin/login", data=data, headers=other).status_code == 401
    direct = make_app(database_url, instance_path, RATELIMIT_LOGIN="2 per minute").test_client()
    for address in ("203.0.113.7", "203.0.113.8"):  # without PROXY_HOPS the header is anybody's to write
        page = direct.get("/admin/login").get_data(as_text=True)
        data = {"csrf_token": csrf_token(page), "email": "c@x.example", "password": "not the password"}
        assert direct.post("/admin/login", data=data, headers={"X-Forwarded-For": address}).status_code == 401
    assert direct.post("/admin/login", data=data, headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 429
    for extra in (proxied, direct.application):
        with extra.app_context():
            get_engine().dispose()


class Markup(HTMLParser):
    """The elements, attributes and text of a page, as a browser would parse them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def assert_inert(html: str, *visible: str) -> None:
    """Check a page runs no script from data: no handlers, no javascript: links, no inline scripts."""
    page = Markup(html)
    for tag, attrs in page.tags:
        handlers = [name for name in attrs if name.startswith("on")]
        assert not handlers, (tag, attrs)
        for name in ("href", "src", "action", "formaction", "srcset", "xlink:href"):
            assert not attrs.get(name, "").strip().lower().startswith("javascript:"), (tag, attrs)
        if tag == "script":
            assert "src" in attrs or attrs.get("type") == "application/json", attrs
    text = "".join(page.text)
    for shown in visible:
        assert shown in text, f"{shown!r} is not shown as text"


HOSTILE_IMPORT = [
    {
        "id": "X1",
        "title": "Storm Shell Jacket<script>alert('title')</script>",
        "description": "<p>Waterproof <img src=x onerror=alert('description')> shell</p><script>alert(2)</script>",
        "price": 120,
        "url": "https://shop.test/x1",
        "image_url": "https://cdn.shop.test/x1.jpg",
        "category": "Jackets",
    },
    {"id": "X2", "title": "Link Jacket", "price": 80, "url": "javascript:alert('url')", "category": "Jackets"},
]
# Written past the importer (an older import, another tool): the pages must still render it inert.
RAW_TITLE = "<img src=x onerror=alert('t3')>Trail Jacket"
RAW = ProductRecord(
    "X3",
    RAW_TITLE,
    "<b onmouseover=alert(1)>warm</b> waterproof jacket",
    category="Jackets",
    price=90.0,
    url="javascript:alert('u3')",
    image_url="javascript:alert('i3')",
)


def site_quiz(client: FlaskClient, slug: str) -> TestResponse:
    """Accept all on ``slug``'s own site, answer every section and return the results page."""
    page = client.get(f"/m/{slug}/").get_data(as_text=True)
    version = re.search(r'name="explainer_version" type="hidden" value="([^"]+)"', page).group(1)
    form = {"csrf_token": csrf_token(page), "explainer_version": version, "accept_all": "1"}
    assert client.post(f"/m/{slug}/consent", data=form).status_code == 302
    for section, answers in (("about", ABOUT), ("intent", {**INTENT, "looking_for": "waterproof jacket"})):
        page = client.get(f"/m/{slug}/quiz/{section}").get_data(as_text=True)
        assert (
            client.post(f"/m/{slug}/quiz/{section}", data={"csrf_token": csrf_token(page), **answers}).status_code
            == 302
        )
    page = client.get(f"/m/{slug}/quiz/preferences").get_data(as_text=True)
    done = client.post(f"/m/{slug}/quiz/preferences", data={"csrf_token": csrf_token(page), **PREFERENCES})
    assert done.status_code == 302 and done.headers["Location"].endswith("/results"), done.get_data(as_text=True)
    return client.get(f"/m/{slug}/results")


def test_catalog_html_and_script_urls_render_inert(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "hostile")
    sent = upload(client, shop.api_key, "hostile.json", json.dumps(HOSTILE_IMPORT).encode())
    status = wait_for_import(client, shop.api_key, sent.json["id"])
    assert status["status"] == "done"
    refused = [(e["row"], e["field"]) for e in status["errors"]]
    assert refused == [(2, "url")] and status["processed"] == 2 and status["failed"] == 1, status
    with app.app_context():
        rows = {
            p.external_id: p
            for p in get_session().scalars(sa.select(Product).where(Product.merchant_id == shop.merchant.id))
        }
        assert set(rows) == {"X1"}, "the javascript: link is refused, not stored"
        assert not str(rows["X1"].description).count("<"), rows["X1"].description  # sanitised to text
        assert "onerror" not in rows["X1"].description and "alert(2)" not in rows["X1"].description
        assert all(not (p.url or "").lower().startswith("javascript:") for p in rows.values())
        with transaction():
            merchant = merchants.get_by_slug("hostile")
            upsert_products(merchant, [RAW])
            rebuild_index(merchant)

    results = site_quiz(client, "hostile")
    assert results.status_code == 200
    html = results.get_data(as_text=True)
    assert_inert(html, RAW_TITLE, "Storm Shell Jacket")
    assert "alert('title')" not in html, "the importer dropped the script, content and all"
    assert client.get("/m/hostile/go/X3").status_code == 404, "a javascript: product link is never followed"

    admin = app.test_client()
    assert log_in(admin, shop.admin_email).status_code == 302
    listing = admin.get("/admin/products")
    assert listing.status_code == 200
    assert_inert(listing.get_data(as_text=True), RAW_TITLE, "Storm Shell Jacket")


def test_no_password_api_key_or_token_reaches_a_log_record(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    shop = make_merchant(app, "quietlogs")
    wrong = "Wrong-But-Secret-Guess-42"
    assert log_in(client, shop.admin_email, wrong).status_code == 401
    assert log_in(client, shop.admin_email, PASSWORD).status_code == 302
    assert client.get("/api/v1/products", headers=bearer(shop.api_key)).status_code == 200
    auth = grant(client, profile=True)
    token = auth["Authorization"].removeprefix("Bearer ")
    body = {"answers": {"looking_for": "waterproof jacket"}, "limit": 3}
    assert client.post("/api/v1/m/demo/recommendations", json=body, headers=auth).status_code == 200
    assert client.get("/api/v1/me", headers=auth).status_code == 200
    assert client.get(f"/privacy/{token}").status_code == 200  # the token rides in this page's path
    for _ in range(6):  # past the account's limit: Flask-Limiter logs the breach with its key
        log_in(client, shop.admin_email, wrong)
    assert caplog.records, "nothing was logged: this test would prove nothing"
    secrets = {
        "password": PASSWORD,
        "wrong password": wrong,
        "API key": shop.api_key,
        "token": token,
        "SECRET_KEY": SECRET,
    }
    for record in caplog.records:
        text = record.getMessage() + " " + repr(vars(record))
        for name, secret in secrets.items():
            assert secret not in text, f"the {name} is in a log record of {record.name}: {record.getMessage()[:200]}"
