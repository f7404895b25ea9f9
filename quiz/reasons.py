"""Word the recommender's reasons in the shopper's language."""

from __future__ import annotations

from flask_babel import format_decimal, gettext

from recommender import PriceRange, Reason

from .i18n import current_locale
from .local_text import localize

# Prices in these currencies need no unit after them in a reason: the page shows it beside the price.
UNMARKED_CURRENCIES = ("", "USD")


def phrase(reason: Reason) -> str:
    """Return ``reason`` as the short text shown under a recommendation, in the request's language."""
    kind = reason.kind
    if kind == "words":
        return gettext("matches: %(words)s", words=", ".join(reason.words))
    if kind == "boost":
        return localize(reason.text, current_locale())
    if kind == "category":
        return gettext("in %(category)s, a category you picked", category=reason.category)
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
        return gettext("from %(category)s, outside the categories you picked", category=reason.category)
    if kind == "other_category":
        return gettext("from another category, outside the categories you picked")
    return gettext("a good fit for your answers")


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
