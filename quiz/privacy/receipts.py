"""Consent receipts: what a shopper agreed to, when, and on which exact text."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..models import ConsentRecord, Merchant, utcnow
from .consent import history, normalise

RECEIPT_VERSION = 1
# Decisions on the explainer page from this time on were made on the layered notice (issue 17);
# earlier ones on a single page with every section open. The text hashed is the same full text.
# Since revision 0014 each decision stores its layers (``ConsentRecord.notice_layers``); this date
# only reads the records made before, which have none stored.
LAYERED_NOTICE_SINCE = dt.datetime(2026, 12, 7, tzinfo=dt.UTC)
FIRST_LAYER = ("title", "intro", "purposes", "choices")
SECOND_LAYER = ("sections",)


def layered_notice(details_opened: bool | None) -> dict[str, Any]:
    """Return the layers of the notice as shown now, to store with a decision made on its page.

    ``first_layer`` was on screen; ``one_click_away`` was in the same page, folded, opened on request.
    ``details_opened`` says whether the shopper unfolded it before deciding (None: not known, as
    when the page ran without JavaScript).
    """
    return {
        "layout": "layered",
        "first_layer": list(FIRST_LAYER),
        "one_click_away": list(SECOND_LAYER),
        "details_opened": details_opened,
    }


def notice_layers(record: ConsentRecord) -> dict[str, Any] | None:
    """Return how the explainer was laid out when the shopper made ``record`` on its page (None elsewhere).

    The layers stored with the decision; for a record from before they were stored, the layout
    the notice had at the record's time (``"inferred": true``).
    """
    if record.notice_layers is not None:
        return dict(record.notice_layers)
    if record.action != "grant" or record.source not in ("site", "widget"):
        return None
    at = record.created_at if record.created_at.tzinfo else record.created_at.replace(tzinfo=dt.UTC)
    if at < LAYERED_NOTICE_SINCE:
        return {
            "layout": "single",
            "first_layer": [*FIRST_LAYER, *SECOND_LAYER],
            "one_click_away": [],
            "inferred": True,
        }
    return {
        "layout": "layered",
        "first_layer": list(FIRST_LAYER),
        "one_click_away": list(SECOND_LAYER),
        "inferred": True,
    }


def receipt(merchant: Merchant, subject_id: str) -> dict[str, Any]:
    """Return the receipt of every consent decision of a subject, oldest first, as JSON-ready data.

    Each decision names the explainer version, its language and the SHA-256 of the exact text
    the shopper read, so the text can be proven later, and for decisions on the explainer page which
    of its layers were on screen; no personal data beyond the subject id.
    """
    decisions = [
        {
            "at": record.created_at.isoformat(),
            "action": record.action,
            "purposes": normalise(record.purposes),
            "explainer_version": record.explainer_version,
            "explainer_locale": record.locale,
            "text_sha256": record.text_sha256,
            "source": record.source,
            "origin": record.origin,
            "layers": notice_layers(record),
        }
        for record in history(merchant.id, subject_id)
    ]
    return {
        "receipt_version": RECEIPT_VERSION,
        "issued_at": utcnow().isoformat(),
        "controller": {"name": merchant.name, "slug": merchant.slug},
        "subject_id": subject_id,
        "in_force": decisions[-1]["purposes"] if decisions else {},
        "decisions": decisions,
    }
