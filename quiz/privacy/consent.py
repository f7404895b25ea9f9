"""Consent decisions: record them in the ledger and read the current state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..merchants import webhooks
from ..models import ConsentAction, ConsentRecord, Merchant, new_public_id
from ..platform.db import get_session
from .explainer import PURPOSES, Explainer, purpose_revisions


@dataclass(frozen=True)
class ConsentState:
    """The latest decision of a subject: which purposes are allowed now."""

    record_id: int
    subject_id: str
    purposes: Mapping[str, bool]
    explainer_version: str
    action: str = "grant"

    def allows(self, purpose: str) -> bool:
        """Return whether ``purpose`` is currently granted."""
        return bool(self.purposes.get(purpose))

    @property
    def ended(self) -> bool:
        """Whether every purpose is withdrawn (an erasure, or withdrawing everything).

        Nothing is stored about the subject any more but the ledger's proof of that, and no consent
        can be granted again under it: coming back means a new decision as a new subject.
        """
        return not any(self.purposes.values())

    @property
    def erased(self) -> bool:
        """Whether the latest decision is the erasure of the subject's data (recorded once)."""
        return self.action == "erase"


class ConsentEnded(Exception):
    """A consent change was asked for a subject whose data is erased and every consent withdrawn."""


def normalise(purposes: Mapping[str, bool]) -> dict[str, bool]:
    """Return a decision over every purpose, anything not granted counting as refused."""
    return {p: bool(purposes.get(p, False)) for p in PURPOSES}


def record_decision(
    merchant: Merchant,
    purposes: Mapping[str, bool],
    explainer: Explainer,
    *,
    source: str,
    subject_id: str | None = None,
    action: ConsentAction = "grant",
    origin: str | None = None,
    notice_layers: Mapping[str, Any] | None = None,
) -> ConsentRecord:
    """Append a decision to the ledger (a new subject when ``subject_id`` is None).

    The record keeps the version, language and SHA-256 of the explainer text the shopper read,
    for the widget the partner ``origin`` it was shown on, and for a decision on the notice's page
    which of its layers were shown (``receipts.layered_notice``).
    """
    record = ConsentRecord(
        merchant_id=merchant.id,
        subject_id=subject_id or new_public_id(),
        action=action,
        purposes=normalise(purposes),
        explainer_version=explainer.version,
        text_sha256=explainer.sha256,
        locale=explainer.locale,
        source=source,
        origin=origin,
        notice_layers=dict(notice_layers) if notice_layers is not None else None,
    )
    get_session().add(record)
    get_session().flush()
    webhooks.queue(
        merchant.id,
        "consent.changed",
        {
            "subject_id": record.subject_id,
            "action": record.action,
            "purposes": record.purposes,
            "explainer_version": record.explainer_version,
            "source": record.source,
            "origin": record.origin,
        },
    )
    return record


def current_state(merchant_id: int, subject_id: str) -> ConsentState | None:
    """Return the subject's latest decision, or None if they never made one."""
    record = get_session().scalar(
        sa.select(ConsentRecord)
        .where(ConsentRecord.merchant_id == merchant_id, ConsentRecord.subject_id == subject_id)
        .order_by(ConsentRecord.id.desc())
        .limit(1)
    )
    if record is None:
        return None
    return ConsentState(
        record.id, record.subject_id, normalise(record.purposes), record.explainer_version, record.action
    )


def history(merchant_id: int, subject_id: str) -> list[ConsentRecord]:
    """Return every decision of the subject, oldest first."""
    return list(
        get_session().scalars(
            sa.select(ConsentRecord)
            .where(ConsentRecord.merchant_id == merchant_id, ConsentRecord.subject_id == subject_id)
            .order_by(ConsentRecord.id)
        )
    )


def stale_purposes(merchant: Merchant, state: ConsentState) -> list[str]:
    """Return the purposes a shopper allowed whose text changed since they allowed them (to ask again)."""
    now = purpose_revisions(merchant)
    then = purpose_revisions(merchant, state.explainer_version)
    return [p for p in PURPOSES[1:] if state.allows(p) and now[p] != then.get(p)]
