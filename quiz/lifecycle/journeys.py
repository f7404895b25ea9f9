"""The journeys a merchant switches on, and who each one has a message for now (its candidates).

1. ``saved_reminder``: a quiz saved for later and not finished, ``delay_hours`` after it was
   saved, once per save: the resume link.
2. ``no_order_picks``: results shown, nothing ordered ``delay_hours`` later: fresh picks (within
   the stated budget, in stock, never shown to them and never bought), once per finish.
3. ``new_products``: products added to the catalog since the later of the profile's last such
   message, the journey being switched on and ``STALE_AFTER`` ago, close to the profile's stored
   taste (its preference vector; cosine at least ``threshold``): those products, at most weekly.
4. ``win_back``: a profile whose stored churn risk reaches the threshold: its top picks, once.

A candidate is only a trigger; whether it is sent is decided at send time (``runner``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sqlalchemy as sa
from flask_babel import force_locale, gettext

from ..catalog.engine import CatalogNotReady, recommender_for
from ..models import (
    JOURNEY_KINDS,
    Journey,
    JourneySend,
    LifecycleSetting,
    Merchant,
    Order,
    Product,
    Profile,
    ProfileScore,
    QuizSession,
    utcnow,
)
from ..platform.db import get_session
from ..platform.i18n import DEFAULT_LOCALE, LOCALES, N_

DEFAULT_DELAY_HOURS = {"saved_reminder": 24, "no_order_picks": 48, "new_products": 0, "win_back": 0}
DEFAULT_THRESHOLD = 0.7
# new_products: the least cosine between a new product and the stored taste for it to be sent
# (all-MiniLM-L6-v2, a taste for a light rain jacket: new rain jackets 0.66 to 0.74, a fleece vest 0.33,
# espresso cups -0.02; a taste for a yoga mat: those jackets 0.04).
DEFAULT_CLOSENESS = 0.35
DEFAULT_THRESHOLDS = {"win_back": DEFAULT_THRESHOLD, "new_products": DEFAULT_CLOSENESS}
# A trigger older than this past its delay is left alone (switching a journey on does not mail the past).
STALE_AFTER = dt.timedelta(days=14)
# new_products: at most one message per profile in this long (and one per ISO week, its trigger).
NEW_PRODUCTS_EVERY = dt.timedelta(days=7)
AVAILABLE = ("saved_reminder", "no_order_picks", "new_products", "win_back")
# A send that counts as a message (a "pending" one was committed before delivery).
DONE = ("sent", "pending")
# Each journey's default subject and intro, in English; other languages come from the translations.
ENGLISH_TEXTS: dict[str, tuple[str, str]] = {
    "saved_reminder": (N_("Your answers at {shop} are waiting"), N_("You saved the quiz to finish later.")),
    "no_order_picks": (N_("More picks for you from {shop}"), N_("A few more that fit what you told us.")),
    "new_products": (
        N_("New at {shop}, close to what you like"),
        N_("These are new in the shop since we last wrote, and close to what you told us."),
    ),
    "win_back": (N_("It has been a while: picks from {shop}"), N_("Here is what fits you today.")),
}


def default_texts(kind: str) -> dict[str, dict[str, str]]:
    """Return a journey's default subject and intro in every language (translated through the catalogs)."""
    english = ENGLISH_TEXTS.get(kind)
    if english is None:
        return {}
    texts = {DEFAULT_LOCALE: {"subject": english[0], "intro": english[1]}}
    for locale in LOCALES:
        if locale != DEFAULT_LOCALE:
            with force_locale(locale):
                texts[locale] = {"subject": gettext(english[0]), "intro": gettext(english[1])}
    return texts


@dataclass(frozen=True)
class Candidate:
    """A profile a journey has a message for: the trigger (one message per key) and what it needs."""

    journey: Journey
    profile: Profile
    trigger_key: str
    resume_session: QuizSession | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Limits:
    """A merchant's limits across journeys."""

    weekly_cap: int = 2
    quiet_start: int = 21
    quiet_end: int = 9
    repeat_days: int = 30


