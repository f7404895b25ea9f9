"""The shopper's own data: export, erase, change or withdraw consent."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from ..models import Merchant
from ..platform import limits
from ..platform.db import get_session, transaction
from ..platform.errors import ApiError
from ..privacy import profiles
from ..privacy.consent import ConsentEnded
from ..privacy.explainer import merchant_explainer
from . import bp
from .auth import current_subject, subject_required
from .documented import documented
from .openapi_schemas import OBJECT, PURPOSES
from .parsing import json_body
from .schemas import ConsentPatchIn, consent_patch_in

ERASED = (
    "This subject's data was erased and every consent withdrawn: its token can no longer grant consent. "
    "Start afresh with POST /api/v1/m/{slug}/consents."
)


def _merchant() -> Merchant:
    subject, _ = current_subject()
    merchant = get_session().get(Merchant, subject.merchant_id)
    assert merchant is not None  # merchants are never deleted while tokens circulate
    return merchant


@bp.get("/me")
@documented("Everything stored about the token's subject", auth="subject", response=OBJECT)
@subject_required
def get_me() -> ResponseReturnValue:
    """Return everything stored about the token's subject."""
    subject, _ = current_subject()
    return jsonify(profiles.export(_merchant(), subject.subject_id))


@bp.delete("/me")
@documented("Erase the profile and withdraw every consent", auth="subject", status=204)
@subject_required
def delete_me() -> ResponseReturnValue:
    """Erase the subject's profile and withdraw every consent."""
    subject, _ = current_subject()
    merchant = _merchant()
    with transaction():
        profiles.erase(merchant, subject.subject_id, merchant_explainer(merchant), source="api")
    return "", 204


@bp.patch("/me/consents")
@documented("Change or withdraw purposes", auth="subject", body=ConsentPatchIn, response=PURPOSES, limited=True)
@limits.consent_change
@subject_required
def patch_consents() -> ResponseReturnValue:
    """Change or withdraw purposes; withdrawing `profile` deletes the stored profile.

    Refused with 410 once the subject's data is erased (every consent withdrawn): that token
    grants nothing again; a shopper who comes back decides afresh, as a new subject.
    """
    subject, _ = current_subject()
    merchant = _merchant()
    data = consent_patch_in.load(json_body())
    try:
        with transaction():
            state = profiles.change_consents(
                merchant, subject.subject_id, data["purposes"], merchant_explainer(merchant), source="api"
            )
    except ConsentEnded as exc:
        raise ApiError(410, ERASED.format(slug=merchant.slug)) from exc
    return jsonify({"purposes": dict(state.purposes)})
