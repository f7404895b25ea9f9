"""Retention: delete what has outlived its period, on demand and, in a serving process, daily."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from flask import Flask

from .db import transaction
from .profiles import purge_expired
from .quiz_sessions import purge_stale

logger = logging.getLogger(__name__)
EXTENSION = "attune.retention"
DAY = 24 * 3600.0


@dataclass(frozen=True)
class Purged:
    """How much one purge removed."""

    profiles: int
    saved_quizzes: int


def purge() -> Purged:
    """Delete expired profiles and saved quizzes left too long, in one transaction."""
    with transaction():
        return Purged(purge_expired(), purge_stale())


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
