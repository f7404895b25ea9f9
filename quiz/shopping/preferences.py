"""Turn validated quiz answers into the recommender's :class:`Preferences`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from recommender import Boost, Preferences, PriceRange, QueryPart, keywords

from ..quizzes.answers import is_visible
from ..quizzes.schema import Option, Question, Quiz

BOOST_WEIGHT = 0.04


def build_preferences(quiz: Quiz, answers: Mapping[str, Any], language: str = "") -> Preferences:
    """Return the preference query, filters and boosts expressed by ``answers``.

    ``language`` is the shopper's page language: the language their typed words are taken to be
    in when the words themselves do not say (it picks the model that reads them).
    """
    parts: list[QueryPart] = []
    words: list[str] = []
    typed: list[str] = []
    categories: set[str] = set()
    excluded: set[str] = set()
    boosts: list[Boost] = []
    budget: PriceRange | None = None
    bands: list[PriceRange] = []
    filters: dict[str, set[str]] = {}
    avoided: dict[str, set[str]] = {}
    allowed: dict[str, set[str]] = {}
    pinned: list[str] = []
    excluded_items: set[str] = set()
    for question in quiz.questions():
        value = answers.get(question.id)
        if value is None or not is_visible(question, answers):
            continue
        if question.role == "budget" and question.type == "range":
            budget = _budget(question, value)
        elif question.type == "text":
            if question.role in ("first_name", "email", "phone"):
                continue
            parts.append(QueryPart(value, question.query_weight, cacheable=False))
            words.extend(keywords(value))
            typed.append(value)
        else:
            question_bands: list[PriceRange] = []
            for option in _chosen_options(question, value):
                signals = option.signals
                if signals.get("any"):
                    continue
                _add_option_text(parts, question, option, len(_as_list(value)))
                categories.update(signals.get("categories") or ())
                excluded.update(signals.get("exclude_categories") or ())
                boosts.extend(_boosts(option))
                if signals.get("price"):
                    question_bands.append(PriceRange(*signals["price"]))
                for attribute, wanted in (signals.get("filters") or {}).items():
                    filters.setdefault(attribute, set()).update(v.lower() for v in _as_list(wanted))
                for attribute, unwanted in (signals.get("avoid") or {}).items():
                    avoided.setdefault(attribute, set()).update(v.lower() for v in _as_list(unwanted))
                for attribute, welcome in (signals.get("allow") or {}).items():
                    allowed.setdefault(attribute, set()).update(v.lower() for v in _as_list(welcome))
                pinned.extend(signals.get("pin") or ())
                excluded_items.update(signals.get("exclude") or ())
            if question_bands:
                bands.append(_widest(question_bands))
    return Preferences(
        parts=tuple(parts),
        budget=_narrowest(budget, bands),
        categories=frozenset(categories),
        excluded_categories=frozenset(excluded),
        boosts=tuple(boosts),
        keywords=tuple(dict.fromkeys(words)),
        attribute_filters=tuple((name, frozenset(values)) for name, values in filters.items()),
        pinned=tuple(pinned),
        excluded_items=frozenset(excluded_items),
        search_text=" ".join(t for t in typed if t.strip()),
        avoided=_avoided(avoided, allowed),
        language=language,
    )


def _avoided(avoided: dict[str, set[str]], allowed: dict[str, set[str]]) -> tuple[tuple[str, frozenset[str]], ...]:
    """Return the values set aside, less those another answer allows (a gift: the recipient's cut)."""
    kept = ((name, frozenset(values - allowed.get(name, set()))) for name, values in avoided.items())
    return tuple((name, values) for name, values in kept if values)


def _widest(bands: list[PriceRange]) -> PriceRange:
    """Return the range any of one question's picked price bands allows (picks widen, not narrow)."""
    low = None if any(b.low is None for b in bands) else min(b.low for b in bands if b.low is not None)
    high = None if any(b.high is None for b in bands) else max(b.high for b in bands if b.high is not None)
    return PriceRange(low, high)


def _narrowest(budget: PriceRange | None, bands: list[PriceRange]) -> PriceRange | None:
    """Return the range every price limit allows: the budget and each question's price band."""
    ranges = ([budget] if budget else []) + bands
    if not ranges:
        return None
    lows = [r.low for r in ranges if r.low is not None]
    highs = [r.high for r in ranges if r.high is not None]
    return PriceRange(max(lows) if lows else None, min(highs) if highs else None)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _chosen_options(question: Question, value: Any) -> list[Option]:
    if question.type == "boolean":
        return [Option("yes", question.label)] if value is True else []
    return [o for v in _as_list(value) if (o := question.option(str(v))) is not None]


def _add_option_text(parts: list[QueryPart], question: Question, option: Option, picked: int) -> None:
    """Add the option's query text; several picks share the question's weight.

    An option that filters by category adds no text of its own unless it names some: the
    filter already does its work, and its label would pull towards one corner of the category.
    """
    default = "" if option.signals.get("categories") else option.label
    text = option.signals.get("query", default)
    if text and question.query_weight > 0:
        parts.append(QueryPart(str(text), question.query_weight / max(picked, 1)))


def _boosts(option: Option) -> list[Boost]:
    reason = option.signals.get("reason", "")  # a LocalText keeps its translations for the page
    result = []
    for attribute, wanted in (option.signals.get("boost") or {}).items():
        for value in _as_list(wanted):
            result.append(Boost(str(attribute), str(value), BOOST_WEIGHT, reason))
    return result


def _budget(question: Question, value: list[float]) -> PriceRange | None:
    """Return the budget, leaving an end open where the shopper kept the slider's limit."""
    low = value[0] if question.min is None or value[0] > question.min else None
    high = value[1] if question.max is None or value[1] < question.max else None
    return None if low is None and high is None else PriceRange(low, high)
