"""Dynamic int8 quantization of the model: encode time and nDCG@10 against fp32, in one run.

Run: `.venv/bin/python bench/quantization.py [--record]` (needs ../shared/data/relevance).

Embeds needs-dev's products and needs with the fp32 model and with a copy whose Linear layers
are quantized to int8 by torch's dynamic quantization, scores the embedding ranking of each
(production's product text recipe) and times one-text encodes of the needs. Rule of issue 7:
adopt int8 only if nDCG@10 drops by less than 1%.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
import warnings

import _common
import numpy as np

NEEDS_DEV = _common.ROOT.parent / "shared" / "data" / "relevance" / "needs-dev"


def ndcg_and_time(model: object, products: list[str], queries: list[str], judged: dict, ids: list[str]) -> tuple:
    """Return (nDCG@10, p50 ms of one-text encodes) of ``model`` on the set."""
    from recommender.evaluation import score_runs

    encode = model.encode  # type: ignore[attr-defined]
    docs = encode(products, batch_size=128, normalize_embeddings=True, show_progress_bar=False)
    times, runs = [], {}
    for query_id, text in queries:
        started = time.perf_counter()
        vector = encode([text], normalize_embeddings=True, show_progress_bar=False)[0]
        times.append((time.perf_counter() - started) * 1000)
        runs[query_id] = [ids[i] for i in np.argsort(-(docs @ vector))[:50]]
    return score_runs(runs, judged).ndcg10, statistics.median(times)


def main() -> None:
    """Print fp32 against int8 and, with --record, add the row to docs/benchmarks.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="append the figures to docs/benchmarks.md")
    args = parser.parse_args()
    import torch

    from recommender import Embedder, item_document
    from recommender.evaluation import load

    data = load(NEEDS_DEV, "wands")
    products = [item_document(p.as_item()) for p in data.products]
    ids = [p.external_id for p in data.products]
    queries = list(data.judged_queries().items())
    fp32 = Embedder().model
    with warnings.catch_warnings():  # torch 2.13 marks this API deprecated in favour of torchao
        warnings.simplefilter("ignore")
        int8 = torch.ao.quantization.quantize_dynamic(copy.deepcopy(fp32), {torch.nn.Linear}, dtype=torch.qint8)
    rows = [
        (name, *ndcg_and_time(m, products, queries, data.judgements, ids))
        for name, m in (("fp32", fp32), ("int8", int8))
    ]
    base_ndcg, base_ms = rows[0][1], rows[0][2]
    print(f"needs-dev, embedding search; {_common.machine_summary()}")
    print(f"{'model':<6} {'ndcg@10':>8} {'change':>8} {'encode p50 ms':>14} {'vs fp32':>8}")
    for name, ndcg, ms in rows:
        print(f"{name:<6} {ndcg:8.3f} {100 * (ndcg / base_ndcg - 1):7.1f}% {ms:14.2f} {ms / base_ms:7.2f}x")
    drop = 1 - rows[1][1] / base_ndcg
    print(f"int8 nDCG@10 drop {100 * drop:.1f}% -> {'adopt' if drop < 0.01 else 'keep fp32'} (rule: under 1%)")
    if args.record:
        _common.record_run(
            "quantization",
            "Dynamic int8 quantization (`bench/quantization.py`)",
            "Embedding nDCG@10 on needs-dev and one-text encode time, fp32 against torch dynamic int8.",
            ["date", "fp32 ndcg@10", "int8 ndcg@10", "fp32 encode p50", "int8 encode p50", "machine"],
            [
                [
                    _common.today(),
                    f"{rows[0][1]:.3f}",
                    f"{rows[1][1]:.3f}",
                    f"{rows[0][2]:.2f} ms",
                    f"{rows[1][2]:.2f} ms",
                    _common.machine_summary(),
                ]
            ],
        )


if __name__ == "__main__":
    main()
