"""The builder's fields read back into a definition: texts per language, signals, edits (no app needed)."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from quiz.quizzes import builder


def _read(fields: dict[str, str | list[str]], quiz_raw: str = '{"id": "q"}') -> dict:
    form = MultiDict({"quiz.raw": quiz_raw})
    for key, value in fields.items():
        for one in value if isinstance(value, list) else [value]:
            form.add(key, one)
    return builder.read_form(form)


def test_a_plain_text_stays_plain_until_a_second_language_is_given() -> None:
    raw = '{"value": "a", "label": "16-17"}'
    base = {"s0.raw": '{"id": "s"}', "s0.q0.raw": '{"id": "x", "type": "single"}', "s0.q0.o0.raw": raw}
    same = _read({**base, "s0.q0.o0.label.en": "16-17", "s0.q0.o0.label.es": ""})
    assert same["sections"][0]["questions"][0]["options"][0]["label"] == "16-17"
    both = _read({**base, "s0.q0.o0.label.en": "Teen", "s0.q0.o0.label.es": "Adolescente"})
    assert both["sections"][0]["questions"][0]["options"][0]["label"] == {"en": "Teen", "es": "Adolescente"}


def test_a_third_language_and_unknown_signals_survive() -> None:
    raw = (
        '{"value": "a", "label": {"en": "A", "fr": "Un", "es": "Uno"},'
        ' "signals": {"filters": {"x": "y"}, "max_age": 15}}'
    )
    base = {"s0.raw": '{"id": "s"}', "s0.q0.raw": '{"id": "x", "type": "single", "show_if": {"a": ["b", "c"]}}'}
    read = _read(
        {
            **base,
            "s0.q0.o0.raw": raw,
            "s0.q0.o0.label.en": "A2",
            "s0.q0.o0.label.es": "",
            "s0.q0.show_if": builder.KEEP_RULE,
        }
    )
    question = read["sections"][0]["questions"][0]
    assert question["show_if"] == {"a": ["b", "c"]}
    assert question["options"][0]["label"] == {"en": "A2", "fr": "Un"}
    assert question["options"][0]["signals"] == {"filters": {"x": "y"}, "max_age": 15}


def test_signals_in_plain_words_are_read_and_said() -> None:
    base = {
        "s0.raw": '{"id": "s"}',
        "s0.q0.raw": '{"id": "x", "type": "multi"}',
        "s0.q0.o0.raw": '{"value": "a", "label": "A"}',
    }
    read = _read(
        {
            **base,
            "s0.q0.o0.categories": ["Footwear", "Outerwear"],
            "s0.q0.o0.price_min": "",
            "s0.q0.o0.price_max": "80",
            "s0.q0.o0.favour": "style: eco, bold\ngender: women\nnot a pair",
            "s0.q0.o0.pin": "TS-1, TS-2",
        }
    )
    option = read["sections"][0]["questions"][0]["options"][0]
    assert option["signals"] == {
        "categories": ["Footwear", "Outerwear"],
        "pin": ["TS-1", "TS-2"],
        "price": [None, 80],
        "boost": {"style": ["eco", "bold"], "gender": "women"},
    }
    said = " ".join(builder.describe(option, "en"))
    assert "Shows only Footwear or Outerwear." in said and "up to 80" in said
    assert "Favours products whose style is eco or bold." in said and "Puts 2 chosen product(s) first." in said


def test_a_one_answer_rule_is_picked_and_changing_the_language_keeps_the_texts() -> None:
    base = {"s0.raw": '{"id": "s", "title": "Hello"}', "s0.q0.raw": '{"id": "x", "type": "text", "label": "Name"}'}
    read = _read({**base, "s0.q0.show_if": "intent=gift", "locale": "es"})
    assert read["locale"] == "es"
    assert read["sections"][0]["title"] == {"en": "Hello"}
    assert read["sections"][0]["questions"][0]["show_if"] == {"intent": "gift"}


def test_accepting_a_suggestion_adds_the_signal_once() -> None:
    option: dict = {"value": "a", "label": "A"}
    for token in ("category=Footwear", "category=Footwear", "style=eco", "style=bold"):
        builder.accept(option, token)
    assert option["signals"] == {"categories": ["Footwear"], "boost": {"style": ["eco", "bold"]}}
    assert builder.has_signal(option, "style=bold") and not builder.has_signal(option, "style=classic")
    assert builder.parse_action("accept:0:1:2:category=Bags & Packs") == builder.Action(
        "accept", (0, 1, 2), "category=Bags & Packs"
    )
