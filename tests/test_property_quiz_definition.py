"""The quiz-definition validator under hostile input: valid, or ValidationError with a message per path.

Random nested JSON/YAML structures and near-valid definitions (the default quiz with one field
broken) go to ``load_quiz``, to the editor's text reader and to ``PUT /api/v1/quiz``:

- the validator returns a Quiz or raises ValidationError whose messages are ``{path: [text]}``;
- what it accepts can be stored and served (strict JSON, and the shopper quiz endpoint answers);
- through the API never a 500, and a refused definition leaves the live version as it was.
"""

from __future__ import annotations

import copy
import json
import math
import re
from typing import Any

import yaml
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from quiz.quizzes.schema import QUESTION_TYPES, Quiz, load_quiz
from quiz.quizzes.text import parse_definition_text

from .helpers import bearer, make_merchant

TOP_FIELDS = ("id", "title", "locale", "sections")
# A dotted path as flatten_errors writes it: "sections[1].questions[0].options", "_schema", "title.en".
PATH = re.compile(r"^(_schema|[^.\[\]]+(\[\d+\])*)(\.[^.\[\]]*(\[\d+\])*)*$")


def default_definition() -> dict[str, Any]:
    from quiz.quizzes.store import default_definition as load

    return load()


leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**25), max_value=10**25),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(("", "en", "es", "single", "multi", *QUESTION_TYPES, "a" * 5000, "\x00", "Ünïcødé", "1e999")),
)
keys = st.one_of(
    st.sampled_from(("id", "title", "type", "label", "options", "value", "signals", "show_if", "min", "max", "en")),
    st.from_regex(r"\A[a-zA-Z_ -]{0,8}\Z"),  # names only: a "." or "[" in a key would make any path ambiguous
)
json_like = st.recursive(
    leaves, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5), max_leaves=25
)
questions = st.fixed_dictionaries(
    {"id": json_like, "type": st.sampled_from(QUESTION_TYPES) | json_like, "label": json_like},
    optional={"options": st.lists(st.dictionaries(keys, json_like, max_size=3), max_size=3), "show_if": json_like},
)
shaped = st.fixed_dictionaries(
    {"id": json_like, "title": json_like},
    optional={
        "locale": json_like,
        "sections": st.lists(
            st.fixed_dictionaries({"id": json_like, "title": json_like, "questions": st.lists(questions, max_size=3)}),
            max_size=3,
        ),
    },
)


