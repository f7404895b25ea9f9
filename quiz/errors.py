"""One error format: JSON ``{"error": ..., "fields": {...}}`` on the API, pages elsewhere."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_limiter import RateLimitExceeded
from marshmallow import ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from . import limits, metrics
from .answers import AnswerError
from .db import is_unavailable
from .quizzes import NoQuiz
from .search import CatalogNotReady
from .shopper.channel import emit

API_PREFIX = "/api/"

logger = logging.getLogger(__name__)


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

    @app.errorhandler(AnswerError)
    def answer_error(exc: AnswerError) -> ResponseReturnValue:
        return error_response(422, str(exc), {"answers": exc.fields})

    @app.errorhandler(CatalogNotReady)
    @app.errorhandler(NoQuiz)
    def not_ready(exc: Exception) -> ResponseReturnValue:
        retry = {"Retry-After": str(app.config["RETRY_AFTER_SECONDS"])} if isinstance(exc, CatalogNotReady) else {}
        if is_api_request():
            body, status = error_response(503, str(exc))
            return body, status, retry
        # Shoppers get the page in their language; the cause is for the merchant (API and logs).
        logger.info("not ready: %s", exc)
        body, status = _error_page(503, None)
        return body, status, retry

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)
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
            limit_mb = app.config["MAX_CONTENT_LENGTH"] / (1024 * 1024)
            message = f"The upload is larger than the {limit_mb:g} MB limit. Split the file or raise the limit."
            if is_api_request():
                return error_response(code, message, {"file": [message]})
        if is_api_request():
            return error_response(code, message)
        if exc.description == type(exc).description and not isinstance(exc, RequestEntityTooLarge):
            message = None  # werkzeug's stock English sentence: the page says it in the shopper's language
        return _error_page(code, message)


def _error_page(code: int, message: str | None) -> ResponseReturnValue:
    """Render the error page; in the widget, also tell the host page (attune:error)."""
    emit("error", status=code, message=message or "")
    return render_template("errors/error.html", code=code, message=message), code
