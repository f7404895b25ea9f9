"""Webhooks cannot reach the private network: registration, each attempt, redirects, error text.

The finding (issue 14): a merchant registered ``http://0x7f000001:9/`` or
``http://127.0.0.1:5600/healthz`` and read "connection refused" or the status code back, a port
scanner into the host's network. DNS is outside our control, so the rebinding and pinning tests
give the app a resolver function (``WEBHOOK_RESOLVER``); the connections themselves are real.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from quiz import merchants
from quiz.merchants import webhooks
from quiz.models import Webhook
from quiz.platform.db import get_session, transaction

from .conftest import csrf_token
from .helpers import bearer, grant, make_merchant
from .test_admin import log_in
from .test_webhooks import Receiver, deliveries

PUBLIC = "93.184.216.34"  # a public address; no test connects to it

PRIVATE_URLS = [
    "http://0x7f000001:9/",
    "http://2130706433/",
    "http://017700000001/",
    "http://127.1:5600/healthz",
    "http://0x7f.1/",
    "http://127.0.0.1:5600/healthz",
    "http://127.0.0.1./",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]:8080/",
    "http://[::1]:8080/",
    "http://0.0.0.0/",
    "http://0/",
    "http://[::]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.5/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://[fe80::1]/",
    "http://[fd00::1]/",
    "http://[2002:7f00:1::]/",  # 6to4 wrapping 127.0.0.1
    "https://localhost:5600/healthz",
    "http://LocalHost/",
]


@pytest.fixture
def no_thread(app: Flask) -> Iterator[Flask]:
    """Queue without a sending thread (as a web worker of `make serve`): the test runs each round."""
    app.config["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    yield app
    app.config["REDIS_URL"] = None


def resolver_of(table: dict[str, list[str]], calls: list[str] | None = None) -> Any:
    """Return a resolver answering from ``table`` (a name missing from it does not resolve)."""

    def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return table[host]

    return resolve


def deliver_one(app: Flask, client: FlaskClient, slug: str, key: str, hook_id: str) -> dict[str, Any]:
    """Queue one consent.changed event, run one delivery round, return the delivery as the API shows it."""
    grant(client, slug)
    with app.app_context():
        assert webhooks.deliver_due() == 1
    (delivery,) = deliveries(client, key, hook_id)
    return delivery


def test_private_addresses_in_every_spelling_are_refused_by_api_and_admin(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "scanner")
    for url in PRIVATE_URLS:
        refused = client.post("/api/v1/webhooks", json={"url": url}, headers=bearer(shop.api_key))
        assert refused.status_code == 422, url
        assert refused.json["fields"]["url"] == [webhooks.PRIVATE_URL], url
    log_in(client, shop.admin_email)
    token = csrf_token(client.get("/admin/webhooks").get_data(as_text=True))
    for url in PRIVATE_URLS:
        page = client.post("/admin/webhooks", data={"csrf_token": token, "url": url})
        assert page.status_code == 422, url
        assert "Webhooks go to public addresses only" in page.get_data(as_text=True), url
    assert client.get("/api/v1/webhooks", headers=bearer(shop.api_key)).json["items"] == [], "nothing stored"
    public = client.post("/api/v1/webhooks", json={"url": f"https://{PUBLIC}/hook"}, headers=bearer(shop.api_key))
    assert public.status_code == 201, "a public address is still welcome"


def test_a_name_resolving_to_a_private_address_is_refused(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "named")
    app.config["WEBHOOK_RESOLVER"] = resolver_of(
        {"intranet.test": ["10.1.2.3"], "mixed.test": [PUBLIC, "127.0.0.1"], "shop.test": [PUBLIC]}
    )
    for url in ("http://intranet.test/hook", "http://mixed.test/hook"):
        refused = client.post("/api/v1/webhooks", json={"url": url}, headers=bearer(shop.api_key))
        assert refused.status_code == 422 and refused.json["fields"]["url"] == [webhooks.PRIVATE_URL], url
    made = client.post("/api/v1/webhooks", json={"url": "http://shop.test/hook"}, headers=bearer(shop.api_key))
    assert made.status_code == 201


def test_by_default_a_local_receiver_is_refused_at_registration_and_at_delivery(
    no_thread: Flask, client: FlaskClient
) -> None:
    app, receiver = no_thread, Receiver()
    try:
        shop = make_merchant(app, "defaults")
        refused = client.post("/api/v1/webhooks", json={"url": receiver.url}, headers=bearer(shop.api_key))
        assert refused.status_code == 422
        with app.app_context(), transaction():  # as if registered before addresses were checked
            hook = Webhook(merchant_id=merchants.get_by_slug("defaults").id, url=receiver.url, secret="s" * 64)
            get_session().add(hook)
            get_session().flush()
            hook_id = hook.id
        delivery = deliver_one(app, client, "defaults", shop.api_key, hook_id)
        assert receiver.received == [], "nothing reaches the local receiver"
        assert delivery["last_error"] == "address not allowed" and delivery["last_status"] is None
    finally:
        receiver.server.shutdown()


def test_a_name_rebound_to_a_private_address_after_registration_reaches_nothing(
    no_thread: Flask, client: FlaskClient
) -> None:
    app, receiver = no_thread, Receiver()
    try:
        shop = make_merchant(app, "rebind")
        port = receiver.server.server_port
        app.config["WEBHOOK_RESOLVER"] = resolver_of({"rebind.test": [PUBLIC]})
        made = client.post(
            "/api/v1/webhooks", json={"url": f"http://rebind.test:{port}/hook"}, headers=bearer(shop.api_key)
        )
        assert made.status_code == 201, "public at registration"
        calls: list[str] = []
        app.config["WEBHOOK_RESOLVER"] = resolver_of({"rebind.test": ["127.0.0.1"]}, calls)
        delivery = deliver_one(app, client, "rebind", shop.api_key, made.json["id"])
        assert receiver.received == [] and delivery["last_error"] == "address not allowed"
        assert calls == ["rebind.test"], "resolved once per attempt"
    finally:
        receiver.server.shutdown()


def test_an_attempt_connects_to_the_checked_address_and_keeps_the_host_header(
    no_thread: Flask, client: FlaskClient
) -> None:
    """pinned.test exists in no DNS: the request arrives only because it went to the address checked."""
    app, receiver = no_thread, Receiver()
    try:
        app.config["WEBHOOK_ALLOWED_NETWORKS"] = ["127.0.0.1/32"]
        calls: list[str] = []
        app.config["WEBHOOK_RESOLVER"] = resolver_of({"pinned.test": ["127.0.0.1"]}, calls)
        shop = make_merchant(app, "pinned")
        port = receiver.server.server_port
        made = client.post(
            "/api/v1/webhooks", json={"url": f"http://pinned.test:{port}/hook?x=1"}, headers=bearer(shop.api_key)
        )
        calls.clear()
        delivery = deliver_one(app, client, "pinned", shop.api_key, made.json["id"])
        assert delivery["status"] == "delivered" and calls == ["pinned.test"]
        (request,) = receiver.received
        assert request["headers"]["Host"] == f"pinned.test:{port}"
        assert request["headers"]["Attune-Event"] == "consent.changed"
    finally:
        receiver.server.shutdown()


def test_https_sends_the_url_host_as_tls_server_name(no_thread: Flask, client: FlaskClient) -> None:
    """The TLS ClientHello names the URL's host although the connection goes to the checked address."""
    app = no_thread
    listener = socket.create_server(("127.0.0.1", 0))
    hello: list[bytes] = []

    def read_hello() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(5)
            hello.append(conn.recv(4096))  # then close: the handshake fails, as it should here

    threading.Thread(target=read_hello, daemon=True).start()
    try:
        app.config["WEBHOOK_ALLOWED_NETWORKS"] = ["127.0.0.1/32"]
        app.config["WEBHOOK_RESOLVER"] = resolver_of({"tls-pinned.test": ["127.0.0.1"]})
        shop = make_merchant(app, "tlspinned")
        port = listener.getsockname()[1]
        made = client.post(
            "/api/v1/webhooks", json={"url": f"https://tls-pinned.test:{port}/hook"}, headers=bearer(shop.api_key)
        )
        delivery = deliver_one(app, client, "tlspinned", shop.api_key, made.json["id"])
        assert hello and hello[0][:1] == b"\x16", "a TLS handshake arrived"
        assert b"tls-pinned.test" in hello[0], "SNI is the URL's host name"
        assert delivery["last_error"] in ("TLS handshake failed", "connection failed")
    finally:
        listener.close()


