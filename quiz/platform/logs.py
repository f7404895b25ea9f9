"""Logging: a request id per request, an access line per response, JSON lines when asked.

``LOG_FORMAT=json`` (``ATTUNE_LOG_FORMAT``) writes one JSON object per line to stderr with
``time``, ``level``, ``logger``, ``message`` and ``request_id``; the access line adds ``method``,
``path``, ``route``, ``status`` and ``duration_ms``. ``text`` (the default) keeps the readable
format of ``make run``. Nothing personal reaches a log line: no query strings, no headers, no
raw path of a route carrying a token (the route rule is logged instead), and email addresses
or bearer tokens in a message are masked by the formatter as a last line of defence.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import time
import uuid
from typing import IO, Any

from flask import Flask, Response, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is kept only if it is a plain token: no spaces, quotes or control characters
# that could forge log lines or headers, and short enough to index.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{8,128}")
# Path segments that may be shown as they are: everything else in a route is a token, an id of
# a person or merchant data, and is logged by its rule (``/privacy/<token>``).
PLAIN_ARGUMENTS = frozenset({"slug", "section_id", "import_id", "segment_id", "webhook_id", "key_id", "version"})
ACCESS_LOGGER = "attune.access"
ACCESS_FIELDS = ("method", "path", "route", "status", "duration_ms")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# "Bearer X", and "password=X" / "token: X" as code and URLs write them (not the bare words in prose).
SECRET = re.compile(r"(?i)\b(bearer\s+|(?:password|passwd|token|api_key|secret)\s*[:=]\s*)[^\s,;&\"']+")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
# Probes and scrapes come every few seconds: their access lines are DEBUG, not INFO.
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
_HANDLER_FLAG = "_attune_handler"


def request_id() -> str | None:
    """Return the current request's id (taken from ``X-Request-ID`` when sane, else new); None outside one."""
    if not has_request_context():
        return None
    rid = g.get("request_id")
    if rid is None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        rid = incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        g.request_id = rid
    return str(rid)


def loggable_path() -> str:
    """Return the request path fit for a log: the route rule where the path carries anything but plain ids."""
    rule = request.url_rule
    if rule is None:  # unmatched: keep the shape, not long segments (tokens) or addresses
        parts = ["<redacted>" if len(p) > 40 or "@" in p else p for p in request.path.split("/")]
        return "/".join(parts)[:200]
    if set(request.view_args or ()) <= PLAIN_ARGUMENTS:
        return request.path
    return rule.rule


def redact(text: str) -> str:
    """Mask email addresses and bearer tokens or passwords in ``text``."""
    return SECRET.sub(r"\1<redacted>", EMAIL.sub("<email>", text))


class RequestContextFilter(logging.Filter):
    """Give every record the request id of the request it was logged in (None outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id()
        return True


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", None),
        }
        for name in ACCESS_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """The readable format, with the same masking as the JSON one."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class _Stderr:
    """Whatever ``sys.stderr`` is at the time of writing (test runners swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def make_handler(log_format: str, stream: IO[str] | None = None) -> logging.Handler:
    """Return a stream handler writing ``json`` or ``text`` lines, with request ids filled in."""
    handler: logging.Handler = logging.StreamHandler(stream or _Stderr())  # type: ignore[arg-type]
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter(TEXT_FORMAT))
    handler.addFilter(RequestContextFilter())
    return handler


def configure(app: Flask) -> None:
    """Install the app's log handler on the root logger (replacing one an earlier app installed)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_FLAG, False)]:
        root.removeHandler(old)
    handler = make_handler(app.config["LOG_FORMAT"])
    setattr(handler, _HANDLER_FLAG, True)
    root.addHandler(handler)
    root.setLevel(app.config.get("LOG_LEVEL", "INFO"))


def init_app(app: Flask) -> None:
    """Give each request an id (echoed in ``X-Request-ID``) and log one access line per response."""
    app.before_request(_start)
    app.after_request(_finish)


def _start() -> None:
    g.request_started = time.perf_counter()
    request_id()


def _finish(response: Response) -> Response:
    rid = request_id()
    response.headers[REQUEST_ID_HEADER] = str(rid)
    started = g.get("request_started")
    duration = None if started is None else round((time.perf_counter() - started) * 1000, 2)
    rule = request.url_rule
    route = rule.rule if rule is not None else None
    logging.getLogger(ACCESS_LOGGER).log(
        logging.DEBUG if route in QUIET_ROUTES else logging.INFO,
        "%s %s %s %sms",
        request.method,
        loggable_path(),
        response.status_code,
        duration,
        extra={
            "method": request.method,
            "path": loggable_path(),
            "route": route,
            "status": response.status_code,
            "duration_ms": duration,
        },
    )
    return response
