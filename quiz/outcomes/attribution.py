"""Quiz-influenced orders: which orders the quiz had a hand in, and the outcome report built on them.

An order is quiz-influenced when, within the attribution window before it was placed, one of
its products was recommended to its profile (a ``recommended`` event), or it carries an
attribution reference (from a recommendation link) shown within that window. This is how
Shopify quiz apps count it; the window is ``ATTRIBUTION_WINDOW_DAYS`` (7 by default).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..models import FunnelCount, Merchant, Order, Product, ShopperEvent
from ..models.shopper_event import RECOMMENDED
from ..platform.db import get_session


@dataclass(frozen=True)
class Influence:
    """Why an order counts as quiz-influenced: the recommended product, where and on which quiz version."""

    product_id: str
    channel: str
    quiz_version: int | None


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)  # SQLite hands times back naive


def influence(order: Order, shown: list[ShopperEvent], window: dt.timedelta) -> Influence | None:
    """Return why ``order`` is quiz-influenced, or None; ``shown`` are its profile's recommended events."""
    placed = _aware(order.placed_at)
    products = {line.product_id for line in order.lines}
    if order.ref_product_id and order.ref_shown_at and placed - window <= _aware(order.ref_shown_at) <= placed:
        return Influence(order.ref_product_id, order.ref_channel or "site", order.ref_quiz_version)
    for event in sorted(shown, key=lambda e: _aware(e.occurred_at), reverse=True):
        if event.product_id in products and placed - window <= _aware(event.occurred_at) <= placed:
            return Influence(event.product_id, event.channel or "site", event.quiz_version)
    return None


def report(merchant: Merchant, start: dt.date, end: dt.date, window_days: int) -> dict[str, Any]:
    """Return the outcome report of ``start``..``end`` (inclusive days, UTC)."""
    window = dt.timedelta(days=window_days)
    begin = dt.datetime.combine(start, dt.time(), dt.UTC)
    finish = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), dt.UTC)
    session = get_session()
    orders = list(
        session.scalars(
            sa.select(Order)
            .options(selectinload(Order.lines))
            .where(Order.merchant_id == merchant.id, Order.cancelled_at.is_(None))
            .where(Order.placed_at >= begin, Order.placed_at < finish)
        )
    )
    shown = _recommended(merchant, {o.profile_id for o in orders if o.profile_id}, begin - window, finish)
    counters = _counters(merchant, start, end)
    influenced: list[tuple[Order, Influence]] = []
    rest: list[Order] = []
    for order in orders:
        why = influence(order, shown.get(order.profile_id or "", []), window)
        if why is None:
            rest.append(order)
        else:
            influenced.append((order, why))
    shown_to = _finishers(merchant, begin, finish)
    finishers = {profile_id for profile_id, _, _ in shown_to}
    ordered = {o.profile_id for o in orders if o.profile_id}
    buyers = finishers & ordered
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "window_days": window_days,
        "starts": counters.get("start", 0),
        "finishes": counters.get("complete", 0),
        "finishers_with_profile": len(finishers),
        "finishers_who_ordered": len(buyers),
        "conversion_rate": round(len(buyers) / len(finishers), 4) if finishers else 0.0,
        "orders": len(orders),
        "revenue": _money(sum((o.total for o in orders), Decimal(0))),
        "influenced_orders": len(influenced),
        "influenced_revenue": _money(sum((o.total for o, _ in influenced), Decimal(0))),
        "aov_influenced": _average([o.total for o, _ in influenced]),
        "aov_other": _average([o.total for o in rest]),
        "by_channel": _grouped(
            influenced, lambda why: why.channel, _split(counters, "channel"), _converted(shown_to, ordered, 1)
        ),
        "by_quiz_version": _grouped(
            influenced,
            lambda why: str(why.quiz_version or "unknown"),
            _split(counters, "version"),
            _converted(shown_to, ordered, 2),
        ),
        "top_products": _top_products(merchant.id, influenced),
    }


def _recommended(
    merchant: Merchant, profile_ids: set[str], begin: dt.datetime, finish: dt.datetime
) -> dict[str, list[ShopperEvent]]:
    if not profile_ids:
        return {}
    rows = get_session().scalars(
        sa.select(ShopperEvent).where(
            ShopperEvent.merchant_id == merchant.id,
            ShopperEvent.profile_id.in_(profile_ids),
            ShopperEvent.type == RECOMMENDED,
            ShopperEvent.occurred_at >= begin,
            ShopperEvent.occurred_at < finish,
        )
    )
    found: dict[str, list[ShopperEvent]] = defaultdict(list)
    for event in rows:
        found[event.profile_id].append(event)
    return found


