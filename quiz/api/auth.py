"""Bearer subject tokens for the shopper API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g

from ..merchants import api_keys
from ..models import Merchant
from ..platform.bearer import bearer_token
from ..platform.errors import ApiError
from ..privacy.consent import ConsentState
from ..shopping.flow import consent_for_token
from ..shopping.subjects import Subject

F = TypeVar("F", bound=Callable[..., Any])


def subject_required(view: F) -> F:
    """Require a valid subject token; puts ``g.subject`` and ``g.consent`` in place."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        token = bearer_token()
        if token is None:
            raise ApiError(401, "Send the subject token from POST /consents as 'Authorization: Bearer TOKEN'.")
        found = consent_for_token(token)
        if found is None:
            raise ApiError(401, "The subject token is not valid.")
        g.subject, g.consent = found
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def current_subject() -> tuple[Subject, ConsentState]:
    """Return the subject and consent state set by :func:`subject_required`."""
    return g.subject, g.consent


def merchant_required(view: F) -> F:
    """Require a merchant API key; puts the key's merchant in ``g.merchant``."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        key = bearer_token()
        if key is None:
            raise ApiError(401, "Send your API key as 'Authorization: Bearer API_KEY'.")
        merchant = api_keys.merchant_for(key)
        if merchant is None:
            raise ApiError(401, "The API key is not valid or was revoked.")
        g.merchant = merchant
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def current_merchant() -> Merchant:
    """Return the merchant set by :func:`merchant_required`."""
    merchant: Merchant = g.merchant
    return merchant
