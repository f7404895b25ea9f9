"""Running the journeys: every candidate decided at send time, logged with why, sent at most once.

Checks, in order, when a candidate comes up: the profile's current consent allows the channel
(a withdrawal, an unsubscribe or an erasure ends it), an email address confirmed by double
opt-in, not below the digital-consent age, the weekly cap per profile and channel across all
journeys, something new to show (no product sent to the same person within the repeat window),
and quiet hours in the shopper's time zone (deferred to when they end). A send is recorded as
``pending`` and committed before delivery, so a crash or a second worker never sends twice; a
failed delivery is retried on the next run.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from ..marketing.campaigns import absolute_links, public_base
from ..models import ConsentRecord, Journey, JourneySend, Merchant, Profile, ShopperEvent, utcnow
from ..models.shopper_event import RECOMMENDED
from ..outcomes.bought import hidden_products
from ..platform import metrics
from ..platform.db import get_session
from ..privacy.consent import current_state
from ..quizzes.answers import AnswerError, clean_answers
from ..quizzes.store import live_quiz
from ..shopping.flow import known_answers
from ..shopping.recommendations import recommend
from ..shopping.responses import below_consent_age
from . import journeys as journey_rules
from .local_time import next_allowed
from .messages import deliver, render

logger = logging.getLogger(__name__)
PICKS = 3
DONE = journey_rules.DONE


@dataclass(frozen=True)
class Decision:
    """What happened to one candidate."""

    kind: str
    profile_id: str
    channel: str
    status: str  # sent, failed, skipped, deferred, would_send (dry run), already
    reason: str
    products: list[str] = field(default_factory=list)


def run(
    merchant: Merchant,
    now: dt.datetime | None = None,
    *,
    dry_run: bool = False,
    each: Callable[[Decision], None] | None = None,
) -> list[Decision]:
    """Decide every enabled journey's candidates of the merchant; send unless ``dry_run`` (which writes nothing)."""
    now = now or utcnow()
    limits = journey_rules.limits(merchant)
    quiz = live_quiz(merchant)
    decisions: list[Decision] = []
    for journey in journey_rules.journeys(merchant):
        if not journey.enabled:
            continue
        for candidate in list(journey_rules.candidates(merchant, journey, now)):
            decision = _decide(merchant, quiz, limits, candidate, now, dry_run)
            decisions.append(decision)
            if each is not None:
                each(decision)
    return decisions


def _decide(merchant, quiz, limits, candidate, now, dry_run) -> Decision:  # noqa: ANN001 (internal)
    session = get_session()
    journey: Journey = candidate.journey
    profile: Profile = candidate.profile
    row = session.scalar(
        sa.select(JourneySend).where(
            JourneySend.merchant_id == merchant.id,
            JourneySend.kind == journey.kind,
            JourneySend.profile_id == profile.id,
            JourneySend.trigger_key == candidate.trigger_key,
        )
    )
    if row is not None and row.status in DONE:
        return Decision(journey.kind, profile.id, journey.channel, "already", f"already {row.status}", row.products)
    status, reason, products = _check(merchant, quiz, limits, candidate, now)

    def result(final: str, why: str) -> Decision:
        return Decision(journey.kind, profile.id, journey.channel, final, why, [p["id"] for p in products])

    if dry_run:
        return result("would_send" if status == "send" else status, reason)
    if row is None:
        row = JourneySend(
            merchant_id=merchant.id,
            kind=journey.kind,
            profile_id=profile.id,
            trigger_key=candidate.trigger_key,
            channel=journey.channel,
            attempts=0,
            products=[],
        )
        session.add(row)
    row.decided_at, row.products = now, [p["id"] for p in products]
    if status != "send":
        row.status, row.reason = status, reason
        session.commit()
        _count(journey.kind, status)
        return result(status, reason)
    row.status, row.reason, row.attempts = "pending", "recorded before delivery", row.attempts + 1
    session.commit()  # recorded before delivery: a second worker sees it and leaves it
    state = current_state(merchant.id, profile.subject_id)
    record = session.get(ConsentRecord, state.record_id) if state else None
    try:
        deliver(merchant, render(merchant, candidate, record.locale if record else "en", products))
    except Exception as exc:  # noqa: BLE001 (any failure to deliver is retried next run)
        logger.warning("journey %s to profile %s failed: %s", journey.kind, profile.id, exc)
        row.status, row.reason = "failed", f"delivery failed, retried next run: {type(exc).__name__}"
        session.commit()
        _count(journey.kind, "failed")
        return result("failed", row.reason)
    row.status, row.reason, row.sent_at = "sent", reason, utcnow()
    session.commit()
    _count(journey.kind, "sent")
    return result("sent", reason)


