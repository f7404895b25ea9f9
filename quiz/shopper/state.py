"""The shopper's quiz progress: in the signed session cookie on Attune's own pages, in a signed
token carried by the page's forms and links inside the partner widget (no cookies there).

The cookie is a browser-session cookie: it ends when the browser closes, or when the shopper
deletes their data. The widget token expires after ``WIDGET_STATE_MAX_AGE`` seconds. Nothing
here reaches the database unless `profile` is granted.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from typing import Any

from flask import current_app, g, request, session
from itsdangerous import BadSignature, URLSafeTimedSerializer

KEY = "attune.quiz"
WIDGET = "widget"  # the blueprint of the embedded pages
STATE_FIELD = "state"  # the form field and query parameter carrying the widget's token
# Ids remembered for "show me something different" (the cookie must stay small).
MAX_SEEN = 120


@dataclass
class QuizProgress:
    """The subject token and the answers given so far at one merchant.

    ``token`` is None only in the widget, between the explainer and the consent decision.
    """

    token: str | None
    answers: dict[str, Any] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)  # product ids already shown on results pages
    started_at: float | None = None  # when the quiz began (time.time()), for time-to-finish counts
    counted: list[str] = field(default_factory=list)  # funnel events already counted in this run
    origin: str | None = None  # widget: the partner site it runs on
    hidden: dict[str, str] = field(default_factory=dict)  # widget: fields the partner passes through
    theme: str | None = None  # widget: the partner's accent colour
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(12))  # binds the widget's forms
    picks: dict[str, Any] = field(default_factory=dict)  # the finished run's items (shopping.run.picks)

    def first_time(self, events: list[str]) -> list[str]:
        """Return the events not yet counted in this run, and remember them as counted."""
        new = [e for e in events if e not in self.counted]
        self.counted.extend(new)
        return new

    def restarted(self, fresh: QuizProgress) -> QuizProgress:
        """Return ``fresh`` run in this one's frame: the same partner site, fields, colour and form binding."""
        return replace(fresh, origin=self.origin, hidden=self.hidden, theme=self.theme, nonce=self.nonce)

    def as_dict(self, slug: str) -> dict[str, Any]:
        """Return the progress as plain data, for the cookie or the token."""
        return {
            "slug": slug,
            "token": self.token,
            "answers": self.answers,
            "seen": self.seen[-MAX_SEEN:],
            "started_at": self.started_at,
            "counted": self.counted,
            "origin": self.origin,
            "hidden": self.hidden,
            "theme": self.theme,
            "nonce": self.nonce,
            "picks": self.picks,
        }

    @classmethod
    def from_dict(cls, raw: Any, slug: str) -> QuizProgress | None:
        """Return the progress ``raw`` holds for ``slug``, or None if it holds none."""
        if not isinstance(raw, dict) or raw.get("slug", slug) != slug:
            return None
        token = raw.get("token")
        started = raw.get("started_at")
        return cls(
            token if isinstance(token, str) else None,
            dict(raw.get("answers") or {}),
            [str(s) for s in raw.get("seen") or []][-MAX_SEEN:],
            started if isinstance(started, (int, float)) else None,
            [str(e) for e in raw.get("counted") or []],
            raw.get("origin") if isinstance(raw.get("origin"), str) else None,
            {str(k): str(v) for k, v in (raw.get("hidden") or {}).items()},
            raw.get("theme") if isinstance(raw.get("theme"), str) else None,
            str(raw.get("nonce") or secrets.token_urlsafe(12)),
            raw.get("picks") if isinstance(raw.get("picks"), dict) else {},
        )


def in_widget() -> bool:
    """Return whether the current page is the embedded widget."""
    return request.blueprint == WIDGET


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="attune.widget.state")  # type: ignore[arg-type]


def load_progress(slug: str) -> QuizProgress | None:
    """Return the shopper's progress at ``slug``, or None before any consent decision (site) or
    without a valid token (widget)."""
    if in_widget():
        return widget_progress(slug)
    progress = QuizProgress.from_dict(session.get(KEY, {}).get(slug), slug)
    return progress if progress is not None and progress.token else None


def widget_progress(slug: str) -> QuizProgress | None:
    """Return the progress carried by the widget request's token, if it is genuine and fresh."""
    if "widget_progress" in g:
        return QuizProgress.from_dict(g.widget_progress, slug)
    raw = _received_state()
    try:
        data = _serializer().loads(raw, max_age=current_app.config["WIDGET_STATE_MAX_AGE"]) if raw else None
    except BadSignature:
        data = None
    return QuizProgress.from_dict(data, slug)


def save_progress(slug: str, progress: QuizProgress) -> None:
    """Store the shopper's progress at ``slug`` (the widget's token goes into the next page)."""
    if in_widget():
        g.widget_progress = progress.as_dict(slug)
        g.widget_state = _serializer().dumps(g.widget_progress)
        return
    all_progress = dict(session.get(KEY, {}))
    all_progress[slug] = progress.as_dict(slug)
    session[KEY] = all_progress


def current_state_token() -> str | None:
    """Return the widget token the page being built must carry: the one saved, else the one received."""
    if "widget_state" in g:
        return str(g.widget_state) if g.widget_state else None
    return _received_state() or None


def _received_state() -> str:
    """Return the token the request brought: a form's (newest) before the one in its address."""
    return request.form.get(STATE_FIELD) or request.args.get(STATE_FIELD) or ""


def forget(slug: str) -> None:
    """Drop everything this browser holds about the quiz at ``slug``."""
    if in_widget():
        g.widget_progress = None
        g.widget_state = None
        return
    all_progress = dict(session.get(KEY, {}))
    if all_progress.pop(slug, None) is not None:
        session[KEY] = all_progress
