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

URLs must reach public addresses (``quiz/platform/webhook_addresses.py``): checked when registered, and
again at each attempt, which resolves the host once, checks every address and connects to a
checked one (so a name that resolves elsewhere by then, DNS rebinding, reaches nothing else).
Redirects are never followed. A failed attempt is recorded as a short fixed reason
(``FAILURE_REASONS`` or ``HTTP <status>``), never the low-level error text.

Long because registering, signing, claiming and sending a delivery, and the deliverer loop that
retries them, are one state machine over the same rows; splitting the loop out is a follow-up.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import json
import logging
import re
import secrets
import socket
import ssl
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm.exc import StaleDataError

from ..models import Merchant, Webhook, WebhookDelivery, utcnow
from ..platform import scheduling, webhook_addresses
from ..platform.db import get_session, transaction
from ..platform.webhook_addresses import Address, AddressNotAllowed, HostNotFound

logger = logging.getLogger(__name__)
EVENTS = ("quiz.completed", "consent.changed")
TASK = "webhooks"  # the sending task in the app's schedule
SIGNATURE_TOLERANCE = 300  # seconds a receiver should accept a signature for
CLAIM_SECONDS = 60  # a delivery being sent is not due for others for this long
MAX_WEBHOOKS = 10
NOT_ALLOWED = "address not allowed"
HOST_NOT_FOUND = "host not found"
TIMED_OUT = "timed out"
TLS_FAILED = "TLS handshake failed"
CONNECTION_FAILED = "connection failed"
UNEXPECTED = "delivery failed unexpectedly"
FAILURE_REASONS = (NOT_ALLOWED, HOST_NOT_FOUND, TIMED_OUT, TLS_FAILED, CONNECTION_FAILED, UNEXPECTED)
_HTTP_STATUS = re.compile(r"HTTP \d{3}")
PRIVATE_URL = (
    "Webhooks go to public addresses only: this URL's host is, or resolves to, a loopback, private, "
    "link-local, multicast or reserved address."
)


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
    port = _port(url)
    if port is None:
        raise WebhookError("The URL's port must be a number from 1 to 65535.")
    try:
        webhook_addresses.checked_addresses(parts.hostname, port, _allowed_networks(), _resolver())
    except AddressNotAllowed:
        raise WebhookError(PRIVATE_URL) from None
    except HostNotFound:
        pass  # perhaps not published yet: every attempt checks the addresses it then resolves to
    session = get_session()
    existing = session.scalar(sa.select(sa.func.count()).select_from(Webhook).where(Webhook.merchant_id == merchant.id))
    if (existing or 0) >= MAX_WEBHOOKS:
        raise WebhookError(f"You can register at most {MAX_WEBHOOKS} webhooks.")
    hook = Webhook(merchant_id=merchant.id, url=url.strip(), secret=secrets.token_hex(32))
    session.add(hook)
    session.flush()
    return hook


def _port(url: str) -> int | None:
    """Return the URL's port (the scheme's default if none is given), None if it is not a valid one."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return None
    if port is None:
        return 443 if parts.scheme == "https" else 80
    return port if port > 0 else None


def _allowed_networks() -> tuple[webhook_addresses.Network, ...]:
    return webhook_addresses.parse_networks(current_app.config["WEBHOOK_ALLOWED_NETWORKS"])


def _resolver() -> webhook_addresses.Resolver | None:
    resolver: webhook_addresses.Resolver | None = current_app.config.get("WEBHOOK_RESOLVER")
    return resolver


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
        wake(current_app._get_current_object())  # type: ignore[attr-defined]
    return len(hooks)


TEST_EVENT = "webhook.test"


def send_test(hook: Webhook) -> WebhookDelivery:
    """Queue a ``webhook.test`` event for one webhook, in the caller's transaction (signed like every event)."""
    payload = {"event": TEST_EVENT, "created_at": utcnow().isoformat(), "data": {"test": True}}
    delivery = WebhookDelivery(webhook_id=hook.id, event=TEST_EVENT, payload=payload)
    get_session().add(delivery)
    if not current_app.config["REDIS_URL"]:
        wake(current_app._get_current_object())  # type: ignore[attr-defined]
    return delivery


