"""The A/B statistics on simulated shoppers with a known effect (fixed seeds, so the figures repeat)."""

from __future__ import annotations

import random

from quiz.outcomes import stats

RUNS = 2000


def _simulate(rng: random.Random, rate: float, n: int) -> int:
    return sum(rng.random() < rate for _ in range(n))


def test_a_real_ten_point_lift_at_2000_per_arm_is_detected() -> None:
    rng = random.Random(18)
    detected = 0
    for _ in range(50):
        a, b = _simulate(rng, 0.30, 2000), _simulate(rng, 0.40, 2000)
        detected += stats.significant(stats.two_proportion_p(a, 2000, b, 2000))
    assert detected == 50  # z is about 6.6 here: a miss would be a broken test statistic


def test_an_a_a_test_is_flagged_at_about_the_nominal_rate() -> None:
    rng = random.Random(7)
    flagged = 0
    for _ in range(RUNS):
        a, b = _simulate(rng, 0.3, 400), _simulate(rng, 0.3, 400)
        flagged += stats.significant(stats.two_proportion_p(a, 400, b, 400))
    rate = flagged / RUNS
    # 5% nominal; with 2000 runs the binomial spread is about 0.5 points.
    assert 0.03 <= rate <= 0.07, rate


def test_the_wilson_interval_covers_the_true_rate_about_95_percent_of_the_time() -> None:
    rng = random.Random(3)
    covered = 0
    for _ in range(RUNS):
        est = stats.wilson(_simulate(rng, 0.1, 300), 300)
        covered += est.low <= 0.1 <= est.high
    assert 0.93 <= covered / RUNS <= 0.97


def test_revenue_per_visitor_lift_is_detected_and_an_equal_one_is_not() -> None:
    rng = random.Random(11)

    def visitors(rate: float) -> list[float]:
        return [rng.uniform(20, 80) if rng.random() < rate else 0.0 for _ in range(2000)]

    assert stats.significant(stats.welch_p(visitors(0.05), visitors(0.15)))
    flagged = sum(stats.significant(stats.welch_p(visitors(0.1), visitors(0.1))) for _ in range(200))
    assert flagged / 200 <= 0.1


def test_no_data_is_never_significant() -> None:
    assert stats.two_proportion_p(0, 0, 0, 0) == 1.0
    assert stats.wilson(0, 0) == stats.Estimate(0.0, 0.0, 1.0)
    assert not stats.significant(stats.welch_p([], [1.0]))
    assert stats.significant(0.02) and not stats.significant(0.02, comparisons=3)
