"""Customer scores from purchase histories: will they buy in the next window, how often, for how much.

Pure model code (numpy, scipy and scikit-learn; no Flask, no database): the scoring service
feeds it each profile's orders, ``flask scores eval`` an invoices file. A model learns only from
the history before its cutoff: features at ``cutoff - horizon`` (and weekly earlier snapshots) are
paired with what each customer did in the ``horizon`` days after that snapshot, so nothing from
the scored window reaches the training.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

MODEL_VERSION = "rank-logit-2"
HORIZON_DAYS = 91
# Training snapshots every week before the latest one (cutoff - horizon), back to the first with
# SNAPSHOT_MIN_DAYS of data: more examples of the same question.
SNAPSHOT_EVERY_DAYS = 7
SNAPSHOT_MIN_DAYS = 28
MIN_EXAMPLES = 50
# Regularisation of the logistic regression (chosen on a split inside the training period:
# customers held out at the latest snapshot, see docs/scores.md).
C = 0.01
FEATURES = (
    "recency_days",
    "tenure_days",
    "purchases",
    "purchases_30d",
    "purchases_90d",
    "net_spend",
    "mean_order",
    "spend_90d",
    "cancellations",
    "mean_gap_days",
    "months_active_of_3",
    "months_active_of_6",
    "purchase_days",
    "purchases_per_day",
    "overdue_ratio",
    "mean_lines",
    "mean_quantity",
    "gap_std_days",
    "gap_variation",
    "last_gap_days",
)
# Features that mean the same however long the data has run (fixed windows, ratios, per-order
# figures): these also enter as they are (signed log), beside every feature's rank.
STATIONARY = (
    "recency_days",
    "purchases_30d",
    "purchases_90d",
    "mean_order",
    "spend_90d",
    "mean_gap_days",
    "months_active_of_3",
    "purchases_per_day",
    "overdue_ratio",
    "mean_lines",
    "mean_quantity",
    "gap_std_days",
    "gap_variation",
    "last_gap_days",
)


@dataclass(frozen=True)
class Invoice:
    """One purchase or cancellation: when, its total (negative when cancelling), lines and units."""

    customer: str
    at: dt.datetime
    total: float
    cancelled: bool
    lines: int = 1
    quantity: int = 1


@dataclass(frozen=True)
class Outcome:
    """What a customer did in a window: bought at all, how many purchases, net spend."""

    bought: bool
    purchases: int
    spend: float


@dataclass(frozen=True)
class Prediction:
    """A customer's predicted window: probability of a purchase, expected purchases and spend."""

    probability: float
    purchases: float
    spend: float


def group(invoices: Iterable[Invoice]) -> dict[str, list[Invoice]]:
    """Return each customer's invoices, oldest first."""
    by_customer: dict[str, list[Invoice]] = {}
    for invoice in invoices:
        by_customer.setdefault(invoice.customer, []).append(invoice)
    for history in by_customer.values():
        history.sort(key=lambda invoice: invoice.at)
    return by_customer


def buyers_before(histories: Mapping[str, Sequence[Invoice]], cutoff: dt.datetime) -> list[str]:
    """Return the customers with at least one purchase (not a cancellation) before ``cutoff``, sorted."""
    return sorted(c for c, h in histories.items() if any(not i.cancelled and i.at < cutoff for i in h))


def features(history: Sequence[Invoice], cutoff: dt.datetime) -> list[float]:
    """Return a customer's features at ``cutoff`` (see ``FEATURES``) from its invoices before it.

    The customer must have a purchase before ``cutoff`` (:func:`buyers_before`).
    """
    purchases = [i for i in history if not i.cancelled and i.at < cutoff]
    cancellations = [i for i in history if i.cancelled and i.at < cutoff]
    if not purchases:
        raise ValueError("no purchase before the cutoff")
    days = [(cutoff - i.at).total_seconds() / 86400 for i in purchases]
    count = len(purchases)
    recency, tenure = min(days), max(days)
    net = sum(i.total for i in purchases) + sum(i.total for i in cancellations)
    gap = (tenure - recency) / (count - 1) if count > 1 else 0.0
    # Gaps between distinct purchase days, oldest first: how regular the customer is.
    gaps = -np.diff(np.array(sorted({int(d) for d in days}, reverse=True), dtype=float))
    gap_std = float(gaps.std()) if len(gaps) > 1 else 0.0
    months = [any(k * 30 <= d < (k + 1) * 30 for d in days) for k in range(6)]
    return [
        recency,
        tenure,
        float(count),
        float(sum(1 for d in days if d <= 30)),
        float(sum(1 for d in days if d <= 90)),
        net,
        net / count,
        sum(i.total for i, d in zip(purchases, days, strict=True) if d <= 90),
        float(len(cancellations)),
        gap if count > 1 else 200.0,
        float(sum(months[:3])),
        float(sum(months)),
        float(len({int(d) for d in days})),
        count / max(tenure, 7.0),
        recency / max(gap, 1.0) if count > 1 else 5.0,
        sum(i.lines for i in purchases) / count,
        sum(i.quantity for i in purchases) / count,
        gap_std,
        gap_std / float(gaps.mean()) if len(gaps) > 1 else 0.0,
        float(gaps[-1]) if len(gaps) else 200.0,
    ]


def outcome(history: Sequence[Invoice], begin: dt.datetime, end: dt.datetime) -> Outcome:
    """Return what the customer did from ``begin`` (inclusive) to ``end`` (exclusive); spend is net."""
    window = [i for i in history if begin <= i.at < end]
    purchases = sum(1 for i in window if not i.cancelled)
    return Outcome(purchases > 0, purchases, sum(i.total for i in window))


