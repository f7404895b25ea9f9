"""Failed admin logins per account: growing waits for the addresses that failed, an email to the owner.

OWASP's authentication cheat sheet asks for throttling that an attacker cannot turn into a lockout
of the real user. So the per-account count (``RATELIMIT_LOGIN_ACCOUNT``, all addresses together)
never refuses anyone by itself: once it is reached, every further failure from an address earns
*that address* a wait for this account, ``LOGIN_DELAY_SECONDS`` doubled per such failure up to
``LOGIN_DELAY_MAX``. An address that has not failed is never held back here, so the owner's
correct password from their own place works during an attack; the per-address limit
(``RATELIMIT_LOGIN``, quiz/platform/limits.py) still bounds what one address may try over all accounts.
When the count is reached the account's owner gets one email (at most one per ``NOTICE_EVERY``)
saying when and how many attempts failed, never what was tried.

Counts live where the rate limits live (Redis when configured, with the same in-memory fallback),
under keys that hold HMAC digests only.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from limits import RateLimitItem, RateLimitItemPerDay, RateLimitItemPerSecond, parse_many
from limits.strategies import RateLimiter

from ..models import AdminUser, Merchant
from . import mailer
from .db import get_session
from .limit_keys import EXTENSION, client_address, digest

logger = logging.getLogger(__name__)
NOTICE_EVERY = 3600  # seconds: one email per account per hour at most, however long an attack goes on
STRIKES = RateLimitItemPerDay(100_000)  # a counter, not a limit: failures of one address while throttled


@dataclass(frozen=True)
class Wait:
    """An address must wait before its next attempt at this account."""

    seconds: int


def _strategy() -> RateLimiter | None:
    engine = current_app.extensions.get(EXTENSION)
    if engine is None or not engine.enabled:
        return None
    strategy: RateLimiter = engine.limiter  # the in-memory fallback while the storage is down
    return strategy


def _ids(kind: str, *keys: str) -> tuple[str, ...]:
    return (str(current_app.config["RATELIMIT_KEY_PREFIX"]), "login-throttle", kind, *keys)


def _keys(email: str) -> tuple[str, str]:
    return "account:" + digest(email), client_address()


def account_items() -> list[RateLimitItem]:
    """Return the per-account count(s) configured in ``RATELIMIT_LOGIN_ACCOUNT``."""
    return list(parse_many(str(current_app.config["RATELIMIT_LOGIN_ACCOUNT"])))


def delay(strikes: int) -> int:
    """Return the wait after an address's ``strikes``-th failure on an account under attack."""
    config = current_app.config
    return int(min(config["LOGIN_DELAY_MAX"], config["LOGIN_DELAY_SECONDS"] * 2 ** max(0, strikes - 1)))


def _wait_item(strikes: int) -> RateLimitItem:
    return RateLimitItemPerSecond(1, delay(strikes))


def check(email: str) -> Wait | None:
    """Return how long this address must still wait before trying ``email`` again, or None."""
    strategy = _strategy()
    if strategy is None:
        return None
    account, address = _keys(email)
    try:
        strikes = STRIKES.amount - strategy.get_window_stats(STRIKES, *_ids("strikes", account, address)).remaining
        if strikes <= 0:
            return None
        item = _wait_item(strikes)
        ids = _ids("wait", account, address)
        if strategy.test(item, *ids):
            return None
        reset_at = strategy.get_window_stats(item, *ids).reset_time
    except Exception:  # the storage failed mid-request: never lock anyone out for it
        logger.warning("login throttle storage unavailable; not checked")
        return None
    return Wait(max(1, int(reset_at - time.time() + 0.999)))


def record_failure(email: str) -> None:
    """Count a failed login for ``email`` from this address; start or lengthen its wait; tell the owner."""
    strategy = _strategy()
    if strategy is None:
        return
    account, address = _keys(email)
    try:
        reached = _count_for_account(strategy, account)
        if reached is None:
            return
        strategy.hit(STRIKES, *_ids("strikes", account, address))
        strikes = STRIKES.amount - strategy.get_window_stats(STRIKES, *_ids("strikes", account, address)).remaining
        strategy.hit(_wait_item(strikes), *_ids("wait", account, address))
        notify = reached.first and strategy.hit(RateLimitItemPerSecond(1, NOTICE_EVERY), *_ids("notice", account))
    except Exception:
        logger.warning("login throttle storage unavailable; failure not counted")
        return
    if notify:
        _tell_owner(email, reached.count, reached.since)


@dataclass(frozen=True)
class _Reached:
    first: bool  # this failure is the one that reached the count
    count: int
    since: float  # epoch seconds of the oldest failure counted


def _count_for_account(strategy: RateLimiter, account: str) -> _Reached | None:
    """Hit every per-account count; return what was reached, or None while all have room."""
    reached: _Reached | None = None
    for item in account_items():
        ids = _ids("account", account)
        counted = strategy.hit(item, *ids)
        stats = strategy.get_window_stats(item, *ids)
        if stats.remaining > 0:
            continue
        since = stats.reset_time - item.get_expiry()
        candidate = _Reached(first=counted, count=item.amount, since=since)
        if reached is None or (candidate.first and not reached.first):
            reached = candidate
    return reached


def succeeded(email: str) -> None:
    """Forget this address's failures on ``email`` after a correct password (the owner's own typos)."""
    strategy = _strategy()
    if strategy is None:
        return
    account, address = _keys(email)
    try:
        strategy.clear(STRIKES, *_ids("strikes", account, address))
    except Exception:
        logger.warning("login throttle storage unavailable; strikes not cleared")


def _tell_owner(email: str, count: int, since: float) -> None:
    """Email the admin that ``count`` logins failed since ``since`` (nothing for an unknown email)."""
    user = get_session().scalar(sa.select(AdminUser).where(AdminUser.email == email))
    if user is None:
        return
    merchant = get_session().get(Merchant, user.merchant_id)
    first = dt.datetime.fromtimestamp(since, dt.UTC)
    last = dt.datetime.now(dt.UTC)
    body = notice_text(user.email, count, first, last)
    try:
        mailer.send(user.email, "Failed logins to your Attune admin account", body, merchant.slug if merchant else "")
    except Exception:  # SMTP trouble must not turn a refused login into a server error
        logger.warning("could not send the failed-login notice")


def notice_text(email: str, count: int, first: dt.datetime, last: dt.datetime) -> str:
    """Return the body of the failed-login email: when and how many, never what was tried."""
    day = first.strftime("%d %B %Y").lstrip("0")
    return (
        f"Someone tried to log in to the Attune admin as {email} with a wrong password "
        f"{count} times between {first:%H:%M} and {last:%H:%M} UTC on {day}.\n\n"
        "Your account is not locked: you can still log in as usual. The places those attempts came "
        "from now have to wait longer and longer between tries.\n\n"
        "If this was you, there is nothing to do. If it was not, choose a new password under "
        '"Your account" in the admin: every other session then ends. A long, unique password '
        "keeps guessing hopeless.\n"
    )
