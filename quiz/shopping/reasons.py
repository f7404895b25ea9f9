"""Word the recommender's reasons in the shopper's language."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from flask_babel import format_decimal, gettext

from recommender import PriceRange, Reason

from ..platform.i18n import current_locale
from ..quizzes.local_text import localize
from ..quizzes.schema import Quiz

# Reasons that pitch a product as a new find ("close to what you described"): never said of one
# the shopper already bought. Kinds not listed in phrase() are worded "a good fit for your answers".
PITCHING_KINDS = ("close",)
WORDED_KINDS = (
    "words",
    "boost",
    "category",
    "budget",
    "pinned",
    "close",
    "over_budget",
    "outside_budget",
    "other_category",
    "avoided",
)

# Prices in these currencies need no unit after them in a reason: the page shows it beside the price.
UNMARKED_CURRENCIES = ("", "USD")


def category_names(quiz: Quiz, locale: str) -> dict[str, str]:
    """Return, per catalog category, the name the quiz gives it in ``locale`` ("Outerwear": "Jackets and outerwear").

    The merchant's own wording and translations; a category no option names keeps its catalog name.
    """
    names: dict[str, str] = {}
    for question in quiz.questions():
        for option in question.options:
            for category in option.signals.get("categories") or ():
                names.setdefault(str(category), localize(option.label, locale))
    return names


def phrase(reason: Reason, names: Mapping[str, str] | None = None) -> str:
    """Return ``reason`` as the short text shown under a recommendation, in the request's language.

    ``names`` words categories as the quiz does (see :func:`category_names`); a category it lacks is
    shown by its catalog name, as a name after a colon rather than a word inside the sentence.
    """
    kind = reason.kind
    category = (names or {}).get(reason.category, reason.category)
    if kind == "words":
        return gettext("matches: %(words)s", words=", ".join(reason.words))
    if kind == "boost":
        return localize(reason.text, current_locale())
    if kind == "category":
        return gettext("a category you picked: %(category)s", category=category)
    if kind == "budget" and reason.budget is not None:
        return budget_phrase(reason.budget, reason.currency)
    if kind == "pinned":
        return gettext("picked by the shop for your answers")
    if kind == "close":
        return gettext("close to what you described")
    if kind == "over_budget":
        return gettext("a little over your budget")
    if kind == "outside_budget":
        return gettext("outside your budget")
    if kind == "other_category" and reason.category:
        return gettext("outside the categories you picked: %(category)s", category=category)
    if kind == "avoided":
        return gettext("not the cut you chose")
    if kind == "other_category":
        return gettext("from another category, outside the categories you picked")
    return gettext("a good fit for your answers")


def owned_phrases(reasons: Sequence[Reason], names: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Return the reasons of a product the shopper already bought: said first, and nothing that
    pitches it as a new find (the shopper owns it; they may want it again, not discover it)."""
    kept = [r for r in reasons if r.kind in WORDED_KINDS and r.kind not in PITCHING_KINDS]
    return (gettext("you bought this before"), *(phrase(r, names) for r in kept))


def budget_phrase(budget: PriceRange, currency: str) -> str:
    """Return a budget reason as a shopper would say it: "within your 50-100 budget"."""
    unit = "" if currency in UNMARKED_CURRENCIES else f" {currency}"
    low = format_decimal(budget.low or 0)
    if budget.low and budget.high is not None:
        high = format_decimal(budget.high)
        return gettext("within your %(low)s-%(high)s%(unit)s budget", low=low, high=high, unit=unit)
    if budget.high is not None:
        return gettext("under your %(high)s%(unit)s budget", high=format_decimal(budget.high), unit=unit)
    return gettext("within your %(low)s+%(unit)s budget", low=low, unit=unit)
