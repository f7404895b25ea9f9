"""The split inside the training period on which the scores model's settings were chosen.

    .venv/bin/python bench/scores_internal.py ../shared/data/orders/online-retail-dev/invoices.tsv

Nothing of the scored window (from the calibration end on) is read: the customers with a
purchase before ``VALIDATE`` (the latest training snapshot of the dev protocol, 2011-06-11 minus
91 days) are split in three folds by a hash of their id; each fold is predicted at ``VALIDATE`` by
a model fitted on the other customers' invoices with its last training snapshot 28 days before
``VALIDATE``, and judged on the 91 days from ``VALIDATE``. Different customers, an earlier
period: what the model learnt of particular customers from overlapping windows does not count.
"""

from __future__ import annotations

import datetime as dt
import sys
import zlib
from pathlib import Path

from sklearn.metrics import log_loss, roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from quiz.lifecycle.evaluation import read_invoices  # noqa: E402
from quiz.lifecycle.model import (  # noqa: E402
    HORIZON_DAYS,
    MODEL_VERSION,
    ScoreModel,
    buyers_before,
    features,
    group,
    outcome,
    rfm_scores,
)

CALIBRATION_END = dt.datetime(2011, 6, 11)
VALIDATE = CALIBRATION_END - dt.timedelta(days=HORIZON_DAYS)
GAP_DAYS = 28
FOLDS = 3


def main(path: str) -> None:
    invoices = read_invoices(Path(path).read_bytes())
    start = min(i.at for i in invoices).replace(hour=0, minute=0, second=0, microsecond=0)
    histories = group(invoices)
    end = VALIDATE + dt.timedelta(days=HORIZON_DAYS)
    probabilities: list[float] = []
    bought: list[bool] = []
    for fold in range(FOLDS):

        def held_out(customer: str, fold: int = fold) -> bool:
            return zlib.crc32(customer.encode()) % FOLDS == fold

        others = {c: h for c, h in histories.items() if not held_out(c)}
        model = ScoreModel().fit(others, VALIDATE + dt.timedelta(days=HORIZON_DAYS - GAP_DAYS), start)
        customers = [c for c in buyers_before(histories, VALIDATE) if held_out(c)]
        rows = [features(histories[c], VALIDATE) for c in customers]
        probabilities += [p.probability for p in model.predict(rows, (VALIDATE - start).days)]
        bought += [outcome(histories[c], VALIDATE, end).bought for c in customers]
    customers = buyers_before(histories, VALIDATE)
    rows = [features(histories[c], VALIDATE) for c in customers]
    everyone = [outcome(histories[c], VALIDATE, end).bought for c in customers]
    print(f"rfm auc={roc_auc_score(everyone, rfm_scores(rows)):.4f}")
    print(
        f"{MODEL_VERSION} auc={roc_auc_score(bought, probabilities):.4f} "
        f"logloss={log_loss(bought, probabilities):.4f} customers={len(bought)}"
    )


if __name__ == "__main__":
    main(sys.argv[1])
