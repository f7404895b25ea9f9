"""Webhooks: signed events on quiz completion and consent change, retries, delivery status."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from quiz.merchants import webhooks
from quiz.models import Webhook, WebhookDelivery
from quiz.platform.db import get_session, transaction

from .conftest import csrf_token
from .helpers import bearer, full_answers, grant, make_merchant
from .test_admin import log_in


class Receiver:
    """A local endpoint that records what it receives and answers with the statuses it is given."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.statuses: list[int] = []  # answered in turn; then 204
        self.on_receive: Callable[[dict[str, Any]], None] | None = None  # given the WSGI environ, before the answer
        self.location: str | None = None  # sent as Location (with a 3xx status)
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")}
        self.received.append({"body": body, "headers": headers})
        if self.on_receive is not None:
            self.on_receive(environ)
        status = self.statuses.pop(0) if self.statuses else 204
        extra = [("Location", self.location)] if self.location else []
        start_response(f"{status} X", [("Content-Type", "text/plain"), *extra])
        return [b""]

    def wait_for(self, count: int, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.received) >= count, f"got {len(self.received)} of {count} requests"


LOCAL_RECEIVERS = ["127.0.0.1/32"]  # what a self-hoster with a receiver on this host would allow


@pytest.fixture
def receiver(app: Flask) -> Iterator[Receiver]:
    """Yield a receiver on 127.0.0.1, which the app is set to allow (by default it is refused)."""
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = LOCAL_RECEIVERS
    found = Receiver()
    yield found
    found.server.shutdown()


@pytest.fixture
def quick(app: Flask) -> Iterator[Flask]:
    """Retry within a fraction of a second, and stop the deliverer after the test."""
    app.config.update(WEBHOOK_RETRY_BASE=0.2, WEBHOOK_POLL_SECONDS=0.1, WEBHOOK_MAX_ATTEMPTS=3)
    yield app
    webhooks.stop(app)


