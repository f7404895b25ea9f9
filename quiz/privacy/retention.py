"""Retention: delete what has outlived its period, on demand and, in a serving process, daily."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from flask import Flask, current_app

from ..merchants import admin_logins
from ..platform import scheduling
from ..platform.db import transaction
from ..platform.mailer import outbox_dir
from .profiles import purge_expired
from .quiz_sessions import purge_stale

logger = logging.getLogger(__name__)
TASK = "retention"  # the daily purge in the app's schedule
DAY = 24 * 3600.0
OUTBOX_KEEP_DAYS = 30


@dataclass(frozen=True)
class Purged:
    """How much one purge removed."""

    profiles: int
    saved_quizzes: int
    messages: int = 0
    admin_logins: int = 0


def purge() -> Purged:
    """Delete expired profiles, saved quizzes left too long, old outbox messages and ended admin logins."""
    with transaction():
        profiles, saved = purge_expired(), purge_stale()
        logins = admin_logins.purge(current_app.permanent_session_lifetime)
    return Purged(profiles, saved, purge_outbox(), logins)


def purge_outbox(now: float | None = None) -> int:
    """Delete outbox messages older than ``OUTBOX_KEEP_DAYS``: they hold shoppers' addresses."""
    folder = outbox_dir()
    if not folder.is_dir():
        return 0
    cutoff = (now or time.time()) - OUTBOX_KEEP_DAYS * DAY
    old = [path for path in folder.glob("*.eml") if path.stat().st_mtime < cutoff]
    for path in old:
        path.unlink(missing_ok=True)
    return len(old)


def _purge_and_log() -> None:
    """One run of the daily purge, logged."""
    done = purge()
    logger.info(
        "daily purge: %d profiles, %d saved quizzes, %d admin logins",
        done.profiles,
        done.saved_quizzes,
        done.admin_logins,
    )


def start(app: Flask, interval: float = DAY) -> None:
    """Start the daily purge for a serving process (the embedded default): now, then every ``interval`` seconds."""
    scheduling.register(app, scheduling.Task(TASK, _purge_and_log, every=interval))
    scheduling.start(app, TASK)


def stop(app: Flask) -> None:
    """Stop the app's daily purge after its current run."""
    if scheduling.running(app, TASK):
        scheduling.stop(app, TASK)