def _finishers(merchant: Merchant, begin: dt.datetime, finish: dt.datetime) -> set[tuple[str, str, str]]:
    """Return (profile, channel, quiz version) of the profiles shown results in the range.

    These are the finishers who allowed a profile; one profile may finish on several channels.
    """
    rows = get_session().execute(
        sa.select(ShopperEvent.profile_id, ShopperEvent.channel, ShopperEvent.quiz_version)
        .where(ShopperEvent.merchant_id == merchant.id, ShopperEvent.type == RECOMMENDED)
        .where(ShopperEvent.occurred_at >= begin, ShopperEvent.occurred_at < finish)
        .distinct()
    )
    return {(profile_id, channel or "site", str(version or "unknown")) for profile_id, channel, version in rows}


def _counters(merchant: Merchant, start: dt.date, end: dt.date) -> dict[str, int]:
    """Return the day counters of starts and finishes, with their per-channel and per-version splits."""
    rows = get_session().execute(
        sa.select(FunnelCount.event, sa.func.sum(FunnelCount.count))
        .where(FunnelCount.merchant_id == merchant.id, FunnelCount.day >= start, FunnelCount.day <= end)
        .where(
            sa.or_(
                FunnelCount.event.in_(("start", "complete")),
                FunnelCount.event.like("start:%"),
                FunnelCount.event.like("complete:%"),
            )
        )
        .group_by(FunnelCount.event)
    )
    return {event: int(total or 0) for event, total in rows}


def _split(counters: dict[str, int], by: str) -> dict[str, dict[str, int]]:
    """Return starts and finishes per channel or per quiz version (``by``) from the counters."""
    found: dict[str, dict[str, int]] = defaultdict(lambda: {"starts": 0, "finishes": 0})
    for event, total in counters.items():
        kind, _, rest = event.partition(f":{by}:")
        if rest and kind in ("start", "complete"):
            found[rest]["starts" if kind == "start" else "finishes"] += total
    return found


def _converted(shown_to: set[tuple[str, str, str]], ordered: set[str], part: int) -> dict[str, tuple[int, int]]:
    """Return (finishers with a profile, of them who ordered) per channel (``part`` 1) or quiz version (2)."""
    finishers: dict[str, set[str]] = defaultdict(set)
    for row in shown_to:
        finishers[row[part]].add(row[0])
    return {name: (len(ids), len(ids & ordered)) for name, ids in finishers.items()}


def _grouped(
    influenced: list[tuple[Order, Influence]],
    key: Any,
    runs: dict[str, dict[str, int]],
    converted: dict[str, tuple[int, int]],
) -> dict[str, dict[str, Any]]:
    """Return per group: starts, finishes, conversion of finishers with a profile, influenced orders and revenue."""
    groups: dict[str, list[Order]] = defaultdict(list)
    for order, why in influenced:
        groups[key(why)].append(order)
    result = {}
    for name in sorted({*groups, *runs, *converted}):
        orders = groups.get(name, [])
        finishers, buyers = converted.get(name, (0, 0))
        result[name] = {
            **runs.get(name, {"starts": 0, "finishes": 0}),
            "finishers_with_profile": finishers,
            "finishers_who_ordered": buyers,
            "conversion_rate": round(buyers / finishers, 4) if finishers else 0.0,
            "orders": len(orders),
            "revenue": _money(sum((o.total for o in orders), Decimal(0))),
        }
    return result


def _top_products(merchant_id: int, influenced: list[tuple[Order, Influence]], limit: int = 10) -> list[dict[str, Any]]:
    """Return the recommended products by revenue in influenced orders, with their titles (None: removed)."""
    revenue: Counter[str] = Counter()
    for order, why in influenced:
        for line in order.lines:
            if line.product_id == why.product_id:
                revenue[line.product_id] += float(line.price * line.quantity)
    top = revenue.most_common(limit)
    titles: dict[str, str] = {}
    if top:
        rows = get_session().execute(
            sa.select(Product.external_id, Product.title).where(
                Product.merchant_id == merchant_id, Product.external_id.in_([pid for pid, _ in top])
            )
        )
        titles = {external_id: title for external_id, title in rows}
    return [{"product_id": pid, "title": titles.get(pid), "revenue": round(total, 2)} for pid, total in top]


def _average(totals: list[Decimal]) -> float | None:
    return _money(sum(totals, Decimal(0)) / len(totals)) if totals else None


def _money(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01")))