def limits(merchant: Merchant) -> Limits:
    """Return the merchant's limits (the defaults unless it set its own)."""
    row = get_session().get(LifecycleSetting, merchant.id)
    if row is None:
        return Limits()
    return Limits(row.weekly_cap, row.quiet_start, row.quiet_end, row.repeat_days)


def journeys(merchant: Merchant) -> list[Journey]:
    """Return the merchant's journeys (every kind; stored rows, else switched-off defaults), in order."""
    stored = {j.kind: j for j in get_session().scalars(sa.select(Journey).where(Journey.merchant_id == merchant.id))}
    return [stored.get(kind) or _default(merchant, kind) for kind in JOURNEY_KINDS]


def _default(merchant: Merchant, kind: str) -> Journey:
    return Journey(
        merchant_id=merchant.id,
        kind=kind,
        enabled=False,
        channel="email",
        delay_hours=DEFAULT_DELAY_HOURS[kind],
        threshold=DEFAULT_THRESHOLDS.get(kind),
        texts=default_texts(kind),
    )


def configure(merchant: Merchant, kind: str, **changes: Any) -> Journey:
    """Create or change a journey (``enabled``, ``delay_hours``, ``threshold``, ``texts``); call in a transaction.

    Switching it on (from off) records when, in ``enabled_at``.
    """
    if kind not in AVAILABLE:
        raise ValueError(f"{kind!r} is not a journey Attune runs yet: one of {', '.join(AVAILABLE)}")
    session = get_session()
    journey = session.scalar(sa.select(Journey).where(Journey.merchant_id == merchant.id, Journey.kind == kind))
    if journey is None:
        journey = _default(merchant, kind)
        session.add(journey)
    if changes.get("enabled") and not journey.enabled:
        journey.enabled_at = utcnow()
    for name, value in changes.items():
        if value is not None:
            setattr(journey, name, value)
    session.flush()
    return journey


def text(journey: Journey, locale: str, shop: str) -> tuple[str, str]:
    """Return the journey's subject and intro in ``locale`` (English when it has none), shop name filled in."""
    texts = journey.texts or default_texts(journey.kind)
    chosen = texts.get(locale) or texts.get("en") or next(iter(texts.values()), {"subject": shop, "intro": ""})
    return chosen["subject"].replace("{shop}", shop), chosen.get("intro", "").replace("{shop}", shop)


def candidates(merchant: Merchant, journey: Journey, now: dt.datetime) -> Iterator[Candidate]:
    """Yield the profiles ``journey`` has a message for at ``now`` (its delay elapsed)."""
    session = get_session()
    due = now - dt.timedelta(hours=journey.delay_hours)
    live = sa.and_(Profile.merchant_id == merchant.id, Profile.expires_at > now)
    if journey.kind == "saved_reminder":
        rows = session.execute(
            sa.select(Profile, QuizSession)
            .join(
                QuizSession,
                sa.and_(QuizSession.subject_id == Profile.subject_id, QuizSession.merchant_id == merchant.id),
            )
            .where(live, QuizSession.updated_at <= due, QuizSession.updated_at > due - STALE_AFTER)
            .order_by(Profile.id)
        )
        for profile, saved in rows:
            yield Candidate(journey, profile, f"saved:{_stamp(saved.updated_at)}", resume_session=saved)
    elif journey.kind == "no_order_picks":
        ordered = sa.select(Order.id).where(Order.profile_id == Profile.id, Order.placed_at >= Profile.last_seen_at)
        rows = session.scalars(
            sa.select(Profile)
            .where(live, Profile.last_seen_at <= due, Profile.last_seen_at > due - STALE_AFTER, ~sa.exists(ordered))
            .order_by(Profile.id)
        )
        for profile in rows:
            yield Candidate(journey, profile, f"finished:{_stamp(profile.last_seen_at)}")
    elif journey.kind == "win_back":
        threshold = journey.threshold if journey.threshold is not None else DEFAULT_THRESHOLD
        rows = session.scalars(
            sa.select(Profile)
            .join(ProfileScore, ProfileScore.profile_id == Profile.id)
            .where(live, ProfileScore.basis == "orders", ProfileScore.churn_risk >= threshold)
            .order_by(Profile.id)
        )
        for profile in rows:
            yield Candidate(journey, profile, "win-back")
    elif journey.kind == "new_products":
        yield from _new_products(merchant, journey, now, live)


