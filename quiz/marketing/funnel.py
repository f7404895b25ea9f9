"""Funnel analytics from aggregate counters: starts, drop-off, opt-ins, time to finish, clicks.

Only counts are kept, per merchant and day; nothing identifies a shopper, so shoppers who
allowed no profile are counted too without anything about them being stored.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ..models import FunnelCount, Merchant
from ..platform import metrics
from ..platform.db import get_session, is_unavailable
from ..privacy.explainer import PURPOSES
from ..quizzes.answers import is_visible
from ..quizzes.schema import Question, Quiz

logger = logging.getLogger(__name__)

# Upper bounds (seconds) of the time-to-finish buckets; the last bucket is open.
DURATION_BUCKETS = (30, 60, 120, 300, 600, 1800)


def count(merchant_id: int, events: Iterable[str], by: int = 1) -> None:
    """Add ``by`` to today's counter of each event, in one short transaction of its own.

    Counting follows what the shopper did, which the request has already committed: a database
    that refuses the count (locked past its busy timeout, briefly unreachable) costs the count,
    logged and metered, never the shopper's answer. Call it outside other transactions: it
    commits the request's session.
    """
    events = list(events)
    if not events:
        return
    session = get_session()
    try:
        add(merchant_id, events, by)
        session.commit()
    except SQLAlchemyError as exc:
        session.rollback()
        if not is_unavailable(exc):
            raise  # a bug, not a refusal: the usual 500 path logs it
        dropped = len(events)
        logger.warning("funnel: %d events not counted: %s", dropped, str(getattr(exc, "orig", None) or exc)[:200])
        metrics.count_funnel_dropped(dropped)


def add(merchant_id: int, events: Iterable[str], by: int = 1) -> None:
    """Add ``by`` to today's counter of each event in the caller's transaction (nothing is committed).

    For a write that must count with what it stores, in one commit (a shop event and its
    ``shop:<type>`` counter): the caller's transaction stores both or neither. Call it last in
    the transaction, so the day's counter row is locked only until the commit that follows.
    """
    tally = Counter(event[:120] for event in events)
    session = get_session()
    day = dt.datetime.now(dt.UTC).date()
    for event in sorted(tally):  # one order for every request: no deadlock between two of them
        session.execute(_increment(session, merchant_id, day, event, by * tally[event]))


def _increment(session: Session, merchant_id: int, day: dt.date, event: str, by: int) -> sa.Insert:
    """Return an upsert adding ``by`` to the counter (created at ``by`` if it is the day's first)."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = FunnelCount.__table__
    statement = insert(table).values(merchant_id=merchant_id, day=day, event=event, count=by)
    return statement.on_conflict_do_update(
        index_elements=[table.c.merchant_id, table.c.day, table.c.event], set_={"count": table.c.count + by}
    )


def shown_events(quiz: Quiz, answers: Mapping[str, Any], questions: Iterable[Question] | None = None) -> list[str]:
    """Return a ``shown:<id>`` event for each conditional question the answers made the shopper see."""
    asked = questions if questions is not None else quiz.questions()
    return [f"shown:{q.id}" for q in asked if q.show_if and is_visible(q, answers)]


def decision_events(
    purposes: Mapping[str, bool], channel: str | None = None, quiz_version: int | None = None
) -> list[str]:
    """Return the events of a consent decision: a start (per channel and quiz version), each purpose granted."""
    return [
        *run_events("start", channel, quiz_version),
        *(f"consent:{p}" for p, granted in purposes.items() if granted),
    ]


def run_events(kind: str, channel: str | None, quiz_version: int | None) -> list[str]:
    """Return ``kind`` ("start", "complete") with its counters per channel and per quiz version.

    ``start:channel:widget``, ``complete:version:3``: still counts only, per merchant and day.
    """
    events = [kind]
    if channel:
        events.append(f"{kind}:channel:{channel}")
    if quiz_version is not None:
        events.append(f"{kind}:version:{quiz_version}")
    return events


def duration_event(seconds: float) -> str:
    """Return the time-to-finish bucket event for a quiz finished in ``seconds``."""
    bound = next((b for b in DURATION_BUCKETS if seconds <= b), None)
    return f"duration:{bound}" if bound else f"duration:>{DURATION_BUCKETS[-1]}"


@dataclass(frozen=True)
class Step:
    """A question or section with how many shoppers reached and answered it."""

    label: str
    reached: int
    answered: int

    @property
    def drop_off(self) -> float:
        """Return the share of shoppers who reached this step and went no further."""
        return 1 - self.answered / self.reached if self.reached else 0.0


@dataclass(frozen=True)
class FunnelReport:
    """The funnel of one merchant over a date range."""

    start: dt.date
    end: dt.date
    starts: int
    completions: int
    steps: list[Step]
    opt_in: dict[str, float]
    median_duration: str | None
    results_views: int
    clicks: int

    @property
    def completion_rate(self) -> float:
        """Return the share of starts that finished the quiz."""
        return self.completions / self.starts if self.starts else 0.0

    @property
    def click_through(self) -> float:
        """Return product clicks per results page shown."""
        return self.clicks / self.results_views if self.results_views else 0.0


def report(merchant: Merchant, quiz: Quiz, start: dt.date, end: dt.date) -> FunnelReport:
    """Return the merchant's funnel between ``start`` and ``end`` (inclusive)."""
    rows = get_session().execute(
        sa.select(FunnelCount.event, sa.func.sum(FunnelCount.count))
        .where(FunnelCount.merchant_id == merchant.id, FunnelCount.day >= start, FunnelCount.day <= end)
        .group_by(FunnelCount.event)
    )
    totals = {event: int(total or 0) for event, total in rows}
    starts = totals.get("start", 0)
    steps: list[Step] = []
    reached = starts
    for section in quiz.sections:
        for question in section.questions:
            answered = totals.get(f"answered:{question.id}", 0)
            # A question asked only under a condition was reached by the shoppers it was shown to
            # (counted since issue 20; never fewer than answered it, for days counted before).
            shown = max(totals.get(f"shown:{question.id}", 0), answered) if question.show_if else reached
            steps.append(Step(question.label, shown, answered))
        reached = totals.get(f"section:{section.id}", 0)
    return FunnelReport(
        start=start,
        end=end,
        starts=starts,
        completions=totals.get("complete", 0),
        steps=steps,
        opt_in={p: (totals.get(f"consent:{p}", 0) / starts if starts else 0.0) for p in PURPOSES},
        median_duration=_median_bucket(totals),
        results_views=totals.get("results", 0),
        clicks=totals.get("click", 0),
    )


def _median_bucket(totals: dict[str, int]) -> str | None:
    labels = [*(f"duration:{b}" for b in DURATION_BUCKETS), f"duration:>{DURATION_BUCKETS[-1]}"]
    counts = [totals.get(label, 0) for label in labels]
    total = sum(counts)
    if not total:
        return None
    running = 0
    for i, n in enumerate(counts):
        running += n
        if running * 2 >= total:
            if i == len(DURATION_BUCKETS):
                return f"over {DURATION_BUCKETS[-1] // 60} minutes"
            if i == 0:
                return f"under {_short(DURATION_BUCKETS[0])}"
            return f"{_short(DURATION_BUCKETS[i - 1])}-{_short(DURATION_BUCKETS[i])}"
    return None  # pragma: no cover - the loop always reaches half


def _short(seconds: int) -> str:
    return f"{seconds // 60} min" if seconds >= 60 and seconds % 60 == 0 else f"{seconds} s"


@dataclass(frozen=True)
class Overview:
    """The numbers a shop owner opens the admin for, over the last ``days`` days."""

    days: int
    starts: int
    completion_rate: float
    contactable: int
    click_through: float


def overview(merchant: Merchant, quiz: Quiz, today: dt.date, periods: tuple[int, ...] = (7, 30)) -> list[Overview]:
    """Return quiz starts, completion rate, shoppers who agreed to email or SMS, and click-through per period."""
    found = []
    for days in periods:
        numbers = report(merchant, quiz, today - dt.timedelta(days=days - 1), today)
        contactable = round(max(numbers.opt_in.get("email", 0.0), numbers.opt_in.get("sms", 0.0)) * numbers.starts)
        found.append(Overview(days, numbers.starts, numbers.completion_rate, contactable, numbers.click_through))
    return found
