"""How many clicks a merchant needs to tie a quiz's answers to products in the builder, with and without suggestions.

The default quiz (its ten choice and text questions, as every new merchant gets it) is the
ground truth: its answers' categories and favoured attributes are what a merchant means. Those
signals are stripped, and the clicks to put them back are counted two ways:

- by hand: one tick or one typed "name: value" line per signal the answer should send;
- with suggestions: one "Accept all suggestions" per question that has any, then one click per
  wrong suggestion (untick or remove) and one per missing signal.

The catalog is the demo shop's (335 products, embedded as the index embeds them). Prints the
figures; `--record` adds them to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from _common import record_run, today

from quiz.demo.shop import demo_records
from quiz.quizzes.store import default_definition
from recommender import CatalogItem, Embedder
from recommender.catalog_index import CatalogIndex, DenseVectors
from recommender.suggestions import catalog_targets, suggest
from recommender.text import item_document


def wanted(option: dict) -> set[str]:
    """Return the signals an answer of the default quiz sends, as suggestion tokens."""
    signals = option.get("signals") or {}
    tokens = {f"category={c}" for c in signals.get("categories") or []}
    for key, value in (signals.get("boost") or {}).items():
        tokens.update(f"{key}={v}" for v in (value if isinstance(value, list) else [value]))
    return tokens


def label(option: dict) -> str:
    text = option.get("label")
    return text.get("en", "") if isinstance(text, dict) else str(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="append the figures to docs/benchmarks.md")
    parser.add_argument("-v", action="store_true", help="list the answers whose suggestions differ from the quiz")
    args = parser.parse_args()
    embedder = Embedder(None)
    records = demo_records()
    items = {i + 1: CatalogItem(**{**vars(r), "id": i + 1}) for i, r in enumerate(records)}
    matrix = embedder.encode([item_document(item) for item in items.values()])
    catalog = CatalogIndex(
        vectors=None, items=items, version="bench", dense=DenseVectors(np.arange(1, len(items) + 1), matrix)
    )
    categories, attributes = catalog_targets(embedder, catalog)
    questions = [q for s in default_definition()["sections"] for q in s["questions"]]
    by_hand = with_help = right = wrong = missed = 0
    for question in questions:
        options = [o for o in question.get("options") or [] if not (o.get("signals") or {}).get("any")]
        if question.get("type") not in ("single", "multi") or not options:
            continue
        proposals = suggest(embedder, categories, attributes, [label(o) for o in options])
        any_proposal = any(proposals)
        with_help += 1 if any_proposal else 0
        for option, found in zip(options, proposals, strict=True):
            truth = wanted(option)
            tokens = {s.token for s in found}
            by_hand += len(truth)
            right += len(truth & tokens)
            wrong += len(tokens - truth)
            missed += len(truth - tokens)
            with_help += len(tokens - truth) + len(truth - tokens)
            if tokens != truth and args.v:
                print(f"  {label(option)!r}: wanted {sorted(truth)}, suggested {[(s.token, s.score) for s in found]}")
    print(f"questions in the quiz: {len(questions)}; signals to tie: {by_hand}")
    print(f"suggested right: {right}, wrong (one click to undo each): {wrong}, not suggested: {missed}")
    print(f"clicks by hand: {by_hand}; with suggestions: {with_help}; ratio {with_help / max(by_hand, 1):.2f}")
    if args.record:
        record_run(
            "builder-clicks",
            "Quiz builder: clicks to tie the default quiz to the demo catalog",
            "`python bench/builder_clicks.py --record`: the default quiz's category and favour signals stripped, "
            "then put back in the builder by hand (one click per signal) or with suggestions (one 'Accept all' per "
            "question, one click per wrong or missing signal)."
            " Octane AI's users report 90-120 clicks for a moderate quiz.",
            [
                "date",
                "signals to tie",
                "clicks by hand",
                "clicks with suggestions",
                "suggested right",
                "wrong",
                "missed",
            ],
            [[today(), str(by_hand), str(by_hand), str(with_help), str(right), str(wrong), str(missed)]],
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
