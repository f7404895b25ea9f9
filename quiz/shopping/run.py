"""The end of a shopper's run, once for every channel: the site's pages, the widget and the JSON API.

:func:`finish` cleans the answers once, embeds them once, keeps the profile when the shopper
allowed it, and returns the recommended items, the preference vector and the profile's id. The
pages show the items on the results page after a redirect; :func:`picks` and :func:`shown`
carry them there in the shopper's progress, so that page neither validates nor embeds again;
:func:`search_again` serves the searches a shopper asks for after that.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from recommender import PriceRange, Reason

from ..catalog.engine import recommender_for
from ..models import Merchant
from ..outcomes import experiments
from ..outcomes.bought import hidden_products
from ..platform.db import transaction
from ..platform.i18n import current_locale
from ..privacy import quiz_sessions
from ..privacy.consent import ConsentState
from ..privacy.contact_questions import without_unasked
from ..quizzes.answers import clean_answers
from ..quizzes.local_text import LocalText
from ..quizzes.schema import Quiz
from .reasons import category_names, owned_phrases, phrase
from .recommendations import RecommendationResult, RecommendedItem, recommend
from .responses import below_consent_age, keep_profile


@dataclass(frozen=True)
class FinishedRun:
    """What a finished quiz produced: the items, the vector they came from, the kept profile's id."""

    items: list[RecommendedItem]
    vector: np.ndarray | None
    profile_id: str | None
    answers: dict[str, Any]  # the cleaned answers
    took_ms: float

    @property
    def result(self) -> RecommendationResult:
        """Return the items as a recommendation result (what the results page and the widget read)."""
        return RecommendationResult(self.items, self.vector, self.took_ms)


def finish(
    merchant: Merchant,
    consent: ConsentState,
    quiz: Quiz,
    answers: Mapping[str, Any],
    limit: int,
    *,
    hidden_fields: Mapping[str, str] | None = None,
    email: str | None = None,
    first_name: str | None = None,
) -> FinishedRun:
    """Finish a quiz: clean ``answers`` (complete), recommend, and keep the profile if consent allows.

    Answers to contact questions the shopper's consent does not cover are dropped, as the pages
    never ask them. Raises ``AnswerError`` (a 422) when an answer is missing or invalid; nothing
    is stored then. Products the shopper bought are left out. ``hidden_fields`` are what a
    partner's widget passed through; ``email`` and ``first_name`` are given beside the answers by
    API clients.
    """
    asked = without_unasked(quiz, dict(answers), consent, below_consent_age(quiz, answers))
    cleaned = clean_answers(quiz, asked, complete=True)
    bought = hidden_products(merchant, subject_id=consent.subject_id)
    result = recommend(merchant, quiz, cleaned, limit, exclude=bought, subject_id=consent.subject_id)
    profile_id = keep_profile(
        merchant, consent, quiz, cleaned, result.vector, hidden_fields=hidden_fields, email=email, first_name=first_name
    )
    with transaction():
        quiz_sessions.forget(merchant.id, consent.subject_id)  # a quiz saved for later is now done
        experiments.note_completed(merchant, consent.subject_id)
    return FinishedRun(result.items, result.vector, profile_id, cleaned, result.took_ms)


def search_again(
    merchant: Merchant,
    consent: ConsentState,
    quiz: Quiz,
    answers: Mapping[str, Any],
    limit: int,
    *,
    seen: Collection[str] = (),
) -> RecommendationResult:
    """Recommend for a finished quiz's stored ``answers`` again, leaving out what was bought and ``seen``.

    For "show me something different", a resumed quiz, and picks made for another quiz version or
    catalog; nothing is stored. Raises ``AnswerError`` when an answer is now missing or invalid.
    """
    cleaned = clean_answers(quiz, answers, complete=True)
    exclude = [*hidden_products(merchant, subject_id=consent.subject_id), *seen]
    return recommend(merchant, quiz, cleaned, limit, exclude=exclude, subject_id=consent.subject_id)


def picks(quiz: Quiz, items: Sequence[RecommendedItem]) -> dict[str, Any]:
    """Return ``items`` as plain data for the shopper's progress: ids, scores and reasons as data."""
    return {
        "quiz_version": quiz.version,
        "items": [
            [r.item.id, r.item.external_id, r.score, r.fallback, [_reason_data(x) for x in r.explained], r.owned]
            for r in items
        ],
    }


def shown(merchant: Merchant, quiz: Quiz, data: Any) -> RecommendationResult | None:
    """Return the items :func:`picks` kept, worded in the request's language.

    None when there are none, or they were picked for another quiz version or from a catalog that
    no longer holds one of them: the caller recommends afresh.
    """
    if not isinstance(data, dict) or data.get("quiz_version") != quiz.version or not data.get("items"):
        return None
    catalog = recommender_for(merchant).catalog
    names = category_names(quiz, current_locale())
    items: list[RecommendedItem] = []
    try:
        for item_id, external_id, score, fallback, reasons, owned in data["items"]:
            item = catalog.items.get(int(item_id))
            if item is None or item.external_id != external_id:  # the catalog changed meanwhile
                return None
            explained = tuple(_reason(x) for x in reasons)
            worded = owned_phrases(explained, names) if owned else tuple(phrase(x, names) for x in explained)
            items.append(RecommendedItem(item, float(score), worded, bool(fallback), explained, bool(owned)))
    except (TypeError, ValueError, KeyError):  # not what picks() wrote: recommend afresh
        return None
    return RecommendationResult(items, None, 0.0)


def _reason_data(reason: Reason) -> dict[str, Any]:
    """Return ``reason`` as a small dict (fields at their defaults left out)."""
    data: dict[str, Any] = {"kind": reason.kind}
    if reason.words:
        data["words"] = list(reason.words)
    if isinstance(reason.text, LocalText):  # the merchant's reason with its translations, not only its first language
        data["text"] = {"locale": reason.text.locale, "translations": dict(reason.text.translations)}
    elif reason.text:
        data["text"] = str(reason.text)
    if reason.category:
        data["category"] = reason.category
    if reason.budget is not None:
        data["budget"] = [reason.budget.low, reason.budget.high]
    if reason.currency:
        data["currency"] = reason.currency
    return data


def _reason(data: Mapping[str, Any]) -> Reason:
    """Return the reason :func:`_reason_data` wrote."""
    budget = data.get("budget")
    return Reason(
        kind=data["kind"],
        words=tuple(str(w) for w in data.get("words") or ()),
        text=_text(data.get("text", "")),
        category=str(data.get("category", "")),
        budget=PriceRange(budget[0], budget[1]) if budget else None,
        currency=str(data.get("currency", "")),
    )


def _text(data: Any) -> str:
    """Return a reason's text as :func:`_reason_data` wrote it (a :class:`LocalText` when it had translations)."""
    if isinstance(data, dict):
        return LocalText(data["translations"], data["locale"])
    return str(data)
