"""Rate limits on login, consent and recommendations: shared by every worker through Redis.

Storage is ``RATELIMIT_STORAGE_URI`` when set, else ``REDIS_URL`` (the production shape: all
gunicorn workers count together), else ``memory://`` (the embedded default: one process, one
count). When Redis goes away the limits fall back to this process's memory, Flask-Limiter logs
one warning, and requests keep being served; the limits move back to Redis when it answers
again. Keys hold keyed digests, never an address, email or token: they end up in Redis and in
Flask-Limiter's log lines. See docs/security.md for the settings and their reasons.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, current_app, g, make_response, render_template, request
from flask.wrappers import Response
from flask_limiter import Limiter, RateLimitExceeded
from redis.exceptions import RedisError

from . import login_throttle
from .limit_keys import EXTENSION, client_address
from .limit_keys import digest as _digest

SUBJECT_LOADER = "attune.limiter.subject"
# Redis answers in well under a millisecond on a LAN; a host that stopped answering must not hold
# up a shopper's request for the socket's default (minutes): give up fast and fall back.
REDIS_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
# The limit settings (quiz/platform/config.py validates them as rate strings).
SETTINGS = (
    "RATELIMIT_LOGIN",
    "RATELIMIT_LOGIN_ACCOUNT",
    "RATELIMIT_CONSENT",
    "RATELIMIT_RECOMMENDATIONS",
    "RATELIMIT_RECOMMENDATIONS_ADDRESS",
)
LOGIN_REFUSED = "Too many failed attempts. Wait a few minutes and try again."

F = TypeVar("F", bound=Callable[..., Any])


class AppLimiter(Limiter):
    """A Limiter declared once (the view decorators) whose storage and switches belong to each app.

    Flask-Limiter keeps its storage on the Limiter object, so one module-level object bound to
    several apps (the test suite, two "workers" in one process) would make them all count in
    whatever the last app configured. Here every app gets its own engine, which shares this
    object's declarations and holds that app's storage.
    """

    def init_app(self, app: Flask) -> None:
        """Bind a fresh engine for ``app`` (configured from ``app.config``)."""
        engine = Limiter(key_func=self._key_func)
        engine.limit_manager = self.limit_manager
        engine._marked_for_limiting = self._marked_for_limiting
        # Each Limiter adds a NullHandler to the one "flask-limiter" logger: keep one, not one per app.
        for extra in [h for h in engine.logger.handlers if type(h) is logging.NullHandler][1:]:
            engine.logger.removeHandler(extra)
        engine.init_app(app)
        app.extensions[EXTENSION] = engine

    def _check_request_limit(self, callable_name: str | None = None, in_middleware: bool = True) -> None:
        # The decorators call this on the declaring object: hand over to the app's engine.
        engine: Limiter | None = current_app.extensions.get(EXTENSION)
        if engine is not None:
            engine._check_request_limit(callable_name=callable_name, in_middleware=in_middleware)


def engine() -> Limiter:
    """Return the current app's limiter engine (its storage, its current limits)."""
    found: Limiter = current_app.extensions[EXTENSION]
    return found


def init_app(app: Flask) -> None:
    """Choose the storage (Redis when configured, else this process's memory) and bind the limiter."""
    config = app.config
    uri = config.get("RATELIMIT_STORAGE_URI") or config.get("REDIS_URL") or "memory://"
    if uri.startswith("unix://"):
        uri = "redis+unix://" + uri.removeprefix("unix://")  # the limits library's name for it
    config["RATELIMIT_STORAGE_URI"] = uri
    if uri.startswith(("redis", "rediss")):
        config["RATELIMIT_STORAGE_OPTIONS"] = {**REDIS_OPTIONS, **config.get("RATELIMIT_STORAGE_OPTIONS", {})}
    config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)  # a failed count must never fail the request
    config.setdefault("RATELIMIT_STRATEGY", "moving-window")  # no double burst at a window's edge
    limiter.init_app(app)


def retry_after(exc: RateLimitExceeded) -> int:
    """Return the seconds until the breached limit lets the client in again."""
    expiry = int(exc.limit.limit.get_expiry())
    current = engine().current_limit if EXTENSION in current_app.extensions else None
    if current is None or not current.breached:
        return expiry
    try:
        reset_at = current.reset_at
    except (RedisError, OSError):  # the storage failed just now: the window's length is a safe answer
        return expiry
    return max(1, min(expiry, math.ceil(reset_at - time.time())))


