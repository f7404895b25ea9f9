"""`flask demo ab-test`: simulated shoppers run an A/B test to a significant result; the winner's settings stay."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskCliRunner

from quiz import merchants
from quiz.outcomes import experiments


def test_the_demo_test_finds_a_known_lift_and_its_ranking_winner_stays(app: Flask, runner: FlaskCliRunner) -> None:
    args = ["demo", "ab-test", "--shoppers", "400", "--lift", "0.15", "--seed", "3"]
    result = runner.invoke(args=[*args, "--choose-winner"])
    assert result.exit_code == 0, result.output
    assert "B does better than A" in result.output and "winner: B" in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("  ")]
    assert lines[0].startswith("  A: ") and "control" in lines[0] and "p = 0.0" in lines[1]
    with app.app_context():
        demo = merchants.get_by_slug("demo")
        assert demo.ranking_settings == {"diversity": True, "category_prior": False}
        outside = experiments.variant_for(demo, "someone-new")
        assert (outside.diversity, outside.category_prior) == (True, False), "every shopper gets the winner's ranking"
        assert experiments.running(demo) is None


def test_no_lift_reads_as_no_clear_difference_and_a_running_test_is_not_overrun(runner: FlaskCliRunner) -> None:
    same = runner.invoke(args=["demo", "ab-test", "--shoppers", "200", "--lift", "0", "--seed", "5"])
    assert same.exit_code == 0, same.output
    assert "No clear difference yet" in same.output and "winner:" not in same.output
    again = runner.invoke(args=["demo", "ab-test", "--shoppers", "200"])
    assert again.exit_code == 1 and "is running: stop it first" in again.output
    missing = runner.invoke(args=["demo", "ab-test", "--merchant", "nobody"])
    assert missing.exit_code == 1 and "no merchant 'nobody'" in missing.output
