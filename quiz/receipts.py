"""Consent receipts: what a shopper agreed to, when, and on which exact text."""

from __future__ import annotations

from typing import Any

from .consent import history, normalise
from .models import Merchant, utcnow

RECEIPT_VERSION = 1


def receipt(merchant: Merchant, subject_id: str) -> dict[str, Any]:
    """Return the receipt of every consent decision of a subject, oldest first, as JSON-ready data.

    Each decision names the explainer version, its language and the SHA-256 of the exact text
    the shopper read, so the text can be proven later; no personal data beyond the subject id.
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
