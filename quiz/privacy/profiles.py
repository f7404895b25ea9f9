"""Stored profiles: save with consent, export everything, erase on request."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import sqlalchemy as sa
from flask import current_app

from ..models import ConsentAction, ConsentRecord, Exposure, IntentShift, Merchant, Profile, utcnow
from ..platform.db import get_session
from . import experiment_data, outcome_data, quiz_sessions
from .consent import ConsentEnded, ConsentState, current_state, history, normalise, record_decision
from .explainer import Explainer

DAYS_PER_MONTH = 30.44
# A returning shopper's new answers count this much against the stored preferences.
NEW_ANSWERS_WEIGHT = 0.7
logger = logging.getLogger(__name__)


def get_profile(merchant_id: int, subject_id: str) -> Profile | None:
    """Return the subject's stored profile, if they have one."""
    return get_session().scalar(
        sa.select(Profile).where(Profile.merchant_id == merchant_id, Profile.subject_id == subject_id)
    )


def save_response(
    merchant: Merchant,
    consent: ConsentState,
    quiz_version: int,
    answers: Mapping[str, Any],
    vector: np.ndarray | None,
    *,
    first_name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    hidden_fields: Mapping[str, str] | None = None,
) -> Profile | None:
    """Store or refresh the subject's profile when `profile` is granted; otherwise store nothing."""
    if not consent.allows("profile"):
        return None
    now = utcnow()
    profile = get_profile(merchant.id, consent.subject_id)
    if profile is None:
        profile = Profile(merchant_id=merchant.id, subject_id=consent.subject_id, created_at=now)
        get_session().add(profile)
    profile.answers = dict(answers)
    profile.quiz_version = quiz_version
    profile.first_name = first_name or None
    if hidden_fields:
        profile.hidden_fields = {**(profile.hidden_fields or {}), **hidden_fields}
    # Data minimisation: an address is kept only for a channel it may be used for.
    address = email if email and consent.allows("email") else None
    if address != profile.email:
        profile.email_confirmed_at = None  # a new address is confirmed again (double opt-in)
        profile.email_confirm_nonce = None
    profile.email = address
    profile.phone = phone_number(phone) if phone and consent.allows("sms") else None
    profile.preference_embedding = _updated_embedding(profile, vector)
    profile.consent_record_id = consent.record_id
    profile.last_seen_at = now
    profile.expires_at = now + dt.timedelta(days=DAYS_PER_MONTH * merchant.retention_months)
    get_session().flush()
    return profile


def live_with_consent(merchant: Merchant) -> sa.Select[tuple[Profile, ConsentRecord]]:
    """Return a query of the merchant's unexpired profiles, each with its subject's decision in force.

    Expired profiles are left out even before the purge deletes them; callers choose the order.
    """
    newest = (
        sa.select(ConsentRecord.subject_id, sa.func.max(ConsentRecord.id).label("id"))
        .where(ConsentRecord.merchant_id == merchant.id)
        .group_by(ConsentRecord.subject_id)
        .subquery()
    )
    return (
        sa.select(Profile, ConsentRecord)
        .join(newest, newest.c.subject_id == Profile.subject_id)
        .join(ConsentRecord, ConsentRecord.id == newest.c.id)
        .where(Profile.merchant_id == merchant.id, Profile.expires_at > utcnow())
    )


def phone_number(text: str) -> str:
    """Return a phone number as campaign tools import it: "+34 600-123 456" -> "+34600123456"."""
    digits = re.sub(r"\D", "", text)
    return "+" + digits if text.strip().startswith("+") else digits


def get_by_id(merchant: Merchant, profile_id: str) -> Profile | None:
    """Return one of the merchant's profiles (None for another merchant's)."""
    return get_session().scalar(sa.select(Profile).where(Profile.id == profile_id, Profile.merchant_id == merchant.id))


def page(merchant: Merchant, limit: int, offset: int) -> tuple[list[Profile], int]:
    """Return one page of the merchant's profiles, most recently seen first, and their count."""
    session = get_session()
    scope = Profile.merchant_id == merchant.id
    total = session.scalar(sa.select(sa.func.count()).select_from(Profile).where(scope)) or 0
    rows = session.scalars(
        sa.select(Profile).where(scope).order_by(Profile.last_seen_at.desc()).limit(limit).offset(offset)
    )
    return list(rows), total


