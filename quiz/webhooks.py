"""Webhooks: signed events to the merchant's URLs, queued with the change that caused them.

An event is stored as a pending delivery in the same transaction as the change it reports
(so it is sent exactly when the change is committed), then a background deliverer POSTs it:

    POST URL
    Content-Type: application/json
    Attune-Event: quiz.completed
    Attune-Delivery: <delivery id, stable across retries: deduplicate on it>
    Attune-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>

Receivers recompute the HMAC and refuse old timestamps (replays). A delivery that does not get
a 2xx is retried with exponential backoff, ``WEBHOOK_MAX_ATTEMPTS`` times in all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import json
import logging
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm.exc import StaleDataError

from .db import get_session, transaction
from .models import Merchant, Webhook, WebhookDelivery, utcnow

logger = logging.getLogger(__name__)
EVENTS = ("quiz.completed", "consent.changed")
EXTENSION = "attune.webhooks"
SIGNATURE_TOLERANCE = 300  # seconds a receiver should accept a signature for
CLAIM_SECONDS = 60  # a delivery being sent is not due for others for this long
MAX_WEBHOOKS = 10


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Treat a redirect as the answer: events go to the registered URL only."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


class WebhookError(ValueError):
    """A webhook URL cannot be registered; ``fields`` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.fields = {"url": [message]}


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """Return the ``Attune-Signature`` header value of ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, body: bytes, header: str, now: float | None = None) -> bool:
    """Return whether ``header`` signs ``body`` with ``secret`` recently enough (what receivers do)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - timestamp) > SIGNATURE_TOLERANCE:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def register(merchant: Merchant, url: str) -> Webhook:
    """Register a URL (call inside a transaction); its secret is generated here."""
    url = url.strip()
    parts = urlsplit(url)
    plain = url.isascii() and url.isprintable() and " " not in url
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.username or not plain:
        raise WebhookError("Give an http(s) URL, such as https://shop.example/attune-events.")
    session = get_session()
    existing = session.scalar(sa.select(sa.func.count()).select_from(Webhook).where(Webhook.merchant_id == merchant.id))
    if (existing or 0) >= MAX_WEBHOOKS:
        raise WebhookError(f"You can register at most {MAX_WEBHOOKS} webhooks.")
    hook = Webhook(merchant_id=merchant.id, url=url.strip(), secret=secrets.token_hex(32))
    session.add(hook)
    session.flush()
    return hook


def list_webhooks(merchant: Merchant) -> list[Webhook]:
    """Return the merchant's webhooks, oldest first."""
    query = sa.select(Webhook).where(Webhook.merchant_id == merchant.id).order_by(Webhook.created_at, Webhook.id)
    return list(get_session().scalars(query))


def get(merchant: Merchant, webhook_id: str) -> Webhook | None:
    """Return one of the merchant's webhooks (None for another merchant's)."""
    return get_session().scalar(sa.select(Webhook).where(Webhook.id == webhook_id, Webhook.merchant_id == merchant.id))


def deliveries(hook: Webhook, limit: int = 50) -> list[WebhookDelivery]:
    """Return a webhook's newest deliveries."""
    query = (
        sa.select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == hook.id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id)
        .limit(limit)
    )
    return list(get_session().scalars(query))


def queue(merchant_id: int, event: str, data: Mapping[str, Any]) -> int:
    """Queue ``event`` for each of the merchant's webhooks, in the caller's transaction; return how many."""
    hooks = get_session().scalars(sa.select(Webhook).where(Webhook.merchant_id == merchant_id)).all()
    for hook in hooks:
        payload = {"event": event, "created_at": utcnow().isoformat(), "data": dict(data)}
        get_session().add(WebhookDelivery(webhook_id=hook.id, event=event, payload=payload))
    if hooks and not current_app.config["REDIS_URL"]:
        # With Redis (the production shape) only the job worker sends: it polls for due
        # deliveries every WEBHOOK_POLL_SECONDS, so web workers start no sending thread.
        deliverer().wake()
    return len(hooks)


def as_dict(delivery: WebhookDelivery) -> dict[str, Any]:
    """Return a delivery as the API shows it."""
    return {
        "id": delivery.id,
        "event": delivery.event,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "last_status": delivery.last_status,
        "last_error": delivery.last_error,
        "created_at": delivery.created_at.isoformat(),
        "delivered_at": delivery.delivered_at.isoformat() if delivery.delivered_at else None,
    }