def test_redirects_are_not_followed(no_thread: Flask, client: FlaskClient) -> None:
    app, first, second = no_thread, Receiver(), Receiver()
    try:
        app.config["WEBHOOK_ALLOWED_NETWORKS"] = ["127.0.0.1/32"]
        shop = make_merchant(app, "redirected")
        made = client.post("/api/v1/webhooks", json={"url": first.url}, headers=bearer(shop.api_key))
        first.statuses, first.location = [307], second.url
        delivery = deliver_one(app, client, "redirected", shop.api_key, made.json["id"])
        assert len(first.received) == 1 and second.received == []
        assert delivery["last_status"] == 307 and delivery["last_error"] == "HTTP 307"
        assert delivery["status"] == "pending", "retried later, at the registered URL"
    finally:
        first.server.shutdown()
        second.server.shutdown()


def test_failures_are_reported_without_the_low_level_error(no_thread: Flask, client: FlaskClient) -> None:
    app = no_thread
    app.config.update(WEBHOOK_ALLOWED_NETWORKS=["127.0.0.1/32"], WEBHOOK_TIMEOUT=0.3)
    closed = socket.create_server(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()  # nothing listens there: "connection refused" to a port scanner
    silent = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    shop = make_merchant(app, "quiet")
    urls = {
        f"http://127.0.0.1:{closed_port}/": "connection failed",
        f"http://127.0.0.1:{silent.getsockname()[1]}/": "timed out",
        "https://hooks.invalid/": "host not found",
    }
    ids = {}
    try:
        for url in urls:
            ids[url] = client.post("/api/v1/webhooks", json={"url": url}, headers=bearer(shop.api_key)).json["id"]
        grant(client, "quiet")
        with app.app_context():
            assert webhooks.deliver_due() == 3
        for url, reason in urls.items():
            (delivery,) = deliveries(client, shop.api_key, ids[url])
            assert delivery["last_error"] == reason and delivery["last_status"] is None, url
        log_in(client, shop.admin_email)
        page = client.get("/admin/webhooks").get_data(as_text=True)
        assert all(reason in page for reason in urls.values())
        for leak in ("refused", "Errno", "errno", "timeout", "Name or service"):
            assert leak not in page, leak
    finally:
        silent.close()


def test_error_text_stored_by_older_versions_is_shown_generically(no_thread: Flask, client: FlaskClient) -> None:
    app = no_thread
    shop = make_merchant(app, "legacy")
    made = client.post("/api/v1/webhooks", json={"url": f"https://{PUBLIC}/h"}, headers=bearer(shop.api_key))
    grant(client, "legacy")
    from quiz.models import WebhookDelivery

    with app.app_context(), transaction():
        for row in get_session().query(WebhookDelivery).all():
            row.last_error = "[Errno 111] Connection refused"
    (delivery,) = deliveries(client, shop.api_key, made.json["id"])
    assert delivery["last_error"] == "connection failed"
    log_in(client, shop.admin_email)
    page = client.get("/admin/webhooks").get_data(as_text=True)
    assert "Connection refused" not in page and "connection failed" in page


def test_allowed_networks_allow_exactly_the_networks_named(no_thread: Flask, client: FlaskClient) -> None:
    app, receiver = no_thread, Receiver()
    try:
        app.config["WEBHOOK_ALLOWED_NETWORKS"] = "127.0.0.1/32, fd00:1::/64"
        shop = make_merchant(app, "selfhost")
        port = receiver.server.server_port
        outcomes = {
            url: client.post("/api/v1/webhooks", json={"url": url}, headers=bearer(shop.api_key)).status_code
            for url in (
                f"http://127.0.0.1:{port}/hook",
                f"http://0x7f000001:{port}/hook",
                "http://[::ffff:127.0.0.1]/",
                "http://[fd00:1::5]/",
                "http://127.0.0.2/",
                "http://10.0.0.1/",
                "http://[::1]/",
                "http://[fd00:2::5]/",
            )
        }
        assert list(outcomes.values()) == [201, 201, 201, 201, 422, 422, 422, 422], outcomes
        hooks = client.get("/api/v1/webhooks", headers=bearer(shop.api_key)).json["items"]
        for hook in hooks[1:]:
            client.delete(f"/api/v1/webhooks/{hook['id']}", headers=bearer(shop.api_key))
        delivery = deliver_one(app, client, "selfhost", shop.api_key, hooks[0]["id"])
        assert delivery["status"] == "delivered" and len(receiver.received) == 1

        app.config["WEBHOOK_ALLOWED_NETWORKS"] = ["127.0.0.2/32"]  # the setting changed since registration
        grant(client, "selfhost")
        with app.app_context():
            assert webhooks.deliver_due() == 1
        newest = deliveries(client, shop.api_key, hooks[0]["id"])[0]
        assert newest["last_error"] == "address not allowed" and len(receiver.received) == 1
    finally:
        receiver.server.shutdown()