def deliveries(client: FlaskClient, key: str, hook_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get(f"/api/v1/webhooks/{hook_id}/deliveries", headers=bearer(key)).json[
        "items"
    ]
    return items


def settled(client: FlaskClient, key: str, hook_id: str, timeout: float = 10) -> None:
    """Wait until no delivery is pending (the receiver answers before the outcome is written)."""
    deadline = time.monotonic() + timeout
    while any(d["status"] == "pending" for d in deliveries(client, key, hook_id)) and time.monotonic() < deadline:
        time.sleep(0.05)


def test_events_are_signed_and_verifiable(quick: Flask, client: FlaskClient, receiver: Receiver) -> None:
    shop = make_merchant(quick, "hooked")
    made = client.post("/api/v1/webhooks", json={"url": receiver.url}, headers=bearer(shop.api_key))
    assert made.status_code == 201 and len(made.json["secret"]) == 64
    auth = grant(client, "hooked", profile=True)
    with quick.app_context():
        from quiz import merchants
        from quiz.catalog.sync import rebuild_index, upsert_products
        from quiz.demo.shop import demo_records
        from quiz.platform.db import transaction

        with transaction():
            upsert_products(merchants.get_by_slug("hooked"), demo_records()[:30])
        with transaction():
            rebuild_index(merchants.get_by_slug("hooked"))
    response = client.post("/api/v1/m/hooked/responses", json={"answers": full_answers()}, headers=auth)
    receiver.wait_for(2)

    events = {r["headers"]["Attune-Event"]: r for r in receiver.received}
    assert set(events) == {"consent.changed", "quiz.completed"}
    completed = json.loads(events["quiz.completed"]["body"])
    assert completed["data"] == {"profile_id": response.json["profile_id"], "quiz_version": 1}
    assert "answers" not in events["quiz.completed"]["body"].decode(), "no answers leave in events"
    consent = json.loads(events["consent.changed"]["body"])
    assert consent["data"]["purposes"]["profile"] is True and consent["data"]["action"] == "grant"
    secret = made.json["secret"]
    for request in receiver.received:
        body, signature = request["body"], request["headers"]["Attune-Signature"]
        assert webhooks.verify(secret, body, signature)
        assert not webhooks.verify(secret, body.replace(b"grant", b"grunt").replace(b"1}", b"2}"), signature)
        assert not webhooks.verify("another secret", body, signature)
        assert not webhooks.verify(secret, body, signature, now=time.time() + 3600), "a replay later fails"
    settled(client, shop.api_key, made.json["id"])
    assert all(d["status"] == "delivered" for d in deliveries(client, shop.api_key, made.json["id"]))


def test_failed_deliveries_are_retried_then_given_up(quick: Flask, client: FlaskClient, receiver: Receiver) -> None:
    shop = make_merchant(quick, "flaky")
    hook = client.post("/api/v1/webhooks", json={"url": receiver.url}, headers=bearer(shop.api_key)).json
    receiver.statuses = [500, 503]
    grant(client, "flaky")
    receiver.wait_for(3)
    settled(client, shop.api_key, hook["id"])
    (delivery,) = deliveries(client, shop.api_key, hook["id"])
    assert delivery["status"] == "delivered" and delivery["attempts"] == 3
    ids = {r["headers"]["Attune-Delivery"] for r in receiver.received}
    assert len(ids) == 1, "retries carry the same delivery id, for deduplication"

    receiver.statuses = [500] * 10
    grant(client, "flaky")
    receiver.wait_for(6)
    settled(client, shop.api_key, hook["id"])
    newest = deliveries(client, shop.api_key, hook["id"])[0]
    assert newest["status"] == "failed" and newest["attempts"] == 3 and newest["last_status"] == 500


def test_webhook_registration_is_checked_and_scoped(app: Flask, client: FlaskClient) -> None:
    shop, other = make_merchant(app, "hookowner"), make_merchant(app, "hookother")
    bad = client.post("/api/v1/webhooks", json={"url": "ftp://x.example"}, headers=bearer(shop.api_key))
    assert bad.status_code == 422 and "url" in bad.json["fields"]
    hook = client.post("/api/v1/webhooks", json={"url": "https://x.example/h"}, headers=bearer(shop.api_key)).json
    assert client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=bearer(other.api_key)).status_code == 404
    assert client.delete(f"/api/v1/webhooks/{hook['id']}", headers=bearer(other.api_key)).status_code == 404
    assert [h["url"] for h in client.get("/api/v1/webhooks", headers=bearer(shop.api_key)).json["items"]] == [
        "https://x.example/h"
    ]
    log_in(client, shop.admin_email)
    page = client.get("/admin/webhooks").get_data(as_text=True)
    assert "https://x.example/h" in page and hook["secret"] in page
    refused = client.post("/admin/webhooks", data={"csrf_token": csrf_token(page), "url": "not a url"})
    assert refused.status_code == 422 and "Give an http(s) URL" in refused.get_data(as_text=True)
    assert client.delete(f"/api/v1/webhooks/{hook['id']}", headers=bearer(shop.api_key)).status_code == 204


def test_in_the_production_shape_only_the_job_worker_sends(app: Flask, client: FlaskClient, receiver: Receiver) -> None:
    app.config["REDIS_URL"] = "redis://127.0.0.1:6379/0"  # a web worker of `make serve`
    try:
        shop = make_merchant(app, "hooked-prod")
        made = client.post("/api/v1/webhooks", json={"url": receiver.url}, headers=bearer(shop.api_key))
        grant(client, "hooked-prod", profile=True)  # queues consent.changed
        time.sleep(0.5)
        assert receiver.received == [], "a web worker must not send: the job worker does"
        assert [d["status"] for d in deliveries(client, shop.api_key, made.json["id"])] == ["pending"]
        with app.app_context():
            webhooks.deliver_due()  # what the job worker's deliverer does every WEBHOOK_POLL_SECONDS
        receiver.wait_for(1)
        assert receiver.received[0]["headers"]["Attune-Event"] == "consent.changed"
    finally:
        app.config["REDIS_URL"] = None