def deliver_due(now: dt.datetime | None = None) -> int:
    """Attempt every delivery that is due; return how many were attempted."""
    moment = now or utcnow()
    due = (
        get_session()
        .scalars(
            sa.select(WebhookDelivery)
            .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= moment)
            .order_by(WebhookDelivery.created_at)
            .limit(100)
        )
        .all()
    )
    attempted = 0
    for delivery in due:
        if not _claim(delivery, moment):
            continue  # another process took it
        attempted += 1
        try:
            _attempt(delivery)
        except Exception:  # whatever one receiver does must not stop the others
            logger.exception("webhook delivery %s failed unexpectedly", delivery.id)
            _record(delivery, None, "delivery failed unexpectedly")
    return attempted


def _claim(delivery: WebhookDelivery, moment: dt.datetime) -> bool:
    """Take a due delivery for this process: push its next attempt a minute ahead, if still due.

    Another worker process sees it as not due and leaves it; should this process die while
    sending, the delivery is due again a minute later.
    """
    with transaction():
        result = get_session().execute(
            sa.update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery.id,
                WebhookDelivery.status == "pending",
                WebhookDelivery.next_attempt_at <= moment,
            )
            .values(next_attempt_at=moment + dt.timedelta(seconds=CLAIM_SECONDS))
            .execution_options(synchronize_session=False)
        )
    return bool(getattr(result, "rowcount", 0))


def _attempt(delivery: WebhookDelivery) -> None:
    hook = get_session().get(Webhook, delivery.webhook_id)
    if hook is None:
        return
    body = json.dumps({"id": delivery.id, **delivery.payload}, separators=(",", ":")).encode()
    request = urllib.request.Request(
        hook.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Attune-Webhooks/1",
            "Attune-Event": delivery.event,
            "Attune-Delivery": delivery.id,
            "Attune-Signature": sign(hook.secret, body, int(time.time())),
        },
    )
    status, error = None, None
    try:
        with _OPENER.open(request, timeout=current_app.config["WEBHOOK_TIMEOUT"]) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status, error = exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, TimeoutError, OSError, http.client.HTTPException) as exc:
        error = str(getattr(exc, "reason", exc))[:500]
    _record(delivery, status, error)


def _record(delivery: WebhookDelivery, status: int | None, error: str | None) -> None:
    """Write an attempt's outcome, unless the delivery went with its webhook during the attempt."""
    delivery_id = delivery.id  # read now: the instance expires with the transaction below
    try:
        with transaction():
            current = get_session().get(WebhookDelivery, delivery_id, populate_existing=True)
            if current is not None:
                _apply_outcome(current, status, error)
    except StaleDataError:  # deleted between the read and the write: nothing left to record
        current = None
    if current is None:
        logger.info("webhook delivery %s was deleted with its webhook during the attempt", delivery_id)


def _apply_outcome(delivery: WebhookDelivery, status: int | None, error: str | None) -> None:
    """Mark ``delivery`` delivered, failed for good, or due again after a pause."""
    config = current_app.config
    delivery.attempts += 1
    delivery.last_status, delivery.last_error = status, error
    if status is not None and 200 <= status < 300:
        delivery.status, delivery.delivered_at, delivery.last_error = "delivered", utcnow(), None
    elif delivery.attempts >= config["WEBHOOK_MAX_ATTEMPTS"]:
        delivery.status = "failed"
    else:
        wait = config["WEBHOOK_RETRY_BASE"] * 2 ** (delivery.attempts - 1)
        delivery.next_attempt_at = utcnow() + dt.timedelta(seconds=wait)


class Deliverer:
    """Sends due deliveries from a daemon thread: woken when events are queued, else every few seconds."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def wake(self) -> None:
        """Start the thread if needed and have it look for due deliveries soon."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="attune-webhooks", daemon=True)
                self._thread.start()
        self._wake.set()

    def stop(self) -> None:
        """Stop the thread after its current round."""
        self._stopped.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        poll = float(self.app.config["WEBHOOK_POLL_SECONDS"])
        while not self._stopped.is_set():
            self._wake.wait(poll)
            self._wake.clear()
            if self._stopped.is_set():
                return
            time.sleep(0.05)  # let the transaction that queued the event commit first
            try:
                with self.app.app_context():
                    deliver_due()
            except Exception:  # the next round tries again
                logger.exception("webhook delivery round failed")


def init_app(app: Flask) -> None:
    """Attach the deliverer (its thread starts with the first event, or with the serving process)."""
    app.extensions[EXTENSION] = Deliverer(app)


def start(app: Flask) -> None:
    """Start sending deliveries left pending (a serving process), not only at the next event."""
    found: Deliverer = app.extensions[EXTENSION]
    found.wake()


def stop(app: Flask) -> None:
    """Stop the app's sending thread, if it runs (a process shutting down, or a test's app)."""
    found: Deliverer = app.extensions[EXTENSION]
    found.stop()


def deliverer() -> Deliverer:
    """Return the app's deliverer."""
    found: Deliverer = current_app.extensions[EXTENSION]
    return found
