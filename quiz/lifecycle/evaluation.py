"""`flask scores eval`: the scores measured on an invoices file, against the recency and RFM baselines.

Protocol (``../shared/data/orders/online-retail-dev/README.md``): everything is learnt from the
invoices before the calibration end; the customers scored are those with a purchase before it;
each is then judged on the window from the calibration end to the window end (inclusive): bought
again (AUC, log-loss), how many purchases (MAE) and net spend, cancellations included (MAE).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

import numpy as np

from .model import (
    HORIZON_DAYS,
    Invoice,
    Prediction,
    ScoreModel,
    buyers_before,
    features,
    group,
    outcome,
    rate_predictions,
    recency_scores,
    rfm_scores,
)

COLUMNS = ("customer_id", "invoiced_at", "total", "cancelled")


class EvalInputError(ValueError):
    """The file or the dates cannot be evaluated; the message says why in one line."""


@dataclass(frozen=True)
class MethodResult:
    """One method's figures; ``None`` where the method gives no such prediction."""

    method: str
    auc: float
    logloss: float | None
    mae_orders: float | None
    mae_spend: float | None

    def line(self) -> str:
        """Return the result as ``METHOD auc=... logloss=... mae_orders=... mae_spend=...``."""

        def shown(value: float | None, digits: int) -> str:
            return "-" if value is None else f"{value:.{digits}f}"

        return (
            f"{self.method} auc={self.auc:.4f} logloss={shown(self.logloss, 4)} "
            f"mae_orders={shown(self.mae_orders, 4)} mae_spend={shown(self.mae_spend, 2)}"
        )


def read_invoices(data: bytes) -> list[Invoice]:
    """Read an invoices table (tab-separated, with ``customer_id``, ``invoiced_at``, ``total``, ``cancelled``).

    Rows without a customer are skipped; ``items`` and ``quantity`` are read when present.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EvalInputError("the file is not UTF-8 text") from exc
    reader = csv.DictReader(io.StringIO(text), delimiter="\t")
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise EvalInputError(f"not an invoices table: missing column(s) {', '.join(missing)}")
    invoices = []
    for number, row in enumerate(reader, start=2):
        if not (row["customer_id"] or "").strip():
            continue
        try:
            invoices.append(
                Invoice(
                    customer=row["customer_id"].strip(),
                    at=dt.datetime.fromisoformat(row["invoiced_at"]).replace(tzinfo=None),
                    total=float(row["total"]),
                    cancelled=row["cancelled"].strip() == "1",
                    lines=int(row.get("items") or 1),
                    quantity=int(row.get("quantity") or 1),
                )
            )
        except (TypeError, ValueError) as exc:
            raise EvalInputError(f"row {number}: {exc}") from exc
    if not invoices:
        raise EvalInputError("no invoice with a customer in the file")
    return invoices


def evaluate(invoices: list[Invoice], calibration_end: dt.date, window_end: dt.date) -> list[MethodResult]:
    """Return the figures of ``recency``, ``rfm``, ``rate`` and ``production`` on the protocol above."""
    from sklearn.metrics import log_loss, roc_auc_score

    if window_end < calibration_end:
        raise EvalInputError("--window-end is before --calibration-end")
    cutoff = dt.datetime.combine(calibration_end, dt.time())
    end = dt.datetime.combine(window_end + dt.timedelta(days=1), dt.time())
    start = min(i.at for i in invoices).replace(hour=0, minute=0, second=0, microsecond=0)
    histories = group(invoices)
    customers = buyers_before(histories, cutoff)
    answers = [outcome(histories[c], cutoff, end) for c in customers]
    bought = [a.bought for a in answers]
    if len(set(bought)) < 2:
        raise EvalInputError("every scored customer did the same in the window: AUC is undefined")
    rows = [features(histories[c], cutoff) for c in customers]
    horizon = (end - cutoff).days
    observed = (cutoff - start).total_seconds() / 86400
    try:
        model = ScoreModel(horizon).fit(histories, cutoff, start)
    except ValueError as exc:
        raise EvalInputError(str(exc)) from exc

    def judged(method: str, predictions: list[Prediction]) -> MethodResult:
        probability = np.clip([p.probability for p in predictions], 1e-6, 1 - 1e-6)
        return MethodResult(
            method,
            float(roc_auc_score(bought, probability)),
            float(log_loss(bought, probability, labels=[False, True])),
            float(np.mean([abs(p.purchases - a.purchases) for p, a in zip(predictions, answers, strict=True)])),
            float(np.mean([abs(p.spend - a.spend) for p, a in zip(predictions, answers, strict=True)])),
        )

    return [
        MethodResult("recency", float(roc_auc_score(bought, recency_scores(rows))), None, None, None),
        MethodResult("rfm", float(roc_auc_score(bought, rfm_scores(rows))), None, None, None),
        judged("rate", rate_predictions(rows, observed, horizon)),
        judged("production", model.predict(rows, observed)),
    ]


__all__ = ["HORIZON_DAYS", "EvalInputError", "MethodResult", "evaluate", "read_invoices"]
