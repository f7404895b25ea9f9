"""Variety of the first page: distinct leaf categories in the top 12, with and without diversity.

Run: `.venv/bin/python bench/diversity.py`. Builds a throwaway demo instance, asks the demo
catalog for the shopper needs of the quality tests through the API, once with diversity off
(`"diverse": false`) and once with the defaults (MMR plus the per-category/brand cap), and
prints the share of distinct leaf categories in each first page and whether the top match held.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

NEEDS = [
    "lightweight waterproof jacket for hiking",
    "comfortable shoes for long city walks",
    "gift for my dad who likes camping",
    "home workout gear for a small flat",
    "cozy things for a cabin weekend",
    "a tent for two people",
    "warm layers for a ski trip",
    "something to help me start running",
]


def main() -> None:
    from app import create_app
    from quiz.demo.shop import load_demo
    from quiz.platform.migrate import upgrade

    instance = tempfile.mkdtemp(prefix="attune-bench-diversity-")
    app = create_app({"INSTANCE_PATH": instance, "DATABASE_URL": f"sqlite:///{instance}/bench.sqlite3"})
    with app.app_context():
        upgrade(app)
        load_demo()
    client = app.test_client()
    token = client.post("/api/v1/m/demo/consents", json={"purposes": {"recommendations": True}}).json
    auth = {"Authorization": "Bearer " + token["subject_token"]}

    def page(need: str, diverse: bool) -> list[dict[str, object]]:
        body = {"answers": {"looking_for": need, "categories": ["any"]}, "limit": 12, "diverse": diverse}
        return client.post("/api/v1/m/demo/recommendations", json=body, headers=auth).json["items"]

    print(f"{'need':<42} {'plain':>6} {'diverse':>8}  top match kept")
    shares = {False: [], True: []}
    for need in NEEDS:
        plain, varied = page(need, False), page(need, True)
        row = []
        for diverse, items in ((False, plain), (True, varied)):
            share = len({i["category"] for i in items}) / len(items)
            shares[diverse].append(share)
            row.append(share)
        print(f"{need:<42} {row[0]:6.2f} {row[1]:8.2f}  {plain[0]['id'] == varied[0]['id']}")
    mean = {k: sum(v) / len(v) for k, v in shares.items()}
    print(f"{'mean share of distinct leaf categories':<42} {mean[False]:6.3f} {mean[True]:8.3f}")


if __name__ == "__main__":
    main()
