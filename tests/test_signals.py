"""Option signals steer matching: query text, price bands, attribute filters, pins and exclusions."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from marshmallow import ValidationError

from quiz import merchants, quizzes
from quiz.platform.db import transaction
from quiz.quizzes.schema import load_quiz

from .helpers import full_answers, grant

SIGNALS = {
    "cheap": {"price": [None, 30]},
    "eco_only": {"filters": {"style": "eco"}, "reason": "eco"},
    "pinned": {"pin": ["TS-0295"]},
    "no_cloudburst": {"exclude": ["TS-0001", "TS-0002"]},
    "label_only": {},
}


def publish_with_signals(app: Flask) -> None:
    definition = quizzes.default_definition()
    options = [{"value": value, "label": value.replace("_", " "), "signals": s} for value, s in SIGNALS.items()]
    definition["sections"][1]["questions"].append(
        {"id": "tweak", "type": "single", "label": "Tweak", "options": options, "weight": 0}
    )
    with app.app_context(), transaction():
        quizzes.publish(merchants.get_by_slug("demo"), definition)


def items_for(client: FlaskClient, tweak: str, **answers: Any) -> list[dict[str, Any]]:
    auth = grant(client)
    body = {"answers": full_answers(styles=[], tweak=tweak, **answers), "limit": 12, "diverse": False}
    response = client.post("/api/v1/m/demo/recommendations", json=body, headers=auth)
    assert response.status_code == 200, response.json
    return response.json["items"]


def test_each_signal_kind_changes_what_is_shown(app: Flask, client: FlaskClient) -> None:
    publish_with_signals(app)
    need = {"looking_for": "lightweight waterproof rain jacket"}
    plain = items_for(client, "label_only", **need)
    assert "Rain Jackets" in plain[0]["category"], "a label without signals changes nothing here"

    cheap = [i for i in items_for(client, "cheap", **need) if not i["fallback"]]
    assert cheap and all(i["price"] <= 30 for i in cheap)

    eco = [i for i in items_for(client, "eco_only", **need) if not i["fallback"]]
    assert eco and {i["id"] for i in eco} != {i["id"] for i in plain}

    pinned = items_for(client, "pinned", **need)
    assert pinned[0]["id"] == "TS-0295" and pinned[0]["reasons"] == ["picked by the shop for your answers"]
    assert [i["id"] for i in pinned].count("TS-0295") == 1

    excluded = items_for(client, "no_cloudburst", **need)
    assert not {"TS-0001", "TS-0002"} & {i["id"] for i in excluded}


def test_eco_filter_keeps_only_eco_products(app: Flask, client: FlaskClient) -> None:
    import json
    from pathlib import Path

    catalog = json.loads((Path(__file__).resolve().parents[1] / "quiz/demo/catalog.json").read_text())
    eco_ids = {p["id"] for p in catalog["products"] if "eco" in p["attributes"].get("style", [])}
    publish_with_signals(app)
    items = [i for i in items_for(client, "eco_only", looking_for="a jacket") if not i["fallback"]]
    assert len(items) == 12 and {i["id"] for i in items} <= eco_ids


@pytest.mark.parametrize(
    ("signals", "path"),
    [
        ({"pin": "TS-1"}, "signals.pin"),
        ({"price": [10]}, "signals.price"),
        ({"filters": {"size": 5}}, "signals.filters"),
        ({"sparkle": True}, "signals.sparkle"),
    ],
)
def test_malformed_signals_are_refused_by_path(signals: dict[str, Any], path: str) -> None:
    definition = quizzes.default_definition()
    definition["sections"][2]["questions"][2]["options"][0]["signals"] = signals
    with pytest.raises(ValidationError) as info:
        load_quiz(definition)
    assert any(key.startswith(f"sections[2].questions[2].options[0].{path}") for key in info.value.messages), (
        info.value.messages
    )


def test_price_bands_picked_together_widen_instead_of_narrowing() -> None:
    from quiz.shopping.preferences import build_preferences

    definition = quizzes.default_definition()
    options = [
        {"value": "low", "label": "Up to 50", "signals": {"price": [None, 50]}},
        {"value": "mid", "label": "50 to 100", "signals": {"price": [50, 100]}},
    ]
    definition["sections"][2]["questions"].append({"id": "bands", "type": "multi", "label": "B", "options": options})
    quiz = load_quiz(definition)
    both = build_preferences(quiz, {"bands": ["low", "mid"], "budget": [20.0, 1000.0]})
    assert (both.budget.low, both.budget.high) == (20.0, 100.0)
    one = build_preferences(quiz, {"bands": ["mid"]})
    assert (one.budget.low, one.budget.high) == (50.0, 100.0)