def test_a_webhook_deleted_while_its_delivery_is_in_flight_spoils_no_round(
    app: Flask, client: FlaskClient, receiver: Receiver
) -> None:
    app.config["REDIS_URL"] = "redis://127.0.0.1:6379/0"  # no sending thread: the round runs here
    try:
        shop = make_merchant(app, "hooked-deleted")
        doomed = client.post("/api/v1/webhooks", json={"url": receiver.url + "?doomed"}, headers=bearer(shop.api_key))
        kept = client.post("/api/v1/webhooks", json={"url": receiver.url}, headers=bearer(shop.api_key))
        grant(client, "hooked-deleted", profile=True)  # one consent.changed for each webhook

        def delete_the_doomed_hook(environ: dict[str, Any]) -> None:
            if environ["QUERY_STRING"] == "doomed":
                with app.app_context(), transaction():
                    get_session().delete(get_session().get(Webhook, doomed.json["id"]))

        receiver.on_receive = delete_the_doomed_hook
        with app.app_context():
            assert webhooks.deliver_due() == 2, "the round goes on past the deleted webhook"
        assert (
            client.get(f"/api/v1/webhooks/{doomed.json['id']}/deliveries", headers=bearer(shop.api_key)).status_code
            == 404
        )
        assert [d["status"] for d in deliveries(client, shop.api_key, kept.json["id"])] == ["delivered"]
    finally:
        app.config["REDIS_URL"] = None


def test_the_admin_sends_a_test_event_and_says_plainly_what_happened(
    quick: Flask, client: FlaskClient, receiver: Receiver
) -> None:
    shop = make_merchant(quick, "tester")
    hook = client.post("/api/v1/webhooks", json={"url": receiver.url}, headers=bearer(shop.api_key)).json
    assert log_in(client, shop.admin_email).status_code == 302
    page = client.get("/admin/webhooks").get_data(as_text=True)
    assert "No events yet. Press “Send a test event” to try the URL." in page
    sent = client.post(f"/admin/webhooks/{hook['id']}/test", data={"csrf_token": csrf_token(page)})
    assert sent.status_code == 302
    receiver.wait_for(1)
    body = receiver.received[0]["body"]
    assert json.loads(body)["event"] == "webhook.test"
    assert webhooks.verify(hook["secret"], body, receiver.received[0]["headers"]["Attune-Signature"])
    settled(client, shop.api_key, hook["id"])
    assert ">delivered</span>" in client.get("/admin/webhooks").get_data(as_text=True)

    quick.config["WEBHOOK_RETRY_BASE"] = 60  # the second attempt waits: the page shows when it will be
    receiver.statuses = [500]
    client.post(f"/admin/webhooks/{hook['id']}/test", data={"csrf_token": csrf_token(page)})
    receiver.wait_for(2)
    deadline = time.monotonic() + 10
    while "failed, retrying at" not in (shown := client.get("/admin/webhooks").get_data(as_text=True)):
        assert time.monotonic() < deadline, shown
        time.sleep(0.05)
    assert re.search(r"failed, retrying at \d\d:\d\d UTC \(HTTP 500\)", shown)
    other = make_merchant(quick, "stranger")
    assert log_in(client, other.admin_email).status_code == 302
    page = client.get("/admin/webhooks").get_data(as_text=True)
    assert client.post(f"/admin/webhooks/{hook['id']}/test", data={"csrf_token": csrf_token(page)}).status_code == 404


def test_a_delivery_reads_as_what_happened() -> None:
    when = dt.datetime(2026, 1, 2, 14, 5)
    pending = WebhookDelivery(status="pending", attempts=0, next_attempt_at=when)
    assert webhooks.described(pending) == "waiting to be sent"
    retrying = WebhookDelivery(
        status="pending", attempts=2, next_attempt_at=when, last_error=webhooks.CONNECTION_FAILED
    )
    assert webhooks.described(retrying) == "failed, retrying at 14:05 UTC (connection failed)"
    given_up = WebhookDelivery(status="failed", attempts=6, next_attempt_at=when, last_status=503)
    assert webhooks.described(given_up) == "failed after 6 attempts (HTTP 503); not retried"
    assert webhooks.described(WebhookDelivery(status="delivered", attempts=1, next_attempt_at=when)) == "delivered"
