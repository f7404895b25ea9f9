"""Recommendation links: each carries an attribution reference, so a click is recorded without cookies.

The reference rides from the results page (site or widget) or an email to ``/m/SLUG/go/ID``,
which records the click and hands the reference on to the shop's product page, where track.js
sends it back with the shopper's add-to-cart and purchase.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import sqlalchemy as sa

from ..models import Merchant, ShopperEvent, utcnow
from ..models.shopper_event import RECOMMENDED
from ..platform.db import get_session
from ..privacy.consent import ConsentState, current_state
from .events import IncomingEvent, profile_for_subject, store
from .references import Reference, issue, read

PARAMETER = "attune_ref"
# Showing the same pick again within this period (a reload, "back") is not a new recommendation.
REPEAT_WINDOW = dt.timedelta(hours=24)


def references_for(
    merchant: Merchant, subject_id: str, product_ids: Iterable[str], channel: str, quiz_version: int
) -> dict[str, str]:
    """Return an attribution reference per product shown to the subject (product id -> reference)."""
    now = utcnow()
    return {pid: issue(Reference(merchant.id, subject_id, pid, channel, quiz_version, now)) for pid in product_ids}


def note_recommended(
    merchant: Merchant, consent: ConsentState, product_ids: Iterable[str], channel: str, quiz_version: int
) -> int:
    """Store the picks shown on the profile's timeline (with `profile` consent); return how many were new."""
    if not consent.allows("profile"):
        return 0
    profile_id = profile_for_subject(merchant.id, consent.subject_id)
    if profile_id is None:
        return 0
    wanted = list(dict.fromkeys(product_ids))
    recent = set(
        get_session().scalars(
            sa.select(ShopperEvent.product_id).where(
                ShopperEvent.profile_id == profile_id,
                ShopperEvent.type == RECOMMENDED,
                ShopperEvent.occurred_at >= utcnow() - REPEAT_WINDOW,
                ShopperEvent.product_id.in_(wanted),
            )
        )
    )
    fresh = [pid for pid in wanted if pid not in recent]
    for pid in fresh:
        ref = Reference(merchant.id, consent.subject_id, pid, channel, quiz_version, utcnow())
        store(merchant.id, profile_id, IncomingEvent(type=RECOMMENDED, product_id=pid, reference=ref))
    return len(fresh)


def record_click(merchant: Merchant, product_id: str, token: str | None) -> Reference | None:
    """Record a click on a recommendation link; return its reference when it is valid for this product.

    The click is stored with the reference's subject's profile only while that subject allows
    `profile`; anything else (no reference, a forged one) leaves just the anonymous counter.
    """
    ref = read(token, merchant.id) if token else None
    if ref is None or ref.product_id != product_id:
        return None
    consent = current_state(merchant.id, ref.subject_id)
    profile_id = profile_for_subject(merchant.id, ref.subject_id) if consent and consent.allows("profile") else None
    if profile_id is not None:
        store(merchant.id, profile_id, IncomingEvent(type="product_click", product_id=product_id, reference=ref))
    return ref


def landing_url(url: str, token: str) -> str:
    """Return the shop's product address with the reference added, for the shop's track.js to send back."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != PARAMETER]
    return urlunsplit(parts._replace(query=urlencode([*query, (PARAMETER, token)])))
