"""The evaluation harness: metrics, relevance-set readers, the runner and `flask eval`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from quiz import merchants, quizzes
from quiz.catalog.engine import recommender_for
from quiz.evaluation.commands import shopper_path
from quiz.shopping.recommendations import recommend
from recommender import NO_DIVERSITY, Diversity, Embedder
from recommender.evaluation import DatasetError, load, ndcg_at, recall_at, reciprocal_rank, score_runs
from recommender.evaluation.runner import METHODS, ShopperPath, evaluate, index_catalog, rankers, shopper_pages

from .conftest import SHARED_DATA

PRODUCTS = [
    ("p1", "Two Person Backpacking Tent", "Camping|Tents", "A light tent for two."),
    ("p2", "Family Cabin Tent 8 Person", "Camping|Tents", "Room for the whole family."),
    ("p3", "DeWalt DCD771 20V Cordless Drill", "Tools|Drills", "Compact drill driver kit."),
    ("p4", "Ceramic Coffee Mug", "Kitchen|Mugs", "Holds 350 ml."),
    ("p5", "Waterproof Rain Jacket", "Clothing|Jackets", "Seam-sealed shell for wet hikes."),
    ("p6", "Merino Hiking Socks", "Clothing|Socks", "Warm and soft."),
]
QUERIES = [
    ("q1", "a tent for two people"),
    ("q2", "dewalt dcd771 drill"),
    ("q3", "something to keep me dry when it pours"),
]
LABELS = [("q1", "p1", "Exact"), ("q1", "p2", "Partial"), ("q2", "p3", "Exact"), ("q3", "p5", "Exact")]


def write_wands(
    folder: Path,
    products: list[tuple[str, str, str, str]] = PRODUCTS,
    queries: list[tuple[str, str]] = QUERIES,
    labels: list[tuple[str, str, str]] = LABELS,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    header = "product_id\tproduct_name\tproduct_class\tcategory hierarchy\tproduct_description\tproduct_features\n"
    rows = "".join(f"{p}\t{t}\t{c.split('|')[-1]}\t{c.replace('|', ' / ')}\t{d}\t\n" for p, t, c, d in products)
    (folder / "product.csv").write_text(header + rows, encoding="utf-8")
    query_rows = "".join(f"{q}\t{t}\t\n" for q, t in queries)
    (folder / "query.csv").write_text("query_id\tquery\tquery_class\n" + query_rows, encoding="utf-8")
    label_rows = "".join(f"{n}\t{q}\t{p}\t{g}\n" for n, (q, p, g) in enumerate(labels))
    (folder / "label.csv").write_text("id\tquery_id\tproduct_id\tlabel\n" + label_rows, encoding="utf-8")
    return folder


def test_metrics_on_rankings_whose_scores_are_obvious() -> None:
    judged = {"a": 2, "b": 1}
    assert ndcg_at(["a", "b", "x"], judged) == pytest.approx(1.0)
    assert ndcg_at(["x", "b", "a"], judged) < ndcg_at(["b", "a", "x"], judged) < 1.0
    assert ndcg_at(["x"], {"x": 0}) == 0.0
    assert recall_at(["x", "a"], judged, 50) == 0.5
    assert reciprocal_rank(["x", "y", "b"], judged) == pytest.approx(1 / 3)
    scores = score_runs({"q": ["a", "b"]}, {"q": judged, "empty": {"z": 0}, "missing": {"m": 2}})
    assert scores.queries == 2, "queries without a relevant product are not averaged"
    assert scores.ndcg10 == pytest.approx(0.5), "a judged query the method did not answer counts as zero"
    assert scores.line("bm25") == "bm25 ndcg@10=0.500 recall@50=0.500 mrr=0.500"


def test_wands_reader_maps_columns_grades_and_category_paths(tmp_path: Path) -> None:
    data = load(write_wands(tmp_path / "set"), "wands")
    assert len(data.products) == 6 and data.products[0].category == "Camping > Tents"
    assert data.judgements["q1"] == {"p1": 2, "p2": 1}
    assert list(data.judged_queries()) == ["q1", "q2", "q3"]


def test_readers_name_the_file_and_row_of_bad_input(tmp_path: Path) -> None:
    folder = write_wands(tmp_path / "set")
    (folder / "label.csv").write_text("id\tquery_id\tproduct_id\tlabel\n0\tq1\tp1\tGreat\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"label.csv row 2: label 'Great'"):
        load(folder, "wands")
    (folder / "query.csv").unlink()
    with pytest.raises(DatasetError, match="query.csv is missing"):
        load(folder, "wands")


def test_jsonl_reader(tmp_path: Path) -> None:
    (tmp_path / "products.jsonl").write_text(
        "\n".join(json.dumps({"id": p, "title": t, "category": c.replace("|", " > ")}) for p, t, c, _ in PRODUCTS)
    )
    lines = [{"query": dict(QUERIES)[q], "product_id": p, "grade": 2 if g == "Exact" else 1} for q, p, g in LABELS]
    (tmp_path / "judgements.jsonl").write_text("\n".join(json.dumps(line) for line in lines))
    data = load(tmp_path, "jsonl")
    assert data.judgements["a tent for two people"] == {"p1": 2, "p2": 1}
    (tmp_path / "judgements.jsonl").write_text('{"query": "tent", "product_id": "p1", "grade": 5}\n')
    with pytest.raises(DatasetError, match="line 1: 'grade' must be 0, 1 or 2"):
        load(tmp_path, "jsonl")


def test_every_method_ranks_the_obvious_answers_first(tmp_path: Path) -> None:
    results = {r.method: r.scores for r in evaluate(load(write_wands(tmp_path / "set"), "wands"), Embedder())}
    assert list(results) == list(METHODS)
    assert results["production"].mrr == 1.0, results["production"]
    assert results["embedding"].ndcg10 > 0.8 and results["bm25"].recall50 < 1.0, "no word of q3 is in its answer"


def test_production_is_the_shoppers_pages_varied_and_unvaried_is_one_plain_ranking(tmp_path: Path) -> None:
    """Seven tents and five other things: a page of 6 caps one category at 4, as the app does."""
    folder = tmp_path / "tents"
    tents = [(f"t{n}", f"Dome Tent {n} Person", "Camping|Tents", "A tent.") for n in range(1, 8)]
    others = [
        (f"o{n}", title, cat, "")
        for n, (title, cat) in enumerate(
            [
                ("Camping Stove", "Camping|Stoves"),
                ("Sleeping Bag", "Camping|Sleeping Bags"),
                ("Camping Lantern", "Camping|Lights"),
                ("Trekking Poles", "Camping|Poles"),
                ("Coffee Mug", "Kitchen|Mugs"),
            ]
        )
    ]
    write_wands(folder, tents + others, [("q", "a tent for camping")], [("q", t[0], "Exact") for t in tents])
    embedder = Embedder()
    catalog = index_catalog(load(folder, "wands"), embedder)
    path = ShopperPath(page_size=6, diversity=Diversity(weight=0.15, per_group=4))
    ranked = rankers(catalog, embedder, path)
    shown = ranked["production"]("a tent for camping", 12)
    plain = ranked["unvaried"]("a tent for camping", 12)
    assert [p.startswith("t") for p in plain[:7]] == [True] * 7, plain
    assert sum(p.startswith("t") for p in shown[:6]) == 4, f"the first page holds at most 4 tents: {shown}"
    assert sorted(shown) == sorted(plain), "the next page brings the rest: nothing shown twice, nothing lost"
    unvaried_pages = rankers(catalog, embedder, ShopperPath(page_size=6, diversity=NO_DIVERSITY))["production"]
    assert unvaried_pages("a tent for camping", 12)[:7] == plain[:7]


def test_eval_production_ranks_what_the_quiz_shows_a_shopper(app: Flask) -> None:
    """The CLI's production path and the quiz's recommend() give one shopper the same two pages."""
    text = "comfortable shoes for running"
    with app.app_context():
        merchant = merchants.get_by_slug("demo")
        assert merchant is not None
        quiz = quizzes.live_quiz(merchant)
        size = app.config["RECOMMENDATION_LIMIT"]
        first = [r.item.external_id for r in recommend(merchant, quiz, {"looking_for": text}, size).items]
        second = recommend(merchant, quiz, {"looking_for": text}, size, exclude=first).items
        shopper = first + [r.item.external_id for r in second]
        path = shopper_path()
        recommender = recommender_for(merchant)
        evaluated = shopper_pages(recommender, path.preferences(text), 2 * size, path)
        plain = recommender.recommend(path.preferences(text), limit=2 * size, diversity=NO_DIVERSITY)
    assert evaluated == shopper
    assert [recommender.catalog.items[r.item_id].external_id for r in plain][:size] != first, (
        "the page's variety must change this query's first page, or this test proves nothing"
    )


def test_eval_command_prints_a_line_per_method_and_a_table(runner: FlaskCliRunner, tmp_path: Path) -> None:
    result = runner.invoke(args=["eval", "--dir", str(write_wands(tmp_path / "tiny")), "--personas", "-"])
    assert result.exit_code == 0, result.output
    for method in METHODS:
        assert re.search(rf"^{method} ndcg@10=\d\.\d{{3}} recall@50=\d\.\d{{3}} mrr=\d\.\d{{3}}$", result.output, re.M)
    assert re.search(r"^tiny\s+production\s+\d\.\d{3}", result.output, re.M)


def test_eval_command_fails_loudly_when_a_set_falls_below_its_floor(runner: FlaskCliRunner, tmp_path: Path) -> None:
    folder = str(write_wands(tmp_path / "tiny"))
    base = ["eval", "--dir", folder, "--personas", "-", "--method", "bm25", "--method", "production"]
    passed = runner.invoke(args=[*base, "--floor", "tiny=0.5", "--floor", "tiny:bm25=0.1"])
    assert passed.exit_code == 0, passed.output
    failed = runner.invoke(args=[*base, "--floor", "tiny:bm25=0.99"])
    assert failed.exit_code != 0
    assert re.search(r"tiny bm25: ndcg@10 0\.\d{3} is below its floor 0\.990", failed.output), failed.output
    unmeasured = runner.invoke(args=[*base, "--floor", "needs-dev=0.5"])
    assert unmeasured.exit_code != 0 and "needs-dev production: not measured" in unmeasured.output
    bad = runner.invoke(args=[*base, "--floor", "tiny=high"])
    assert bad.exit_code == 2 and "'high' is not a number" in bad.output


def test_eval_command_refuses_a_folder_that_is_not_a_relevance_set(runner: FlaskCliRunner, tmp_path: Path) -> None:
    result = runner.invoke(args=["eval", "--dir", str(tmp_path), "--personas", "-"])
    assert result.exit_code != 0
    assert "product.csv is missing" in result.output


NEEDS = SHARED_DATA / "relevance" / "needs-dev"


@pytest.mark.skipif(not NEEDS.is_dir(), reason="../shared/data/relevance/needs-dev is not beside the project")
def test_the_ranking_beats_both_baselines_on_needs_written_as_people_write_them() -> None:
    # The scoring itself, unvaried; production's varied pages trade some nDCG for choice on purpose
    # (at most 4 per leaf category in a page, and this set labels whole categories: docs/relevance.md).
    methods = ("bm25", "embedding", "unvaried")
    scores = {r.method: r.scores.ndcg10 for r in evaluate(load(NEEDS, "wands"), Embedder(), methods)}
    assert scores["unvaried"] > max(scores["bm25"], scores["embedding"]) + 0.05, scores