def search_text(profile: Profile) -> str:
    """Return what a search of the profile browser looks through, lower-cased: name, email, answers."""
    values = [profile.first_name or "", profile.email or "", profile.id]
    for answer in (profile.answers or {}).values():
        values.extend(str(v) for v in (answer if isinstance(answer, list) else [answer]))
    return " ".join(values).lower()


def summary(profile: Profile, detail: bool = False) -> dict[str, Any]:
    """Return what a merchant sees of a profile (the embedding only in detail)."""
    data = _profile_data(profile)
    state = current_state(profile.merchant_id, profile.subject_id)
    data["consents"] = dict(state.purposes) if state else {}
    if not detail:
        data.pop("preference_embedding")
    return data


def _updated_embedding(profile: Profile, vector: np.ndarray | None) -> bytes | None:
    """Return the profile's new preference vector, recording an intent shift when it turned around.

    New answers weigh more than old ones (NEW_ANSWERS_WEIGHT); when they point somewhere else
    entirely (cosine below INTENT_SHIFT_THRESHOLD) they replace the old ones at once.
    """
    if vector is None:
        return profile.preference_embedding
    new = vector.astype(np.float32)
    if profile.preference_embedding is None or profile.id is None:
        return new.tobytes()
    old = np.frombuffer(profile.preference_embedding, dtype=np.float32)
    if old.shape != new.shape:  # stored with another embedding model: start afresh
        return new.tobytes()
    similarity = float(old @ new)
    if similarity < current_app.config["INTENT_SHIFT_THRESHOLD"]:
        get_session().add(IntentShift(merchant_id=profile.merchant_id, profile_id=profile.id, similarity=similarity))
        return new.tobytes()
    blended = NEW_ANSWERS_WEIGHT * new + (1 - NEW_ANSWERS_WEIGHT) * old
    return (blended / np.linalg.norm(blended)).astype(np.float32).tobytes()


def intent_shifts(profile: Profile) -> list[dict[str, Any]]:
    """Return the profile's intent shifts, oldest first."""
    rows = get_session().scalars(
        sa.select(IntentShift).where(IntentShift.profile_id == profile.id).order_by(IntentShift.id)
    )
    return [{"similarity": round(r.similarity, 3), "at": r.created_at.isoformat()} for r in rows]


def export(merchant: Merchant, subject_id: str) -> dict[str, Any]:
    """Return everything stored about the subject, as plain JSON-ready data.

    With a profile come its events in the shop, the orders linked to it and the journey messages
    decided about it (sent or not, and why); with or without one, the A/B tests it took part in.
    """
    profile = get_profile(merchant.id, subject_id)
    state = current_state(merchant.id, subject_id)
    return {
        "subject_id": subject_id,
        "merchant": {"slug": merchant.slug, "name": merchant.name},
        "consents": dict(state.purposes) if state else {},
        "consent_history": [
            {
                "action": r.action,
                "purposes": r.purposes,
                "explainer_version": r.explainer_version,
                "text_sha256": r.text_sha256,
                "source": r.source,
                "origin": r.origin,
                "locale": r.locale,
                "at": r.created_at.isoformat(),
            }
            for r in history(merchant.id, subject_id)
        ],
        "profile": None if profile is None else _profile_data(profile),
        "saved_quiz": quiz_sessions.saved_answers(merchant.id, subject_id),
        "events": [] if profile is None else outcome_data.profile_events(profile.id),
        "orders": [] if profile is None else outcome_data.profile_orders(profile.id),
        "messages": [] if profile is None else outcome_data.profile_messages(profile.id),
        "experiments": experiment_data.subject_exposures(merchant.id, subject_id),
    }


def _profile_data(profile: Profile) -> dict[str, Any]:
    embedding = profile.preference_embedding
    return {
        "id": profile.id,
        "first_name": profile.first_name,
        "email": profile.email,
        "email_confirmed_at": profile.email_confirmed_at.isoformat() if profile.email_confirmed_at else None,
        "phone": profile.phone,
        "answers": profile.answers,
        "hidden_fields": profile.hidden_fields or {},
        "quiz_version": profile.quiz_version,
        "preference_embedding": None
        if embedding is None
        else [round(float(x), 6) for x in np.frombuffer(embedding, dtype=np.float32)],
        "created_at": profile.created_at.isoformat(),
        "last_seen_at": profile.last_seen_at.isoformat(),
        "expires_at": profile.expires_at.isoformat(),
        "intent_shifts": intent_shifts(profile),
    }


