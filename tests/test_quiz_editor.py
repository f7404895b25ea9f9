"""The admin quiz editor: the live definition as YAML, inline errors, check, preview, publish, roll back."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from quiz import quizzes
from quiz.models import QuizDefinition
from quiz.platform.db import transaction

from .conftest import csrf_token
from .helpers import make_merchant
from .test_admin import log_in


def _editor(app: Flask, client: FlaskClient, slug: str) -> tuple[Any, str]:
    """Create a merchant, log its admin in, and return it with the editor page."""
    shop = make_merchant(app, slug)
    assert log_in(client, shop.admin_email).status_code == 302
    page = client.get("/admin/quiz")
    assert page.status_code == 200
    return shop, page.get_data(as_text=True)


def _send(client: FlaskClient, page: str, text: str, button: str) -> Any:
    """Post the editor with ``text`` and one of its buttons: check, preview or publish."""
    return client.post("/admin/quiz", data={"csrf_token": csrf_token(page), "definition": text, button: "pressed"})


def _live(client: FlaskClient, slug: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/m/{slug}/quiz")
    assert response.status_code == 200
    data: dict[str, Any] = response.json
    return data


def _text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def _edited(change: Callable[[dict[str, Any]], Any]) -> str:
    definition = quizzes.default_definition()
    change(definition)
    return yaml.safe_dump(definition, sort_keys=False, allow_unicode=True)


def _question(definition: dict[str, Any], section: int, question: int) -> dict[str, Any]:
    found: dict[str, Any] = definition["sections"][section]["questions"][question]
    return found


def test_editor_needs_a_login(app: Flask, client: FlaskClient) -> None:
    response = client.get("/admin/quiz")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_editor_shows_the_live_definition_as_yaml(app: Flask, client: FlaskClient) -> None:
    _, page = _editor(app, client, "yamlshop")
    text = html.unescape(page)
    assert 'href="/admin/quiz"' in page
    assert "Version 1 is live" in text
    assert "id: onboarding\ntitle:\n  en: Find your gear\n  es: Encuentra tu equipo\n" in text
    assert "en: What are you looking for?" in text
    for button in ("Check", "Preview", "Publish as a new version"):
        assert f'value="{button}"' in page
    assert "Roll back to this version" not in page  # the only version is the live one


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            _edited(lambda d: _question(d, 0, 1).update(type="slider")),
            "sections[0].questions[1].type: Must be one of: single, multi, text, range, scale, boolean, country.",
        ),
        (
            _edited(lambda d: _question(d, 1, 2).update(options=[])),
            "sections[1].questions[2].options: A choice question needs at least one option.",
        ),
        (
            _edited(lambda d: _question(d, 2, 0).update(show_if={"reason": "gift"})),
            "sections[2].questions[0].show_if: 'reason' is not an earlier question.",
        ),
        ("id: broken\nsections: [\n", "The definition is not valid YAML or JSON: "),
        ("- just\n- a list\n", "The definition must be a mapping with id, title and sections at the top level."),
    ],
    ids=["unknown-type", "choice-without-options", "show-if-to-missing-question", "broken-yaml", "not-a-mapping"],
)
def test_invalid_definitions_are_shown_inline_and_change_nothing(
    app: Flask, client: FlaskClient, text: str, message: str
) -> None:
    _, page = _editor(app, client, "strict")
    before = _live(client, "strict")
    response = _send(client, page, text, "publish")
    assert response.status_code == 422
    shown = _text(response)
    assert message in shown and "the live quiz is unchanged" in shown
    assert f">\r\n{text}</textarea>" in shown  # what the merchant typed stays in the editor
    assert _live(client, "strict") == before and before["version"] == 1


def test_every_problem_is_listed_with_its_path(app: Flask, client: FlaskClient) -> None:
    _, page = _editor(app, client, "manyerrors")

    def break_twice(d: dict[str, Any]) -> None:
        _question(d, 0, 1).update(type="slider")
        _question(d, 2, 2).update(options=[])

    shown = _text(_send(client, page, _edited(break_twice), "check"))
    assert "2 problems to fix" in shown
    assert re.search(r"<li>line \d+, sections\[0\]\.questions\[1\]\.type: ", shown)
    assert re.search(r"<li>line \d+, sections\[2\]\.questions\[2\]\.options: A choice question needs at least", shown)


def test_yaml_mistakes_name_the_line_and_the_fix(app: Flask, client: FlaskClient) -> None:
    _, page = _editor(app, client, "hints")
    text = _edited(lambda d: _question(d, 1, 2)["options"][0].update(value=True)).replace("value: true", "value: yes")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "value: yes" in row)
    shown = _text(_send(client, page, text, "check"))
    assert (
        f"line {line}, sections[1].questions[2].options[0].value: Not a valid string. YAML reads yes, no, on, off, "
        'true and false as a yes/no value: put the word in quotes ("yes").'
    ) in shown
    broken = _text(_send(client, page, "id: quiz\ntitle: Note: read this\n", "check"))
    assert "(line 2, column 12): a text holding “: ” must be in quotes: put the whole text in quotes" in broken


def test_json_is_accepted_too(app: Flask, client: FlaskClient) -> None:
    _, page = _editor(app, client, "jsonshop")
    response = _send(client, page, json.dumps(quizzes.default_definition(), indent=2), "check")
    assert response.status_code == 200 and "Valid: 3 sections, 15 questions." in _text(response)


def test_check_says_valid_and_stores_nothing(app: Flask, client: FlaskClient) -> None:
    _, page = _editor(app, client, "checker")
    text = _edited(lambda d: d.update(title="Checked only"))
    response = _send(client, page, text, "check")
    assert response.status_code == 200
    shown = _text(response)
    assert "Valid: 3 sections, 15 questions." in shown and "Checked only" in shown
    assert _live(client, "checker")["version"] == 1 and _live(client, "checker")["title"] == "Find your gear"


def test_preview_shows_the_quiz_as_a_shopper_would_without_storing_it(app: Flask, client: FlaskClient) -> None:
    _, page = _editor(app, client, "previewer")

    def relabel(d: dict[str, Any]) -> None:
        _question(d, 1, 1).update(label="Which trail do you dream of?", help="A sentence is plenty.")
        # A question named like the editor's own field must not pick up the posted YAML.
        d["sections"][0]["questions"].append({"id": "definition", "type": "text", "label": "Anything else?"})

    response = _send(client, page, _edited(relabel), "preview")
    assert response.status_code == 200
    shown = response.get_data(as_text=True)
    preview = shown[shown.index('<section class="quiz-preview"') :]
    for label in ("About you", "Your intent today", "Which trail do you dream of?", "Who is the gift for?"):
        assert label in html.unescape(preview)
    assert "A sentence is plenty." in preview and "Step 3 of 3" in preview
    assert '<span class="req">(required)</span>' in preview
    assert "<fieldset disabled" in preview and "<form" not in preview
    assert '<input id="definition" maxlength="500" name="definition" type="text" value="">' in preview
    assert "Asked only when" in preview  # gift_for depends on the intent answer
    assert _live(client, "previewer")["version"] == 1


def test_publish_creates_a_version_that_shoppers_get(app: Flask, client: FlaskClient) -> None:
    _, page = _editor(app, client, "publisher")
    response = _send(client, page, _edited(lambda d: d.update(title="Our own quiz")), "publish")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/quiz"
    after = client.get("/admin/quiz").get_data(as_text=True)
    assert "Version 2 is live." in after and "title: Our own quiz" in html.unescape(after)
    assert "yours" in after and "generated" in after and after.count("Roll back to this version") == 1
    live = _live(client, "publisher")
    assert live["version"] == 2 and live["title"] == "Our own quiz"


def test_rollback_publishes_the_old_definition_as_a_new_version(app: Flask, client: FlaskClient) -> None:
    shop, page = _editor(app, client, "rollbacker")
    _send(client, page, _edited(lambda d: d.update(title="Second thoughts")), "publish")
    response = client.post("/admin/quiz/versions/1/rollback", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/quiz"
    assert "Version 1 is live again as version 3." in client.get("/admin/quiz").get_data(as_text=True)
    live = _live(client, "rollbacker")
    assert live["version"] == 3 and live["title"] == "Find your gear"
    # A repeated click adds no copy of the copy.
    client.post("/admin/quiz/versions/1/rollback", data={"csrf_token": csrf_token(page)})
    with app.app_context():
        rows = {row.version: row for row in quizzes.versions(shop.merchant)}
        assert sorted(rows) == [1, 2, 3]
        assert rows[3].definition == rows[1].definition and rows[2].definition["title"] == "Second thoughts"
        assert rows[3].origin == rows[1].origin == "default"  # the generated quiz follows the catalog again


def test_a_version_that_no_longer_validates_is_not_rolled_back(app: Flask, client: FlaskClient) -> None:
    shop, page = _editor(app, client, "outdated")
    outdated = quizzes.default_definition()
    _question(outdated, 0, 1)["type"] = "slider"
    with app.app_context(), transaction() as session:
        session.add(QuizDefinition(merchant_id=shop.merchant.id, version=2, definition=outdated, origin="merchant"))
    _send(client, page, _edited(lambda d: d.update(title="Fixed")), "publish")
    response = client.post("/admin/quiz/versions/2/rollback", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert "Version 2 no longer passes today" in html.unescape(client.get("/admin/quiz").get_data(as_text=True))
    assert _live(client, "outdated")["version"] == 3


def test_another_merchants_versions_are_out_of_reach(app: Flask, client: FlaskClient) -> None:
    _, page = _editor(app, client, "owner")
    _send(client, page, _edited(lambda d: d.update(title="Owner's secret quiz")), "publish")
    other = app.test_client()
    _, other_page = _editor(app, other, "intruder")
    assert "Owner's secret quiz" not in html.unescape(other_page) and "Roll back to this version" not in other_page
    response = other.post("/admin/quiz/versions/2/rollback", data={"csrf_token": csrf_token(other_page)})
    assert response.status_code == 404
    assert _live(client, "owner")["version"] == 2 and _live(client, "intruder")["version"] == 1


def test_posts_without_a_csrf_token_are_refused(app: Flask, client: FlaskClient) -> None:
    _, page = _editor(app, client, "csrfshop")
    text = _edited(lambda d: d.update(title="Forged"))
    assert client.post("/admin/quiz", data={"definition": text, "publish": "pressed"}).status_code == 400
    assert client.post("/admin/quiz/versions/1/rollback").status_code == 400
    assert _live(client, "csrfshop")["version"] == 1


def test_the_editor_warns_about_a_quiz_that_asks_for_no_address(app: Flask, client: FlaskClient) -> None:
    _, page = _editor(app, client, "no-address")
    assert "asks for no way to reach shoppers" not in page, "the default quiz asks for both"

    def drop_contact(d: dict[str, Any]) -> None:
        for section in d["sections"]:
            section["questions"] = [q for q in section["questions"] if q.get("role") not in ("email", "phone")]

    checked = _text(_send(client, page, _edited(drop_contact), "check"))
    assert "No question asks for an email address" in checked and "No question asks for a phone number" in checked
    _send(client, page, _edited(drop_contact), "publish")
    live = _text(client.get("/admin/quiz"))
    assert "Your live quiz asks for no way to reach shoppers" in live


def test_publish_and_rollback_say_what_changes_before_they_happen(app: Flask, client: FlaskClient) -> None:
    _, page = _editor(app, client, "confirmer")
    text = html.unescape(page)
    publish = " ".join(text.split('<details class="confirm-step">', 1)[1].split("</details>", 1)[0].split())
    assert '<summary class="button primary">Publish…</summary>' in publish
    assert "Shoppers who start the quiz from now on get this version" in publish
    assert "will no longer follow your catalog" in publish and 'value="Publish as a new version"' in publish
    published = _send(client, page, _edited(lambda d: d.update(title="Mine")), "publish")
    assert published.status_code == 302
    after = html.unescape(client.get("/admin/quiz").get_data(as_text=True))
    rollback = " ".join(after.split("Roll back to this version", 1)[1].split("</details>", 1)[0].split())
    assert "get version 1's questions again, published as a new version; version 2 stays in the history" in rollback
    assert "Yes, roll back to version 1" in rollback
    assert "will no longer follow your catalog" not in after.split("Versions", 1)[0]  # the live quiz is yours now


def test_a_missing_translation_is_a_warning_before_publish(app: Flask, client: FlaskClient) -> None:
    _, page = _editor(app, client, "translator")
    assert "without a translation" not in page, "the default quiz has both languages"

    def english_only(d: dict[str, Any]) -> None:
        _question(d, 1, 1)["label"] = {"en": "Which trail do you dream of?"}

    checked = " ".join(_text(_send(client, page, _edited(english_only), "check")).split())
    assert "1 text without a translation" in checked and "Section 2, question 2: question (Spanish)" in checked
    confirm = checked.split('<details class="confirm-step">', 1)[1].split("</details>", 1)[0]
    assert "1 text has no translation yet" in confirm, "the publish step says so before publishing"
    published = _send(client, page, _edited(english_only), "publish")
    assert published.status_code == 302, "a warning, not a refusal"
    after = _text(client.get("/admin/quiz"))
    assert "Version 2 is live. 1 text still has no translation: Section 2, question 2: question (Spanish)." in after