def described(delivery: WebhookDelivery) -> str:
    """Return a delivery's state as a merchant reads it: "failed, retrying at 14:05 (connection refused)"."""
    reason = f"HTTP {delivery.last_status}" if delivery.last_status else shown_error(delivery.last_error) or ""
    because = f" ({reason})" if reason else ""
    if delivery.status == "delivered":
        return "delivered" + (f" after {delivery.attempts} attempts" if delivery.attempts > 1 else "")
    if delivery.status == "failed":
        return f"failed after {delivery.attempts} attempt{'s' * (delivery.attempts != 1)}{because}; not retried"
    if delivery.attempts == 0 and not reason:
        return "waiting to be sent"
    if delivery.next_attempt_at is None:
        return f"failed, to be retried{because}"
    return f"failed, retrying at {delivery.next_attempt_at.strftime('%H:%M')} UTC{because}"


def as_dict(delivery: WebhookDelivery) -> dict[str, Any]:
    """Return a delivery as the API shows it."""
    return {
        "id": delivery.id,
        "event": delivery.event,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "last_status": delivery.last_status,
        "last_error": shown_error(delivery.last_error),
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
            _record(delivery, None, UNEXPECTED)
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
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Attune-Webhooks/1",
        "Attune-Event": delivery.event,
        "Attune-Delivery": delivery.id,
        "Attune-Signature": sign(hook.secret, body, int(time.time())),
    }
    status, error = None, None
    try:
        status = _post(hook.url, body, headers)
    except (AddressNotAllowed, HostNotFound, OSError, http.client.HTTPException) as exc:
        error = _reason(exc)
        # The detail stays in the operator's log; the merchant sees only the fixed reason.
        logger.info("webhook delivery %s to webhook %s failed: %s (%r)", delivery.id, hook.id, error, exc)
    else:
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    _record(delivery, status, error)


def _reason(exc: Exception) -> str:
    """Name a failed attempt in words that tell the merchant what to fix and nothing about the network."""
    if isinstance(exc, AddressNotAllowed):
        return NOT_ALLOWED
    if isinstance(exc, HostNotFound):
        return HOST_NOT_FOUND
    if isinstance(exc, TimeoutError):
        return TIMED_OUT
    if isinstance(exc, ssl.SSLError):
        return TLS_FAILED
    return CONNECTION_FAILED


def shown_error(error: str | None) -> str | None:
    """Return a stored failure reason as merchants see it (text stored by older versions becomes generic)."""
    if error is None or error in FAILURE_REASONS or _HTTP_STATUS.fullmatch(error):
        return error
    return CONNECTION_FAILED


def _post(url: str, body: bytes, headers: Mapping[str, str]) -> int:
    """POST ``body`` to ``url`` through a checked address and return the status; never follow a redirect."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", _port(url)
    if port is None:
        raise HostNotFound(host)
    addresses = webhook_addresses.checked_addresses(host, port, _allowed_networks(), _resolver())
    timeout = float(current_app.config["WEBHOOK_TIMEOUT"])
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = _PinnedHTTPSConnection(host, port, addresses, timeout)
    else:
        connection = _PinnedHTTPConnection(host, port, addresses, timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", target, body=body, headers=dict(headers))
        return connection.getresponse().status
    finally:
        connection.close()


def _connect(addresses: Sequence[Address], port: int, timeout: float) -> socket.socket:
    """Open a TCP connection to the first of ``addresses`` that answers (they were checked)."""
    failure: OSError = OSError("no address")
    for address in addresses:
        try:
            return socket.create_connection((str(address), port), timeout)
        except OSError as exc:
            failure = exc
    raise failure


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to checked addresses only; the Host header still names the URL's host."""

    def __init__(self, host: str, port: int, addresses: Sequence[Address], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.addresses = addresses

    def connect(self) -> None:
        self.sock = _connect(self.addresses, self.port, self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to checked addresses only; SNI and certificate check use the URL's host name."""

    def __init__(self, host: str, port: int, addresses: Sequence[Address], timeout: float) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.addresses = addresses

    def connect(self) -> None:
        sock = _connect(self.addresses, self.port, self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


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


def init_app(app: Flask) -> None:
    """Nothing starts here: the sending task starts with the first event, or with the serving process."""
    scheduling.init_app(app)


def start(app: Flask) -> None:
    """Start sending deliveries left pending (a serving process), not only at the next event."""
    wake(app)


def wake(app: Flask) -> None:
    """Have the app's sending task look for due deliveries soon: woken by events, else every few seconds."""
    poll = float(app.config["WEBHOOK_POLL_SECONDS"])
    # The pause before each round lets the transaction that queued the event commit first.
    scheduling.register(app, scheduling.Task(TASK, deliver_due, every=poll, at_start=False, settle=0.05))
    scheduling.wake(app, TASK)


def stop(app: Flask) -> None:
    """Stop the app's sending task, if it runs (a process shutting down, or a test's app)."""
    if scheduling.running(app, TASK):
        scheduling.stop(app, TASK)