# Keys: who a limit counts. Digests keyed with SECRET_KEY, so Redis and logs hold no identifiers.


limiter = AppLimiter(key_func=client_address)  # bound per app by init_app; limits in docs/security.md


def count_shoppers_by(app: Flask, subject_of_request: Callable[[], str | None]) -> None:
    """Tell :func:`shopper` how to find the subject id a request carries (the shopper side knows its tokens)."""
    app.extensions[SUBJECT_LOADER] = subject_of_request


def shop_client() -> str:
    """Key a shopper's new decision by shop and address: one shop's traffic never blocks another's."""
    slug = (request.view_args or {}).get("slug", "")
    return f"shop:{slug}:{client_address()}"


def shopper() -> str:
    """Key by the shopper (subject) the request carries, else by client address.

    Shoppers behind one NAT each have their own subject, so a normal quiz never meets another
    shopper's count; the per-address limit bounds how many subjects one address can work.
    """
    loader = current_app.extensions.get(SUBJECT_LOADER)
    subject_id = loader() if loader is not None else None
    return "subject:" + _digest(subject_id) if subject_id else client_address()


def _setting(name: str) -> Callable[[], str]:
    return lambda: str(current_app.config[name])


def _failed_login(response: Response) -> bool:
    return response.status_code == 401  # wrong email or password; a good login costs nothing


# The decorators views wear.


def login(view: F) -> F:
    """Throttle failed logins per client address (a limit) and per account (growing waits, POST only).

    The per-account part (quiz/platform/login_throttle.py) holds back only addresses that failed at that
    account, so an attacker's failures never keep the owner out from an address of their own.
    """
    common: dict[str, Any] = {"methods": ["POST"], "deduct_when": _failed_login, "error_message": LOGIN_REFUSED}
    per_address = limiter.limit(_setting("RATELIMIT_LOGIN"), key_func=client_address, **common)

    @wraps(view)
    def per_account(*args: Any, **kwargs: Any) -> Any:
        if request.method != "POST":
            return view(*args, **kwargs)
        email = str(request.form.get("email", "")).strip().lower()
        wait = login_throttle.check(email)
        if wait is not None:
            page = render_template("errors/error.html", code=429, message=LOGIN_REFUSED)
            return page, 429, {"Retry-After": str(wait.seconds)}
        response = make_response(view(*args, **kwargs))
        if _failed_login(response):
            login_throttle.record_failure(email)
        elif response.status_code == 302:
            login_throttle.succeeded(email)
        return response

    return per_address(per_account)  # type: ignore[return-value]


def password_check(view: F) -> F:
    """Limit wrong current passwords on the password-change form per client address (RATELIMIT_LOGIN).

    A stolen session must not become an unthrottled way to guess the password (each guess is a
    128 MiB scrypt check); the view sets ``g.wrong_password`` when the current password was wrong.
    """
    limit = limiter.limit(
        _setting("RATELIMIT_LOGIN"),
        key_func=client_address,
        methods=["POST"],
        deduct_when=lambda _response: bool(g.get("wrong_password")),
        error_message=LOGIN_REFUSED,
    )
    return limit(view)


def consent_decision(view: F) -> F:
    """Limit new consent decisions per shop and client address (site, widget and API share one count)."""
    shared = limiter.shared_limit(_setting("RATELIMIT_CONSENT"), "consent", key_func=shop_client, methods=["POST"])
    return shared(view)


def consent_change(view: F) -> F:
    """Limit changes to a consent per shopper (reconsent, privacy center, PATCH /me/consents)."""
    shared = limiter.shared_limit(
        _setting("RATELIMIT_CONSENT"),
        "consent-change",
        key_func=shopper,
        methods=["POST", "PATCH"],
    )
    return shared(view)


def recommendations(view: F) -> F:
    """Limit recommendation requests per shopper and per client address (results pages and API)."""
    per_shopper = limiter.shared_limit(_setting("RATELIMIT_RECOMMENDATIONS"), "recommendations", key_func=shopper)
    per_address = limiter.shared_limit(
        _setting("RATELIMIT_RECOMMENDATIONS_ADDRESS"),
        "recommendations-address",
        key_func=client_address,
    )
    return per_address(per_shopper(view))


def events(view: F) -> F:
    """Limit shop events per shopper (subject token, else client address): a page cannot flood the store."""
    return limiter.limit(_setting("RATELIMIT_EVENTS"), key_func=shopper, methods=["POST"])(view)