def change_consents(
    merchant: Merchant,
    subject_id: str,
    purposes: Mapping[str, bool],
    explainer: Explainer,
    *,
    source: str,
    action: ConsentAction = "change",
    origin: str | None = None,
    notice_layers: Mapping[str, Any] | None = None,
) -> ConsentState:
    """Record a change of mind; withdrawing `profile` deletes the stored profile at once.

    ``notice_layers``: which layers of the notice were shown, for a decision made on its page.

    ``action`` is "grant" for a whole new decision on the explainer (a returning shopper's own).
    Raises :class:`ConsentEnded` once the subject's data is erased: nothing is granted again under it.
    """
    state = current_state(merchant.id, subject_id)
    if state is not None and state.ended:
        raise ConsentEnded(subject_id)
    merged = normalise({**(state.purposes if state else {}), **purposes})
    action = "withdraw" if not any(merged.values()) else action
    record = record_decision(
        merchant,
        merged,
        explainer,
        source=source,
        subject_id=subject_id,
        action=action,
        origin=origin,
        notice_layers=notice_layers,
    )
    if not merged["profile"]:
        _delete_profile(merchant.id, subject_id)
    if not merged["recommendations"]:
        quiz_sessions.forget(merchant.id, subject_id)
    profile = get_profile(merchant.id, subject_id)
    if profile is not None and not merged["email"]:
        profile.email, profile.email_confirmed_at, profile.email_confirm_nonce = None, None, None
    if profile is not None and not merged["sms"]:
        profile.phone = None  # kept only with sms consent
    get_session().flush()
    return ConsentState(record.id, subject_id, merged, record.explainer_version, record.action)


def erase(merchant: Merchant, subject_id: str, explainer: Explainer, *, source: str) -> bool:
    """Delete the subject's profile and saved quiz and withdraw every purpose; the ledger keeps that proof.

    Their A/B test exposures become anonymous counts first (``experiment_data``: what they bought
    is read through the profile), so a test's results keep their totals without their subject id.
    The ledger records the erasure as its own ``erase`` event, once: erasing again (a form posted
    twice, an API call repeated) deletes nothing more and records nothing. Returns whether it was recorded.
    """
    experiment_data.forget_exposures(merchant.id, subject_id)
    _delete_profile(merchant.id, subject_id)
    quiz_sessions.forget(merchant.id, subject_id)
    state = current_state(merchant.id, subject_id)
    if state is not None and state.erased:
        return False
    record_decision(merchant, {}, explainer, source=source, subject_id=subject_id, action="erase")
    return True


def _delete_profile(merchant_id: int, subject_id: str) -> None:
    """Delete the profile with its events; its orders are unlinked (the merchant keeps their totals).

    What the shopper bought after an A/B exposure stays in the test's anonymous counts.
    """
    experiment_data.keep_conversions(Exposure.merchant_id == merchant_id, Exposure.subject_id == subject_id)
    outcome_data.forget_profiles(
        outcome_data.profile_ids(Profile.merchant_id == merchant_id, Profile.subject_id == subject_id)
    )
    get_session().execute(
        sa.delete(Profile).where(Profile.merchant_id == merchant_id, Profile.subject_id == subject_id)
    )


def purge_expired(now: dt.datetime | None = None) -> int:
    """Delete every profile past its retention date; return how many (the ledger keeps no PII).

    Their events go with them and their orders are unlinked; events and order links older than
    the retention period of profiles seen since go too.
    """
    expired = Profile.expires_at < (now or utcnow())
    experiment_data.keep_conversions(
        sa.tuple_(Exposure.merchant_id, Exposure.subject_id).in_(
            sa.select(Profile.merchant_id, Profile.subject_id).where(expired)
        )
    )
    outcome_data.forget_profiles(outcome_data.profile_ids(expired))
    outcome_data.purge_old(now)
    result = get_session().execute(sa.delete(Profile).where(expired))
    count = int(getattr(result, "rowcount", 0) or 0)
    logger.info("retention: %d expired profiles deleted", count)
    return count
