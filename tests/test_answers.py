"""The answer checker shared by the API and the HTML quiz."""

from __future__ import annotations

import pytest

from quiz.quizzes.answers import AnswerError, clean_answers
from quiz.quizzes.schema import load_quiz

QUIZ = load_quiz(
    {
        "id": "t",
        "title": "T",
        "sections": [
            {
                "id": "one",
                "title": "One",
                "questions": [
                    {"id": "level", "type": "scale", "label": "Level", "min": 1, "max": 5, "required": True},
                    {"id": "pro", "type": "text", "label": "Why?", "required": True, "show_if": {"level": 5}},
                    {
                        "id": "likes",
                        "type": "multi",
                        "label": "Likes",
                        "min": 1,
                        "max": 2,
                        "options": [
                            {"value": "a", "label": "A"},
                            {"value": "b", "label": "B"},
                            {"value": "c", "label": "C"},
                        ],
                    },
                    {"id": "gift", "type": "boolean", "label": "Gift?"},
                    {
                        "id": "wrap",
                        "type": "single",
                        "label": "Wrap?",
                        "required": True,
                        "show_if": {"gift": True},
                        "options": [{"value": "yes", "label": "Yes"}],
                    },
                ],
            }
        ],
    }
)


def errors_of(answers: dict[str, object]) -> dict[str, list[str]]:
    with pytest.raises(AnswerError) as info:
        clean_answers(QUIZ, answers, complete=True)
    return info.value.fields


def test_show_if_matches_numbers_and_booleans_whatever_their_json_form() -> None:
    assert errors_of({"level": 5}) == {"pro": ["This question needs an answer."]}
    assert errors_of({"level": 5.0, "gift": True}) == {
        "pro": ["This question needs an answer."],
        "wrap": ["This question needs an answer."],
    }
    assert clean_answers(QUIZ, {"level": 3, "gift": False}, complete=True) == {"level": 3.0, "gift": False}


def test_hidden_answers_are_dropped_not_checked() -> None:
    assert clean_answers(QUIZ, {"level": 2, "pro": 12345}, complete=True) == {"level": 2.0}


def test_multi_bounds_and_duplicates() -> None:
    assert clean_answers(QUIZ, {"level": 1, "likes": []}, complete=True) == {"level": 1.0}, "blank = unanswered"
    assert errors_of({"level": 1, "likes": ["a", "b", "c"]})["likes"] == ["Pick at most 2."]
    assert clean_answers(QUIZ, {"level": 1, "likes": ["a", "a"]}, complete=True)["likes"] == ["a"]


def test_scale_outside_its_range() -> None:
    assert errors_of({"level": 9})["level"] == ["Choose a number from 1 to 5."]


def test_an_email_question_checks_the_address() -> None:
    quiz = load_quiz(
        {
            "id": "e",
            "title": "E",
            "sections": [
                {
                    "id": "s",
                    "title": "S",
                    "questions": [{"id": "mail", "type": "text", "label": "Email", "role": "email"}],
                }
            ],
        }
    )
    with pytest.raises(AnswerError) as info:
        clean_answers(quiz, {"mail": "not an address"}, complete=True)
    assert info.value.fields == {"mail": ["Enter an email address like name@example.com."]}
    assert clean_answers(quiz, {"mail": " ada@example.org "}, complete=True) == {"mail": "ada@example.org"}
