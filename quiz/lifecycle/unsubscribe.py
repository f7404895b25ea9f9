"""One-click unsubscribe (RFC 8058): a signed link per shopper that withdraws `email` consent."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from ..models import Merchant
from ..platform.db import get_session
from ..privacy.consent import ConsentEnded, current_state
from ..privacy.explainer import merchant_explainer
from ..privacy.profiles import change_consents

SALT = "attune.unsubscribe.v1"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def token_for(merchant: Merchant, subject_id: str) -> str:
    """Return the token of a shopper's unsubscribe link (it never expires: the link must keep working)."""
    return str(_serializer().dumps([merchant.id, subject_id]))


def read(token: str) -> tuple[Merchant, str] | None:
    """Return the merchant and subject a token names, or None when it is forged."""
    try:
        merchant_id, subject_id = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    merchant = get_session().get(Merchant, merchant_id)
    return (merchant, str(subject_id)) if merchant is not None else None


def withdraw_email(merchant: Merchant, subject_id: str) -> bool:
    """Withdraw the shopper's `email` consent (recorded in the ledger); return whether anything changed.

    Call inside a transaction. Already withdrawn or erased: nothing is recorded.
    """
    state = current_state(merchant.id, subject_id)
    if state is None or state.ended or not state.allows("email"):
        return False
    try:
        change_consents(merchant, subject_id, {"email": False}, merchant_explainer(merchant), source="unsubscribe")
    except ConsentEnded:
        return False
    return True