class ScoreModel:
    """Logistic regression on the customers' percentile ranks and stationary features, plus shrunk rates.

    The probability of a purchase in the horizon comes from the regression. Each feature enters
    as the customer's percentile rank among the customers scored at the same moment (training
    snapshots ranked one by one), so a model trained on the short histories of earlier snapshots
    still holds when the history has grown: counts and tenure grow with time, ranks do not. The
    ``STATIONARY`` features (days since the last purchase, fixed windows, ratios) also enter as
    they are, signed-log scaled: 150 days without an order means the same in any shop.
    Purchases and spend are each customer's own rate over the observed period times the
    horizon, shrunk by a factor fitted (least absolute error) on the latest training snapshot:
    most customers buy less than their past rate, and mean absolute error rewards saying so.
    """

    def __init__(self, horizon_days: int = HORIZON_DAYS) -> None:
        self.horizon_days = horizon_days
        self.examples = 0
        self.purchase_factor = 1.0
        self.spend_factor = 1.0
        self._classifier = None

    def fit(self, histories: Mapping[str, Sequence[Invoice]], cutoff: dt.datetime, start: dt.datetime) -> ScoreModel:
        """Train on the invoices before ``cutoff`` (the data begins at ``start``); return the model.

        Raise ``ValueError`` when the history is too short or too uniform to learn from.
        """
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        horizon = dt.timedelta(days=self.horizon_days)
        blocks: list[np.ndarray] = []
        bought: list[bool] = []
        snapshot = cutoff - horizon
        latest = True
        while snapshot - start >= dt.timedelta(days=SNAPSHOT_MIN_DAYS):
            customers = buyers_before(histories, snapshot)
            block = [features(histories[c], snapshot) for c in customers]
            answers = [outcome(histories[c], snapshot, snapshot + horizon) for c in customers]
            if latest and block:
                observed = (snapshot - start).total_seconds() / 86400
                self.purchase_factor = _shrink([r[2] for r in block], [a.purchases for a in answers], observed)
                self.spend_factor = _shrink([r[5] for r in block], [a.spend for a in answers], observed)
            if block:
                blocks.append(_inputs(block))
                bought += [a.bought for a in answers]
            latest = False
            snapshot -= dt.timedelta(days=SNAPSHOT_EVERY_DAYS)
        if len(bought) < MIN_EXAMPLES or len(set(bought)) < 2:
            raise ValueError(
                f"too little history before {cutoff.date()} to learn from: need "
                f"{self.horizon_days + SNAPSHOT_MIN_DAYS} days of orders and at least {MIN_EXAMPLES} customers, "
                "some who came back and some who did not"
            )
        self._classifier = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=3000))
        self._classifier.fit(np.vstack(blocks), np.asarray(bought, dtype=int))
        self.examples = len(bought)
        return self

    def predict(self, rows: Sequence[Sequence[float]], observed_days: float) -> list[Prediction]:
        """Return a prediction per feature row; ``observed_days`` is how long the data has run at the cutoff.

        The rows are ranked among themselves: pass every customer scored at the cutoff at once.
        """
        if self._classifier is None:
            raise RuntimeError("the model is not trained")
        if not rows:
            return []
        probability = self._classifier.predict_proba(_inputs(rows))[:, 1]
        rates = rate_predictions(rows, observed_days, self.horizon_days)
        return [
            Prediction(float(p), r.purchases * self.purchase_factor, r.spend * self.spend_factor)
            for p, r in zip(probability, rates, strict=True)
        ]


def _inputs(rows: Sequence[Sequence[float]]) -> np.ndarray:
    """Return the regression's inputs: every feature's percentile rank among the rows (0 to 1, ties
    averaged), then the ``STATIONARY`` features on a signed log scale."""
    from scipy.stats import rankdata

    x = np.asarray(rows, dtype=float)
    stationary = x[:, [FEATURES.index(name) for name in STATIONARY]]
    return np.hstack([(rankdata(x, axis=0) - 0.5) / len(x), np.sign(stationary) * np.log1p(np.abs(stationary))])


def _shrink(past: Sequence[float], future: Sequence[float], observed_days: float) -> float:
    """Return the factor (0.05 to 1.5) on past-rate predictions with the least absolute error."""
    rate = np.asarray(past, dtype=float) / max(observed_days, 1.0) * HORIZON_DAYS
    actual = np.asarray(future, dtype=float)
    grid = np.linspace(0.05, 1.5, 30)
    return float(grid[int(np.argmin([np.abs(k * rate - actual).mean() for k in grid]))])


def recency_scores(rows: Sequence[Sequence[float]]) -> list[float]:
    """Return the recency baseline: minus the days since the last purchase."""
    return [-row[0] for row in rows]


def rfm_scores(rows: Sequence[Sequence[float]]) -> list[float]:
    """Return the RFM baseline: the mean percentile rank of recency (recent first), purchases and net spend."""
    from scipy.stats import rankdata

    x = np.asarray(rows, dtype=float)
    n = len(x)
    ranks = [rankdata(-x[:, 0]) / n, rankdata(x[:, 2]) / n, rankdata(x[:, 5]) / n]
    return [float(v) for v in np.mean(ranks, axis=0)]


def rate_predictions(
    rows: Sequence[Sequence[float]], observed_days: float, horizon_days: int = HORIZON_DAYS
) -> list[Prediction]:
    """Return the rate baseline: purchases and net spend per observed day times the horizon.

    The probability of at least one purchase is ``1 - exp(-expected purchases)`` (a Poisson count).
    """
    days = max(observed_days, 1.0)
    out = []
    for row in rows:
        purchases = row[2] / days * horizon_days
        out.append(Prediction(1 - math.exp(-purchases), purchases, row[5] / days * horizon_days))
    return out
