"""The statistics of A/B tests: rates with 95% intervals and whether a variant differs from the control.

Pure functions on counts (no database, no Flask). Rates use the Wilson score interval, which
stays inside 0..1 and keeps its coverage with few exposures; the difference of two rates is
judged by the pooled two-proportion z-test, and per-visitor revenue by Welch's z-test on the
means (a large-sample normal approximation). docs/outcomes.md says why these and not a
Beta-Binomial posterior.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Z_95 = 1.959963984540054  # the two-sided 95% normal quantile
ALPHA = 0.05


@dataclass(frozen=True)
class Estimate:
    """A rate (or mean) with its 95% interval."""

    value: float
    low: float
    high: float


def normal_two_sided_p(z: float) -> float:
    """Return the two-sided p-value of a standard normal statistic ``z``."""
    return math.erfc(abs(z) / math.sqrt(2))


def wilson(successes: int, n: int) -> Estimate:
    """Return the rate ``successes / n`` with its Wilson 95% interval (0, 0..1 when ``n`` is 0)."""
    if n <= 0:
        return Estimate(0.0, 0.0, 1.0)
    p = successes / n
    z2 = Z_95 * Z_95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z_95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half))


def two_proportion_p(s1: int, n1: int, s2: int, n2: int) -> float:
    """Return the two-sided p-value of the pooled z-test that two rates are equal (1.0 without data)."""
    if n1 <= 0 or n2 <= 0:
        return 1.0
    pooled = (s1 + s2) / (n1 + n2)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if spread == 0:
        return 1.0
    return normal_two_sided_p((s1 / n1 - s2 / n2) / spread)


@dataclass
class Sample:
    """A sample as its size, sum and sum of squares: enough for its mean and variance, and it adds up.

    Erased shoppers' revenue is kept this way (no value per shopper), and joins the rest by ``add``.
    """

    n: int = 0
    total: float = 0.0
    squares: float = 0.0

    @classmethod
    def of(cls, values: Sequence[float]) -> Sample:
        """Return the sample of ``values``."""
        sample = cls()
        for value in values:
            sample.add(value)
        return sample

    def add(self, value: float, *, n: int = 1, squares: float | None = None) -> None:
        """Add one value, or ``n`` values summing to ``value`` with ``squares`` their sum of squares."""
        self.n += n
        self.total += value
        self.squares += value * value if squares is None else squares

    @property
    def mean(self) -> float:
        """The sample mean (0 when empty)."""
        return self.total / self.n if self.n else 0.0

    @property
    def variance(self) -> float:
        """The sample variance (n - 1 in the denominator; 0 below two values)."""
        if self.n < 2:
            return 0.0
        spread = (self.squares - self.total * self.total / self.n) / (self.n - 1)
        # Sums of squares cancel: what is left of equal values is rounding, not spread.
        return spread if spread > 1e-12 * max(1.0, self.squares / self.n) else 0.0


def mean_interval(values: Sequence[float] | Sample) -> Estimate:
    """Return the mean of ``values`` with its normal 95% interval."""
    sample = values if isinstance(values, Sample) else Sample.of(values)
    if sample.n == 0:
        return Estimate(0.0, 0.0, 0.0)
    mean = sample.mean
    half = Z_95 * math.sqrt(sample.variance / sample.n)
    return Estimate(mean, mean - half, mean + half)


def welch_p(a: Sequence[float] | Sample, b: Sequence[float] | Sample) -> float:
    """Return the two-sided p-value that two means are equal (Welch's statistic, normal reference)."""
    first = a if isinstance(a, Sample) else Sample.of(a)
    second = b if isinstance(b, Sample) else Sample.of(b)
    if first.n < 2 or second.n < 2:
        return 1.0
    spread = math.sqrt(first.variance / first.n + second.variance / second.n)
    if spread == 0:
        return 1.0
    return normal_two_sided_p((first.mean - second.mean) / spread)


def significant(p_value: float, comparisons: int = 1) -> bool:
    """Whether ``p_value`` is below 5%, Bonferroni-corrected for ``comparisons`` against the control."""
    return p_value < ALPHA / max(1, comparisons)
