"""The shopper's quiz progress, kept in the signed session cookie for the length of the quiz session.

The cookie is a browser-session cookie: it ends when the browser closes, or when the shopper
deletes their data. Nothing here reaches the database unless `profile` is granted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import session

KEY = "attune.quiz"
# Ids remembered for "show me something different" (the cookie must stay small).
MAX_SEEN = 120


@dataclass
class QuizProgress:
    """The subject token and the answers given so far at one merchant."""

    token: str
    answers: dict[str, Any] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)  # product ids already shown on results pages
    started_at: float | None = None  # when the quiz began (time.time()), for time-to-finish counts
    counted: list[str] = field(default_factory=list)  # funnel events already counted in this run

    def first_time(self, events: list[str]) -> list[str]:
        """Return the events not yet counted in this run, and remember them as counted."""
        new = [e for e in events if e not in self.counted]
        self.counted.extend(new)
        return new


def load_progress(slug: str) -> QuizProgress | None:
    """Return the shopper's progress at ``slug``, or None before any consent decision."""
    raw = session.get(KEY, {}).get(slug)
    if not isinstance(raw, dict) or not isinstance(raw.get("token"), str):
        return None
    seen = [str(s) for s in raw.get("seen") or []][-MAX_SEEN:]
    started = raw.get("started_at")
    return QuizProgress(
        raw["token"],
        dict(raw.get("answers") or {}),
        seen,
        started if isinstance(started, (int, float)) else None,
        [str(e) for e in raw.get("counted") or []],
    )


def save_progress(slug: str, progress: QuizProgress) -> None:
    """Store the shopper's progress at ``slug``."""
    all_progress = dict(session.get(KEY, {}))
    all_progress[slug] = {
        "token": progress.token,
        "answers": progress.answers,
        "seen": progress.seen[-MAX_SEEN:],
        "started_at": progress.started_at,
        "counted": progress.counted,
    }
    session[KEY] = all_progress


def forget(slug: str) -> None:
    """Drop everything this browser holds about the quiz at ``slug``."""
    all_progress = dict(session.get(KEY, {}))
    if all_progress.pop(slug, None) is not None:
        session[KEY] = all_progress
