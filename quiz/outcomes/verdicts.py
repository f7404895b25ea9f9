"""An A/B test's result in the words a shop owner reads: who is ahead, and whether it could be chance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Shoppers per variant that find a 10-point change from 30% (docs/outcomes.md).
ENOUGH_PER_VARIANT = 400
METRIC_NAMES = {
    "completion": "finished the quiz",
    "conversion": "ordered after the quiz",
    "revenue_per_visitor": "revenue per shopper shown the quiz",
}


@dataclass(frozen=True)
class Verdict:
    """A headline, what it rests on, and the variant to choose (None: no clear winner yet)."""

    headline: str
    detail: str
    leader: str | None
    significant: bool


def shown(metric: str, value: float) -> str:
    """Return a rate as a percentage, or revenue per visitor as an amount."""
    return f"{value:,.2f}" if metric == "revenue_per_visitor" else f"{value * 100:.1f}%"


def verdict(results: dict[str, Any]) -> Verdict:
    """Return the verdict of an experiment's ``results`` (as :func:`experiments.results` gives them)."""
    rows = results["variants"]
    metric = results["metric"]
    control = rows[0]
    exposed = sum(r["exposures"] for r in rows)
    if not exposed:
        starting = "Start the test: " if results["status"] == "draft" else ""
        return Verdict("No shoppers yet", f"{starting}results appear as shoppers take the quiz.", None, False)
    fewest = min(r["exposures"] for r in rows)
    winners = [r for r in rows[1:] if r["significant"]]
    if winners:
        better = [r for r in winners if r["difference"] > 0]
        if better:
            best = max(better, key=lambda r: r["difference"])
            return Verdict(
                f"{best['name']} does better than {control['name']}",
                f"{shown(metric, best['rate']['value'])} against {shown(metric, control['rate']['value'])} "
                f"({METRIC_NAMES[metric]}); a difference this size is unlikely to be chance "
                f"(p = {best['p_value']:.4f}).",
                best["name"],
                True,
            )
        return Verdict(
            f"{control['name']} does better",
            f"Every other variant that differs does worse on {METRIC_NAMES[metric]}; keep {control['name']}.",
            control["name"],
            True,
        )
    ahead = max(rows, key=lambda r: r["rate"]["value"])
    more = (
        f" Wait for about {ENOUGH_PER_VARIANT} shoppers per variant (the smallest has {fewest})."
        if fewest < ENOUGH_PER_VARIANT
        else ""
    )
    return Verdict(
        "No clear difference yet",
        f"{ahead['name']} is ahead on {METRIC_NAMES[metric]}, but the difference could be chance.{more}",
        None,
        False,
    )
