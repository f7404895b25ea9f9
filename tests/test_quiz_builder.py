"""The quiz builder: the quiz as forms, round trips with the YAML editor, suggestions, edits, publishing."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from quiz.merchants import accounts
from quiz.models import AdminUser, Merchant, QuizDefinition
from quiz.platform.db import get_session, transaction
from quiz.quizzes.text import parse_definition_text

from .conftest import csrf_token
from .test_admin import PASSWORD, log_in


class FormFields(HTMLParser):
    """The fields a browser would send for the builder form (no button), in document order."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._textarea: str | None = None
        self._select: str | None = None
        self._text: list[str] = []
        self._first_option: str | None = None
        self._selected = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit",):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((name, a.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []
        elif tag == "select" and name:
            self._select, self._first_option, self._selected = name, None, False
        elif tag == "option" and self._select:
            if self._first_option is None:
                self._first_option = a.get("value", "")
            if "selected" in a:
                self.fields.append((self._select, a.get("value", "")))
                self._selected = True

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, "".join(self._text).removeprefix("\n")))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            if not self._selected and self._first_option is not None:
                self.fields.append((self._select, self._first_option))
            self._select = None
        elif tag == "form":
            self.inside = False


def fields_of(page: str, form_id: str = "builder") -> list[tuple[str, str]]:
    parser = FormFields(form_id)
    parser.feed(page)
    return parser.fields


def press(client: FlaskClient, page: str, action: str, change: dict[str, Any] | None = None) -> Any:
    """Post the builder as a browser would with one button pressed; ``change`` replaces field values."""
    data = [(k, v) for k, v in fields_of(page) if k not in (change or {})]
    for key, value in (change or {}).items():
        for one in value if isinstance(value, list) else [value]:
            data.append((key, one))
    data.append(("action", action))
    return client.post("/admin/quiz/builder", data=MultiDict(data))


DEMO_ADMIN = "builder@demo.test"


def demo_admin(app: Flask) -> str:
    """Return the email of an admin of the demo shop (whose catalog is indexed), creating it once."""
    with app.app_context(), transaction():
        session = get_session()
        if session.scalar(sa.select(AdminUser).where(AdminUser.email == DEMO_ADMIN)) is None:
            merchant = session.scalar(sa.select(Merchant).where(Merchant.slug == "demo"))
            accounts.create_admin(merchant, DEMO_ADMIN, PASSWORD)
    return DEMO_ADMIN


