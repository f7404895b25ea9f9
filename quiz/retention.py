"""Retention: delete what has outlived its period, on demand and, in a serving process, daily."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from flask import Flask

from .db import transaction
from .mailer import outbox_dir
from .profiles import purge_expired
from .quiz_sessions import purge_stale

logger = logging.getLogger(__name__)
EXTENSION = "attune.retention"
DAY = 24 * 3600.0
OUTBOX_KEEP_DAYS = 30


@dataclass(frozen=True)
class Purged:
    """How much one purge removed."""

    profiles: int
    saved_quizzes: int
    messages: int = 0


def purge() -> Purged:
    """Delete expired profiles, saved quizzes left too long and old outbox messages."""
    with transaction():
        profiles, saved = purge_expired(), purge_stale()
    return Purged(profiles, saved, purge_outbox())


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


class DailyPurge:
    """Runs :func:`purge` at start and then every ``interval`` seconds in a daemon thread."""

    def __init__(self, app: Flask, interval: float = DAY) -> None:
        self.app = app
        self.interval = interval
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="attune-retention", daemon=True)

    def _run(self) -> None:
        while not self.stopped.is_set():
            try:
                with self.app.app_context():
                    done = purge()
                logger.info("daily purge: %d profiles, %d saved quizzes", done.profiles, done.saved_quizzes)
            except Exception:  # a failed run must not end the schedule; the next one tries again
                logger.exception("daily purge failed")
            self.stopped.wait(self.interval)

    def stop(self) -> None:
        """Stop after the current run."""
        self.stopped.set()


def start(app: Flask, interval: float = DAY) -> DailyPurge:
    """Start the daily purge for a serving process (the embedded default)."""
    schedule = DailyPurge(app, interval)
    app.extensions[EXTENSION] = schedule
    schedule.thread.start()
    return schedule
