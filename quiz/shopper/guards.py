"""The consent guard of the shopper's quiz pages, as flaskr's ``login_required``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import g, redirect, url_for
from flask_babel import gettext

from .. import merchants
from ..models import Merchant
from ..privacy.consent import ConsentState
from ..shopping.flow import consent_for_token
from .channel import notify
from .state import QuizProgress, load_progress

F = TypeVar("F", bound=Callable[..., Any])


def consented(view: F) -> F:
    """Serve ``view`` (a page under ``<slug>``) only to a shopper who allowed recommendations at that shop.

    Puts ``g.merchant``, ``g.progress`` and ``g.consent`` in place; anyone else is sent to the
    explainer to make a choice first.
    """

    @functools.wraps(view)
    def wrapped(slug: str, **kwargs: Any) -> Any:
        merchant = merchants.get_or_404(slug)
        allowed = _consent(merchant)
        if allowed is None:
            notify(gettext("Please make a choice about your data first."))
            return redirect(url_for(".explainer", slug=slug))
        g.merchant = merchant
        g.progress, g.consent = allowed
        return view(slug, **kwargs)

    return cast(F, wrapped)


def _consent(merchant: Merchant) -> tuple[QuizProgress, ConsentState] | None:
    """Return the shopper's progress and consent when they may take this merchant's quiz."""
    progress = load_progress(merchant.slug)
    found = consent_for_token(progress.token if progress else None)
    if progress is None or found is None:
        return None
    subject, state = found
    if subject.merchant_id != merchant.id or not state.allows("recommendations"):
        return None
    return progress, state