def _check(merchant, quiz, limits, candidate, now) -> tuple[str, str, list[dict]]:  # noqa: ANN001 (internal)
    """Return ``(send | skipped | deferred, why, products)`` for a candidate, as things stand now."""
    journey: Journey = candidate.journey
    profile: Profile = candidate.profile
    state = current_state(merchant.id, profile.subject_id)
    if state is None or state.ended:
        return "skipped", "erased or every consent withdrawn", []
    if not state.allows(journey.channel):
        return "skipped", f"no {journey.channel} consent now (withdrawn or unsubscribed)", []
    if journey.channel == "email" and not (profile.email and profile.email_confirmed_at is not None):
        return "skipped", "email address not confirmed (double opt-in)", []
    if journey.channel == "sms":
        return "skipped", "sms journeys are not delivered yet: no SMS provider is configured", []
    if below_consent_age(quiz, profile.answers or {}):
        return "skipped", "below the digital-consent age", []
    week = now - dt.timedelta(days=7)
    sent = get_session().scalar(
        sa.select(sa.func.count())
        .select_from(JourneySend)
        .where(
            JourneySend.profile_id == profile.id,
            JourneySend.channel == journey.channel,
            JourneySend.status.in_(DONE),
            JourneySend.decided_at >= week,
        )
    )
    if (sent or 0) >= limits.weekly_cap:
        return "skipped", f"frequency cap: {sent} messages on {journey.channel} in the last 7 days", []
    products: list[dict] = []
    if journey.kind != "saved_reminder":
        fresh_only = journey.kind in ("no_order_picks", "new_products")
        among = candidate.extra.get("new_products") if journey.kind == "new_products" else None
        products = _picks(merchant, quiz, profile, now, limits.repeat_days, fresh_only=fresh_only, among=among)
        if not products:
            return "skipped", "nothing new to show (every pick was sent or shown before)", []
    quiet_until = next_allowed(now, (profile.answers or {}).get("country"), limits.quiet_start, limits.quiet_end)
    if quiet_until is not None:
        return "deferred", f"quiet hours in the shopper's time zone until {quiet_until.isoformat()}", products
    return "send", "all checks passed", products


def _picks(merchant, quiz, profile, now, repeat_days, *, fresh_only: bool, among=None) -> list[dict]:  # noqa: ANN001
    """Return the profile's top picks now, without products sent to it within the window or bought.

    ``fresh_only`` also leaves out everything ever shown to it on a results page and keeps the
    picks within the answers' budget and categories (no fallback outside them); ``among``
    (external ids: new_products' close new ones) restricts the picks to those.
    """
    session = get_session()
    exclude = set(hidden_products(merchant, profile_id=profile.id))
    window = now - dt.timedelta(days=repeat_days)
    for products in session.scalars(
        sa.select(JourneySend.products).where(
            JourneySend.profile_id == profile.id, JourneySend.status.in_(DONE), JourneySend.decided_at >= window
        )
    ):
        exclude.update(products or [])
    if fresh_only:
        shown = session.scalars(
            sa.select(ShopperEvent.product_id).where(
                ShopperEvent.profile_id == profile.id, ShopperEvent.type == RECOMMENDED
            )
        )
        exclude.update(p for p in shown if p)
    try:
        answers = clean_answers(quiz, known_answers(quiz, profile.answers or {}), complete=False)
    except AnswerError:
        return []
    result = recommend(merchant, quiz, answers, PICKS, exclude=exclude, among=among)
    # Fresh picks stay within what the shopper asked for: a fallback (outside the budget or the
    # categories, shown on a results page with a note saying so) has no note in a message.
    items = [r for r in result.items if not r.fallback] if fresh_only else result.items
    base = public_base()
    return [
        absolute_links(
            {"id": r.item.external_id, "title": r.item.title, "url": r.item.url, "image_url": r.item.image_url}, base
        )
        for r in items
    ]


def _count(kind: str, outcome: str) -> None:
    """Count a decision in ``attune_messages_sent_total`` (by journey and outcome)."""
    metrics.count_message(kind, outcome)
