"""Quiz definitions: the default one is valid; broken ones are refused with paths."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from marshmallow import ValidationError

from quiz.quizzes.schema import load_quiz
from quiz.quizzes.store import default_definition


def broken(mutate: Any) -> dict[str, list[str]]:
    definition = copy.deepcopy(default_definition())
    mutate(definition)
    with pytest.raises(ValidationError) as info:
        load_quiz(definition)
    return info.value.messages  # type: ignore[return-value]


def test_default_quiz_has_three_sections_and_the_listed_questions() -> None:
    quiz = load_quiz(default_definition())
    assert [s.title for s in quiz.sections] == ["About you", "Your intent today", "Your preferences"]
    ids = [q.id for q in quiz.questions()]
    for qid in (
        "first_name",
        "age_band",
        "gender",
        "country",
        "intent",
        "looking_for",
        "timing",
        "categories",
        "styles",
        "budget",
        "shopping_style",
        "channels",
    ):
        assert qid in ids
    assert quiz.question("looking_for").max_length == 500
    assert quiz.question("gender").option("prefer_not").label == "Prefer not to say"
    assert len(quiz.question("country").options) > 200


def test_unknown_type_is_named_by_path() -> None:
    errors = broken(lambda d: d["sections"][1]["questions"][0].update(type="dropdown"))
    assert "sections[1].questions[0].type" in errors


def test_choice_without_options_is_refused() -> None:
    errors = broken(lambda d: d["sections"][2]["questions"][1].update(options=[]))
    assert errors["sections[2].questions[1].options"] == ["A choice question needs at least one option."]


def test_duplicate_ids_and_dangling_show_if_are_refused() -> None:
    def mutate(d: dict[str, Any]) -> None:
        d["sections"][1]["questions"][2]["id"] = "age_band"
        d["sections"][2]["questions"][0]["show_if"] = {"no_such": "x"}

    errors = broken(mutate)
    assert errors["sections[1].questions[2].id"] == ["Duplicate question id 'age_band'."]
    assert "not an earlier question" in errors["sections[2].questions[0].show_if"][0]


def test_show_if_must_point_backwards() -> None:
    errors = broken(lambda d: d["sections"][0]["questions"][0].update(show_if={"budget": "x"}))
    assert "sections[0].questions[0].show_if" in errors


def test_range_needs_bounds() -> None:
    errors = broken(lambda d: d["sections"][2]["questions"][3].update(min=500, max=100))
    assert "sections[2].questions[3].max" in errors
