"""The shopper's own data: export, erase, change or withdraw consent."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from .. import limits, profiles
from ..db import get_session, transaction
from ..explainer import merchant_explainer
from ..models import Merchant
from . import bp
from .auth import current_subject, subject_required
from .parsing import json_body
from .schemas import consent_patch_in


def _merchant() -> Merchant:
    subject, _ = current_subject()
    merchant = get_session().get(Merchant, subject.merchant_id)
    assert merchant is not None  # merchants are never deleted while tokens circulate
    return merchant


@bp.get("/me")
@subject_required
def get_me() -> ResponseReturnValue:
    """Return everything stored about the token's subject."""
    subject, _ = current_subject()
    return jsonify(profiles.export(_merchant(), subject.subject_id))


@bp.delete("/me")
@subject_required
def delete_me() -> ResponseReturnValue:
    """Erase the subject's profile and withdraw every consent."""
    subject, _ = current_subject()
    merchant = _merchant()
    with transaction():
        profiles.erase(merchant, subject.subject_id, merchant_explainer(merchant), source="api")
    return "", 204


@bp.patch("/me/consents")
@limits.consent_change
@subject_required
def patch_consents() -> ResponseReturnValue:
    """Change or withdraw purposes; withdrawing `profile` deletes the stored profile."""
    subject, _ = current_subject()
    merchant = _merchant()
    data = consent_patch_in.load(json_body())
    with transaction():
        state = profiles.change_consents(
            merchant,
            subject.subject_id,
            data["purposes"],
            merchant_explainer(merchant),
            source="api",
        )
    return jsonify({"purposes": dict(state.purposes)})