def locations(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Return the path of every value inside a definition, the root excluded."""
    found: list[tuple[Any, ...]] = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        found.append((*path, key))
        found.extend(locations(child, (*path, key)))
    return found


@st.composite
def near_valid(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[Any, ...]]:
    """The default quiz with one field replaced, removed, retyped, duplicated or joined by an unknown one."""
    definition = default_definition()
    path = draw(st.sampled_from(locations(definition)))
    parent = definition
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    action = draw(st.sampled_from(("replace", "delete", "unknown", "duplicate", "stringify", "wrap")))
    if action == "replace":
        parent[last] = draw(json_like)
    elif action == "delete":
        del parent[last]
    elif action == "unknown" and isinstance(parent, dict):
        name = draw(keys.filter(lambda k: k not in parent))
        parent[name] = draw(json_like)
        path = (*path[:-1], name)
    elif action == "duplicate" and isinstance(parent, list):
        parent.append(copy.deepcopy(parent[last]))
    elif action == "stringify":
        parent[last] = json.dumps(parent[last])
    else:
        parent[last] = [parent[last]]
    return definition, path


def check_outcome(definition: Any) -> Quiz | dict[str, list[str]]:
    """Validate; assert a Quiz that can be stored, or messages keyed by readable paths."""
    try:
        quiz = load_quiz(definition)
    except ValidationError as exc:
        messages = exc.messages
        assert isinstance(messages, dict) and messages, messages
        for path, texts in messages.items():
            assert isinstance(path, str) and PATH.match(path), path
            assert isinstance(texts, list) and texts and all(isinstance(t, str) and t for t in texts), (path, texts)
        return messages
    json.dumps(definition, allow_nan=False)  # what is stored is strict JSON
    assert quiz.sections and all(s.questions for s in quiz.sections)
    return quiz


@settings(max_examples=300)
@given(definition=st.one_of(json_like, shaped))
@example(definition={"id": "q", "title": "T", "sections": [{"id": "s", "title": "S", "questions": []}]})
@example(definition={"id": "q", "title": {"en": "T"}, "locale": "es", "sections": "x"})
def test_random_structures_are_valid_or_refused_by_path(definition: Any) -> None:
    check_outcome(definition)


@settings(max_examples=300)
@given(case=near_valid())
def test_a_definition_with_one_field_broken_is_refused_at_that_field(
    case: tuple[dict[str, Any], tuple[Any, ...]],
) -> None:
    definition, broken = case
    outcome = check_outcome(definition)
    event("refused" if isinstance(outcome, dict) else "valid")
    if isinstance(outcome, dict):
        top = str(broken[0])
        heads = {re.split(r"[.\[]", path, maxsplit=1)[0] for path in outcome}
        assert top in heads or "_schema" in heads, (broken, outcome)


def test_nan_in_a_free_form_value_is_refused_not_stored() -> None:
    definition = default_definition()
    definition["sections"][1]["questions"][1]["show_if"] = {"intent": math.nan}
    messages = check_outcome(definition)
    assert isinstance(messages, dict) and "NaN" in messages["_schema"][0]


# --- the editor's text reader -------------------------------------------------------------------

YAML_HAZARDS = (
    "a: &x 1\nb: *x\n",
    "!!python/object/apply:os.system ['true']\n",
    "id: q\nid: r\n",
    "when: 2024-01-01\n",
    "n: .nan\n",
    "? [a, b]\n: c\n",
    "{",
    "- a\n- b\n",
    "\t- tab\n",
    "id: q\ntitle: " + "[" * 2000,
    '{"id": "q", "id": "r"}',
    '{"a": ' * 3000 + "1" + "}" * 3000,
    "n: 1" + "0" * 5000,
    "",
)


@settings(max_examples=150)
@given(text=st.one_of(st.sampled_from(YAML_HAZARDS), st.text(max_size=300), near_valid().map(lambda c: c[0])))
def test_definition_text_is_parsed_or_refused_in_one_sentence(text: Any) -> None:
    if isinstance(text, dict):
        text = yaml.safe_dump(text, sort_keys=False, allow_unicode=True)
    try:
        data = parse_definition_text(text)
    except ValueError as exc:
        assert str(exc) and len(str(exc)) < 1000
        return
    assert isinstance(data, dict)
    json.dumps(data, allow_nan=False)
    check_outcome(data)


# --- through PUT /api/v1/quiz -------------------------------------------------------------------


def shop(app: Flask) -> tuple[str, str]:
    """Return the slug and API key of this test's merchant (made once per app)."""
    made: dict[str, str] = app.extensions.setdefault("tests.quiz_shop", {})
    if not made:
        made["key"] = make_merchant(app, "propquiz").api_key
    return "propquiz", made["key"]


MINIMAL = {
    "id": "mini",
    "title": "Mini",
    "sections": [{"id": "s", "title": "S", "questions": [{"id": "q", "type": "text", "label": "Q"}]}],
}


@settings(max_examples=40)
@given(
    body=st.one_of(
        near_valid().map(lambda c: {"definition": c[0]}), near_valid().map(lambda c: c[0]), json_like, shaped
    )
)
@example(body={"definition": MINIMAL})  # accepted: the version moves on and shoppers get it
@example(body=MINIMAL)  # the definition itself as the body
def test_put_quiz_never_500_and_a_refusal_changes_nothing(app: Flask, client: FlaskClient, body: Any) -> None:
    slug, key = shop(app)
    before = client.get("/api/v1/quiz", headers=bearer(key)).json
    response = client.put("/api/v1/quiz", json=body, headers=bearer(key))
    assert response.status_code in (200, 400, 422), response.get_data(as_text=True)[:500]
    event(f"PUT /api/v1/quiz {response.status_code}")
    after = client.get("/api/v1/quiz", headers=bearer(key)).json
    if response.status_code != 200:
        error = response.json
        assert error["error"] and isinstance(error["fields"], dict)
        if response.status_code == 422:
            assert error["fields"] and all(PATH.match(path) for path in error["fields"]), error
        assert after == before, "a refused definition leaves the live quiz as it was"
        return
    assert after["version"] == before["version"] + 1 == response.json["version"]
    shown = client.get(f"/api/v1/m/{slug}/quiz")
    assert shown.status_code == 200, shown.get_data(as_text=True)[:500]
    json.loads(shown.get_data(as_text=True))  # strict JSON: no NaN or Infinity reached a shopper


def test_put_quiz_with_nan_is_422_and_keeps_the_live_version(app: Flask, client: FlaskClient) -> None:
    _, key = shop(app)
    definition = default_definition()
    definition["sections"][1]["questions"][1]["show_if"] = {"intent": math.inf}
    response = client.put("/api/v1/quiz", json={"definition": definition}, headers=bearer(key))
    assert response.status_code == 422 and "_schema" in response.json["fields"]
    assert client.get("/api/v1/quiz", headers=bearer(key)).json["version"] == 1
