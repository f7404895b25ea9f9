"""The evaluation harness: metrics, relevance-set readers, the runner and `flask eval`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner

from recommender import Embedder
from recommender.evaluation import DatasetError, load, ndcg_at, recall_at, reciprocal_rank, score_runs
from recommender.evaluation.runner import METHODS, evaluate

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


def write_wands(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    header = "product_id\tproduct_name\tproduct_class\tcategory hierarchy\tproduct_description\tproduct_features\n"
    rows = "".join(f"{p}\t{t}\t{c.split('|')[-1]}\t{c.replace('|', ' / ')}\t{d}\t\n" for p, t, c, d in PRODUCTS)
    (folder / "product.csv").write_text(header + rows, encoding="utf-8")
    queries = "".join(f"{q}\t{t}\t\n" for q, t in QUERIES)
    (folder / "query.csv").write_text("query_id\tquery\tquery_class\n" + queries, encoding="utf-8")
    labels = "".join(f"{n}\t{q}\t{p}\t{g}\n" for n, (q, p, g) in enumerate(LABELS))
    (folder / "label.csv").write_text("id\tquery_id\tproduct_id\tlabel\n" + labels, encoding="utf-8")
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


def test_eval_command_prints_a_line_per_method_and_a_table(runner: FlaskCliRunner, tmp_path: Path) -> None:
    result = runner.invoke(args=["eval", "--dir", str(write_wands(tmp_path / "tiny")), "--personas", "-"])
    assert result.exit_code == 0, result.output
    for method in METHODS:
        assert re.search(rf"^{method} ndcg@10=\d\.\d{{3}} recall@50=\d\.\d{{3}} mrr=\d\.\d{{3}}$", result.output, re.M)
    assert re.search(r"^tiny\s+production\s+\d\.\d{3}", result.output, re.M)


def test_eval_command_refuses_a_folder_that_is_not_a_relevance_set(runner: FlaskCliRunner, tmp_path: Path) -> None:
    result = runner.invoke(args=["eval", "--dir", str(tmp_path), "--personas", "-"])
    assert result.exit_code != 0
    assert "product.csv is missing" in result.output


NEEDS = SHARED_DATA / "relevance" / "needs-dev"


@pytest.mark.skipif(not NEEDS.is_dir(), reason="../shared/data/relevance/needs-dev is not beside the project")
def test_production_beats_both_baselines_on_needs_written_as_people_write_them() -> None:
    methods = ("bm25", "embedding", "production")
    scores = {r.method: r.scores.ndcg10 for r in evaluate(load(NEEDS, "wands"), Embedder(), methods)}
    assert scores["production"] > max(scores["bm25"], scores["embedding"]) + 0.05, scores
