"""One error format: JSON ``{"error": ..., "fields": {...}}`` on the API, pages elsewhere."""

from __future__ import annotations

import logging
import math
from typing import Any

from blinker import Namespace
from flask import Flask, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_limiter import RateLimitExceeded
from marshmallow import ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from recommender import Overloaded

from . import body_limits, limits, metrics
from .db import is_unavailable
from .queue_wait import WaitedTooLong

API_PREFIX = "/api/"

logger = logging.getLogger(__name__)

# Sent (sender: the app) as an error page renders, with ``code`` and ``message``: the widget tells
# its host page. The shopper blueprint listens; this module knows no blueprint.
error_page = Namespace().signal("attune.error-page")


class NotReady(Exception):
    """Something the request needs is not there yet: answered 503 (``retry_after``: with Retry-After)."""

    retry_after = False


class InvalidFields(ValueError):
    """Input refused field by field: answered 422 with ``fields`` under the ``field`` key."""

    field = "fields"

    def __init__(self, message: str, fields: dict[str, list[str]]) -> None:
        super().__init__(message)
        self.fields = fields


class ApiError(Exception):
    """An error answered as JSON with a status and optional field messages."""

    def __init__(self, status: int, message: str, fields: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.fields = fields or {}


def error_response(status: int, message: str, fields: dict[str, Any] | None = None) -> ResponseReturnValue:
    """Return the JSON body and status of an API error."""
    return jsonify({"error": message, "fields": fields or {}}), status


def is_api_request() -> bool:
    """Return whether the current request is for the JSON API (which answers errors as JSON)."""
    return request.path.startswith(API_PREFIX)


def init_app(app: Flask) -> None:
    """Register the handlers that turn exceptions into the one error format."""

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> ResponseReturnValue:
        return error_response(exc.status, exc.message, exc.fields)

    @app.errorhandler(ValidationError)
    def validation_error(exc: ValidationError) -> ResponseReturnValue:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return error_response(422, "The request has invalid fields.", messages)

    @app.errorhandler(InvalidFields)
    def invalid_fields(exc: InvalidFields) -> ResponseReturnValue:
        return error_response(422, str(exc), {exc.field: exc.fields})

    @app.errorhandler(NotReady)
    def not_ready(exc: NotReady) -> ResponseReturnValue:
        retry = {"Retry-After": str(app.config["RETRY_AFTER_SECONDS"])} if exc.retry_after else {}
        if is_api_request():
            body, status = error_response(503, str(exc))
            return body, status, retry
        # Shoppers get the page in their language; the cause is for the merchant (API and logs).
        logger.info("not ready: %s", exc)
        body, status = _error_page(503, None)
        return body, status, retry

    @app.errorhandler(Overloaded)
    @app.errorhandler(PoolTimeout)
    @app.errorhandler(WaitedTooLong)
    def busy(exc: Overloaded | PoolTimeout | WaitedTooLong) -> ResponseReturnValue:
        # Admission control: past ADMISSION_WAIT_SECONDS of queue for the encoder or a database
        # connection (half of it in the server's own line), the request is answered now rather
        # than left waiting (docs/scaling.md).
        resource = {Overloaded: "encoder", WaitedTooLong: "queue"}.get(type(exc), "database")
        metrics.count_busy(resource)
        logger.info("busy: refused at admission (%s)", resource)
        headers = {"Retry-After": str(max(1, math.ceil(float(app.config["ADMISSION_WAIT_SECONDS"]))))}
        if is_api_request():
            body, status = error_response(503, "The service is busy; nothing was lost. Try again in a moment.")
            return body, status, headers
        error_page.send(app, code=503, message="")
        body = render_template("errors/busy.html", retry_url=request.url)
        return body, 503, headers

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(DBAPIError)
    def database_unavailable(exc: SQLAlchemyError) -> ResponseReturnValue:
        if not is_unavailable(exc):
            raise exc  # a bug (integrity, syntax...), not an outage: the usual 500 path logs it
        # One line, no traceback: an outage answers thousands of requests like this.
        cause = str(exc.orig if isinstance(exc, DBAPIError) else exc).strip().splitlines()
        logger.warning("database unavailable: %s", cause[0] if cause else type(exc).__name__)
        metrics.count_database_unavailable()
        headers = {"Retry-After": str(app.config["RETRY_AFTER_SECONDS"])}
        if is_api_request():
            body, status = error_response(503, "The service is briefly unavailable; try again in a few seconds.")
            return body, status, headers
        try:
            body, status = _error_page(503, None)
        except SQLAlchemyError:  # the page itself needed the database: a bare page still says it
            body, status = f"<!doctype html><title>503</title><p>{gettext('Please try again in a moment.')}</p>", 503
        return body, status, headers

    @app.errorhandler(RateLimitExceeded)
    def rate_limited(exc: RateLimitExceeded) -> ResponseReturnValue:
        wait = limits.retry_after(exc)
        headers = {"Retry-After": str(wait)}
        if is_api_request():
            body, status = error_response(429, f"Too many requests; try again in {wait} seconds.")
            return body, status, headers
        # Shopper limits carry no message: the page says "try again in a moment" in their language.
        body, status = _error_page(429, exc.description if exc.limit.error_message else None)
        return body, status, headers

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> ResponseReturnValue:
        code = exc.code or 500
        message = exc.description or exc.name
        if isinstance(exc, RequestEntityTooLarge):
            message, fields = _too_large(exc)
            if is_api_request():
                return error_response(code, message, fields)
        if is_api_request():
            return error_response(code, message)
        if exc.description == type(exc).description and not isinstance(exc, RequestEntityTooLarge):
            message = None  # werkzeug's stock English sentence: the page says it in the shopper's language
        return _error_page(code, message)


def _too_large(exc: RequestEntityTooLarge) -> tuple[str, dict[str, list[str]]]:
    """Say which limit a 413 hit: the form's parts, a form field, or the body (an upload's or not)."""
    config = current_app.config
    if isinstance(exc, body_limits.TooManyParts):
        return f"The form has more than {config['MAX_FORM_PARTS']} fields or files; send fewer.", {}
    if isinstance(exc, body_limits.FieldTooLarge):
        return f"A form field is larger than the {_size(config['MAX_FORM_MEMORY_SIZE'])} limit.", {}
    kind = body_limits.body_kind()
    limit = _size(body_limits.limit_of(kind))
    if kind == body_limits.UPLOAD:
        message = f"The upload is larger than the {limit} limit. Split the file or raise the limit."
        return message, {"file": [message]}
    return f"The request body is larger than the {limit} limit of this endpoint.", {}


def _size(limit: int) -> str:
    """Write a byte count as people read it: "50 MB", "256 KB" (binary units), else "500,000 bytes"."""
    if limit % (1024 * 1024) == 0:
        return f"{limit // (1024 * 1024)} MB"
    if limit % 1024 == 0:
        return f"{limit // 1024} KB"
    return f"{limit:,} bytes"


def _error_page(code: int, message: str | None) -> ResponseReturnValue:
    """Render the error page; in the widget, also tell the host page (attune:error)."""
    error_page.send(current_app._get_current_object(), code=code, message=message or "")  # type: ignore[attr-defined]
    return render_template("errors/error.html", code=code, message=message), code
