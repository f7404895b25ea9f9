"""A demo A/B test run to a result with simulated shoppers (``flask demo ab-test``).

Each simulated shopper goes through the real parts a shopper's visit does: a consent decision
(a new subject), assignment to a variant by the experiment's hash, the exposure recorded when
its quiz is shown, and, with the variant's known chance, finishing the quiz. The ranking itself
is not run: the effect is what the simulation puts in, so the statistics can be seen finding it.

Each variant draws its shoppers' chances from its own copy of one seeded stream (common random
numbers): the n-th shopper of A and of B see the same draw, so a run differs between variants
only by the effect put in, and the same seed tells the same story whichever subjects the
experiment's hash happens to send where. With no lift there is no difference to find.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from ..marketing import funnel
from ..models import Merchant
from ..outcomes import experiments, verdicts
from ..platform.db import transaction
from ..privacy.consent import record_decision
from ..privacy.explainer import merchant_explainer

CONTROL_RATE = 0.30
LIFT = 0.12


class DemoTestRefused(RuntimeError):
    """The demo test cannot run now (another test is running in the shop)."""


@dataclass(frozen=True)
class DemoRun:
    """The test that ran, its results (as the API gives them) and the verdict."""

    experiment_id: str
    results: dict[str, Any]
    verdict: verdicts.Verdict


def run_demo_test(
    merchant: Merchant,
    shoppers: int = 800,
    control_rate: float = CONTROL_RATE,
    lift: float = LIFT,
    seed: int = 7,
    choose_winner: bool = False,
) -> DemoRun:
    """Run a completion test of the live ranking (A) against no category prior (B) on ``shoppers``.

    B's shoppers finish with ``control_rate + lift``, A's with ``control_rate``; with the winner
    chosen, the leader's ranking settings become the shop's.

    Raises:
        DemoTestRefused: another experiment is running.
    """
    other = experiments.running(merchant)
    if other is not None:
        raise DemoTestRefused(f"the test {other.name!r} is running: stop it first")
    variants = [
        {"name": "A", "weight": 1, "settings": {}},
        {"name": "B", "weight": 1, "settings": {"category_prior": False}},
    ]
    with transaction():
        experiment = experiments.create(
            merchant, {"name": "Demo: category prior off", "metric": "completion", "variants": variants}
        )
        experiments.start(merchant, experiment)
    chances = {"A": control_rate, "B": control_rate + lift}
    draws = {name: random.Random(seed) for name in chances}
    explainer = merchant_explainer(merchant, "en")
    for _ in range(shoppers):
        with transaction():
            subject = record_decision(merchant, {"recommendations": True}, explainer, source="api").subject_id
        variant = experiments.variant_for(merchant, subject, expose=True)
        version = experiments.version_for(merchant, subject)
        events = funnel.run_events("start", "api", version)
        if draws[variant.name].random() < chances[variant.name]:
            with transaction():
                experiments.note_completed(merchant, subject)
            events += funnel.run_events("complete", "api", version)
        funnel.count(merchant.id, events)
    results = experiments.results(experiment)
    verdict = verdicts.verdict(results)
    if choose_winner and verdict.leader is not None:
        with transaction():
            experiments.declare_winner(merchant, experiment, verdict.leader)
        results = experiments.results(experiment)
    return DemoRun(experiment.id, results, verdict)