def builder_page(app: Flask, client: FlaskClient) -> str:
    assert log_in(client, demo_admin(app)).status_code == 302
    page = client.get("/admin/quiz/builder")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_the_live_quiz_round_trips_through_the_builder_unchanged(app: Flask, client: FlaskClient) -> None:
    page = builder_page(app, client)
    with app.app_context():
        live = get_session().scalar(
            sa.select(QuizDefinition.definition)
            .join(Merchant)
            .where(Merchant.slug == "demo")
            .order_by(QuizDefinition.version.desc())
            .limit(1)
        )
    response = press(client, page, "yaml")
    assert response.status_code == 200
    text = html.unescape(response.get_data(as_text=True))
    shown = text.split('id="quiz-definition"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]
    assert parse_definition_text(shown) == live
    # And back: the YAML opened in the builder, saved unchanged, is the same definition again.
    back = client.post(
        "/admin/quiz/builder", data={"csrf_token": csrf_token(text), "definition": shown, "action": "from_yaml"}
    )
    assert back.status_code == 200
    again = press(client, back.get_data(as_text=True), "yaml")
    text = html.unescape(again.get_data(as_text=True))
    assert text.split('id="quiz-definition"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0].strip() == shown.strip()


def _field(page: str, name: str) -> str:
    return dict(fields_of(page))[name]


def test_buttons_add_move_duplicate_and_delete_without_javascript(app: Flask, client: FlaskClient) -> None:
    page = builder_page(app, client)
    first = _field(page, "s0.q1.label.en")
    second = _field(page, "s0.q2.label.en")
    moved = press(client, page, "down:0:1")
    assert moved.status_code == 200
    page = moved.get_data(as_text=True)
    assert "Question moved down to position 3." in page
    assert (_field(page, "s0.q1.label.en"), _field(page, "s0.q2.label.en")) == (second, first)
    page = press(client, page, "duplicate:0:2").get_data(as_text=True)
    assert _field(page, "s0.q3.label.en") == first and _field(page, "s0.q3.id") == "age_band_copy_1"
    page = press(client, page, "delete:0:3").get_data(as_text=True)
    assert "Question 4 deleted." in page and _field(page, "s0.q3.label.en") != first
    page = press(client, page, "add_option:0:2").get_data(as_text=True)
    count = sum(1 for name, _ in fields_of(page) if name.startswith("s0.q2.o") and name.endswith(".raw"))
    assert "Answer 10 added." in page and count == 10
    missing = press(client, page, "up:9:9")
    assert missing.status_code == 422 and "no longer in the quiz" in missing.get_data(as_text=True)


def test_suggestions_are_accepted_one_by_one_or_per_question_and_dismissed(app: Flask, client: FlaskClient) -> None:
    page = builder_page(app, client)
    page = press(client, page, "start_empty").get_data(as_text=True)
    labels = {"s0.q0.o0.label.en": "Shoes and boots", "s0.q0.o1.label.en": "Fitness and yoga"}
    page = press(client, page, "add_option:0:0", {"s0.q0.o0.label.en": "Shoes and boots"}).get_data(as_text=True)
    page = press(client, page, "preview", labels).get_data(as_text=True)
    assert 'value="accept:0:0:0:category=Footwear"' in page
    assert 'value="accept:0:0:1:category=Fitness &amp; Yoga"' in page
    page = press(client, page, "dismiss:0:0:1:category=Fitness & Yoga").get_data(as_text=True)
    assert "accept:0:0:1:category=Fitness" not in page and "Suggestion dismissed." in page
    page = press(client, page, "accept_all:0:0").get_data(as_text=True)
    assert "1 suggestion accepted" in page
    ticked = [value for name, value in fields_of(page) if name.endswith(".categories")]
    assert ticked == ["Footwear"]
    assert "Shows only Footwear." in html.unescape(page)


def test_problems_are_shown_by_the_field_and_nothing_is_published(app: Flask, client: FlaskClient) -> None:
    page = builder_page(app, client)
    response = press(client, page, "publish", {"s0.q1.label.en": "", "s0.q1.label.es": "", "s1.q0.id": "Bad Id"})
    assert response.status_code == 422
    text = html.unescape(response.get_data(as_text=True))
    assert "2 problems to fix before publishing; your live quiz is unchanged." in text
    assert '<a href="#s0-q1">Section 1, question 2 (label)</a>' in text
    assert 'id="s0-q1-label-error"' in text and 'aria-invalid="true"' in text
    assert "Use lowercase letters, digits and _ (max 64)." in text
    with app.app_context():
        versions = get_session().scalar(
            sa.select(sa.func.count()).select_from(QuizDefinition).join(Merchant).where(Merchant.slug == "demo")
        )
    assert versions == 1


def test_publishing_asks_first_then_shoppers_get_both_languages(app: Flask, client: FlaskClient) -> None:
    page = builder_page(app, client)
    change = {"s1.q0.label.en": "Why are you here today?", "s1.q0.label.es": "¿Por qué vienes hoy?"}
    asked = press(client, page, "publish", change)
    text = html.unescape(asked.get_data(as_text=True))
    assert asked.status_code == 200 and "Publish this quiz?" in text
    assert "will no longer follow your catalog" in text
    assert client.get("/api/v1/m/demo/quiz").json["sections"][1]["questions"][0]["label"] == "What are you here for?"
    done = press(client, asked.get_data(as_text=True), "publish_confirmed")
    assert done.status_code == 302
    assert "Version 2 is live" in html.unescape(client.get(done.headers["Location"]).get_data(as_text=True))
    assert client.get("/api/v1/m/demo/quiz").json["sections"][1]["questions"][0]["label"] == "Why are you here today?"
    spanish = client.get("/api/v1/m/demo/quiz", headers={"Accept-Language": "es"}).json
    assert spanish["sections"][1]["questions"][0]["label"] == "¿Por qué vienes hoy?"


def test_yaml_that_cannot_be_read_stays_in_the_editor(app: Flask, client: FlaskClient) -> None:
    page = builder_page(app, client)
    response = client.post(
        "/admin/quiz/builder", data={"csrf_token": csrf_token(page), "definition": "id: [", "action": "from_yaml"}
    )
    assert response.status_code == 422
    text = html.unescape(response.get_data(as_text=True))
    assert "The definition is not valid YAML or JSON" in text and 'id="quiz-definition"' in text


def test_a_picture_choice_shows_its_picture_and_keeps_its_words(app: Flask, client: FlaskClient) -> None:
    page = builder_page(app, client)
    bad = press(client, page, "check", {"s0.q1.o1.image": "javascript:alert(1)"})
    assert bad.status_code == 422
    assert "Give an https:// address or a path starting with /." in html.unescape(bad.get_data(as_text=True))
    shown = press(client, page, "preview", {"s0.q1.o1.image": "/static/demo/footwear.svg"})
    text = shown.get_data(as_text=True)
    assert shown.status_code == 200 and 'class="options picture-options"' in text
    picture = re.search(
        r'<label for="([^"]+)"><img src="/static/demo/footwear.svg" alt=""[^>]*><span>([^<]+)</span>', text
    )
    assert picture and picture.group(2) == "Under 16"  # the words stay the label's accessible name
    assert f'id="{picture.group(1)}"' in text