def _new_products(
    merchant: Merchant, journey: Journey, now: dt.datetime, live: sa.ColumnElement[bool]
) -> Iterator[Candidate]:
    """Yield the profiles with a stored taste close to products added since their last new_products message.

    "Since" is the latest of: their last such message, the journey being switched on, and
    ``STALE_AFTER`` ago. Closeness is the cosine of the product's vector in the merchant's index
    with the profile's preference vector, at least the journey's ``threshold``. A profile sent
    one within ``NEW_PRODUCTS_EVERY`` waits; the trigger is the ISO week (one message per week).
    The runner then picks among the close products as for fresh picks (budget, in stock, never
    shown, never bought, not sent within the repeat window) and applies every send-time check.
    """
    session = get_session()
    floor = now - STALE_AFTER
    if journey.enabled_at is not None:
        floor = max(floor, _aware(journey.enabled_at))
    added = session.execute(
        sa.select(Product.external_id, Product.created_at).where(
            Product.merchant_id == merchant.id,
            Product.available.is_(True),
            Product.embedding.is_not(None),
            Product.created_at > floor,
            Product.created_at <= now,
        )
    ).all()
    if not added:
        return
    try:
        catalog = recommender_for(merchant).catalog
    except CatalogNotReady:
        return
    items = catalog.items_by_external([external_id for external_id, _ in added])
    new = [(items[external_id], _aware(created)) for external_id, created in added if external_id in items]
    if not new:
        return  # not in the search index yet: found once it is rebuilt
    ids = np.array([item.id for item, _ in new], dtype=np.int64)
    if catalog.dense is not None:
        vectors = catalog.dense.rows(ids)
    else:
        vectors = np.stack([catalog.vectors.vector(int(i)) for i in ids])
    closeness = journey.threshold if journey.threshold is not None else DEFAULT_CLOSENESS
    last_sent = {
        profile_id: _aware(when)
        for profile_id, when in session.execute(
            sa.select(JourneySend.profile_id, sa.func.max(JourneySend.decided_at))
            .where(
                JourneySend.merchant_id == merchant.id,
                JourneySend.kind == "new_products",
                JourneySend.status.in_(DONE),
            )
            .group_by(JourneySend.profile_id)
        )
    }
    year, week, _ = now.isocalendar()
    profiles = session.scalars(
        sa.select(Profile).where(live, Profile.preference_embedding.is_not(None)).order_by(Profile.id)
    )
    for profile in profiles:
        last = last_sent.get(profile.id)
        if last is not None and now - last < NEW_PRODUCTS_EVERY:
            continue
        taste = np.frombuffer(profile.preference_embedding, dtype=np.float32)
        norm = float(np.linalg.norm(taste))
        if taste.shape[0] != vectors.shape[1] or norm == 0:
            continue  # stored with another embedding model
        since = max(floor, last) if last is not None else floor
        cosines = vectors @ (taste / norm)
        close = sorted(
            ((float(c), item.external_id) for (item, created), c in zip(new, cosines, strict=True) if created > since),
            reverse=True,
        )
        chosen = [external_id for cosine, external_id in close if cosine >= closeness]
        if chosen:
            yield Candidate(journey, profile, f"new:{year}-W{week:02d}", extra={"new_products": chosen})


def _aware(moment: dt.datetime) -> dt.datetime:
    """Return a stored time as timezone-aware UTC (SQLite gives it back without a zone)."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


def _stamp(moment: dt.datetime) -> str:
    """Return a time as a short, stable key (to the second, UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.strftime("%Y%m%dT%H%M%S")
