"""Merchants write their own explainer; a purpose whose words change is asked again, alone."""

from __future__ import annotations

import copy
import re

import sqlalchemy as sa
import yaml
from flask import Flask
from flask.testing import FlaskClient

from quiz import merchants
from quiz.merchants.accounts import create_admin
from quiz.models import ConsentRecord
from quiz.platform.db import get_session, transaction
from quiz.privacy.explainer import default_content, explainer_for, save_version

from .conftest import csrf_token
from .test_admin import log_in
from .test_shopper_pages import decide


def admin(app: Flask, client: FlaskClient) -> None:
    with app.app_context(), transaction():
        create_admin(merchants.get_by_slug("demo"), "explainer@demo.example", "correct horse battery")
    log_in(client, "explainer@demo.example")


def publish(app: Flask, change: dict[str, str]) -> str:
    """Save the default text with some purposes' 'why' changed (in every language); return the version."""
    content = copy.deepcopy(default_content())
    for data in content.values():
        for purpose in data["purposes"]:
            if purpose["key"] in change:
                purpose["why"] = change[purpose["key"]]
    with app.app_context(), transaction():
        return save_version(merchants.get_by_slug("demo"), content).version


def test_the_admin_edits_the_explainer_as_a_new_version(app: Flask, client: FlaskClient) -> None:
    admin(app, client)
    page = client.get("/admin/explainer").get_data(as_text=True)
    text = re.search(r'<textarea[^>]*id="explainer-content"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    import html

    content = yaml.safe_load(html.unescape(text))
    assert set(content) == {"en", "es"} and "default text is live" in page
    broken = copy.deepcopy(content)
    broken["en"]["intro"] = "Welcome to {shop}"
    broken["es"]["purposes"].reverse()
    del broken["en"]["title"]
    response = client.post("/admin/explainer", data={"csrf_token": csrf_token(page), "content": yaml.safe_dump(broken)})
    body = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    for message in ("en.intro: Use only the placeholders", "es.purposes: List the purposes", "en.title: "):
        assert message in body, message
    content["en"]["purposes"][2]["why"] = "Send me one email a month with picks for me."
    saved = client.post("/admin/explainer", data={"csrf_token": csrf_token(page), "content": yaml.safe_dump(content)})
    assert saved.status_code == 302
    assert "Your version m1 is live." in client.get("/admin/explainer").get_data(as_text=True)
    shopper = app.test_client()
    explainer_page = shopper.get("/").get_data(as_text=True)
    assert "Send me one email a month with picks for me." in explainer_page
    assert 'data-explainer-version="m1"' in explainer_page
    decide(shopper, "accept_all")
    with app.app_context():
        record = get_session().scalars(sa.select(ConsentRecord)).one()
    assert record.explainer_version == "m1"
    assert record.text_sha256 != explainer_for("Trailhead Supply Co.", 24).sha256, "the merchant's text is hashed"


def test_only_a_purpose_whose_words_changed_is_asked_again(app: Flask, client: FlaskClient) -> None:
    everything = app.test_client()
    decide(everything, "accept_all")
    nothing_more = app.test_client()
    decide(nothing_more, "necessary_only")
    publish(app, {"email": "Send me a weekly newsletter."})

    again = everything.get("/m/demo/quiz/about")
    assert again.status_code == 302 and again.headers["Location"].endswith("/m/demo/consent/again")
    page = everything.get("/m/demo/consent/again").get_data(as_text=True)
    assert "Send me a weekly newsletter." in page and 'id="again-email"' in page
    assert 'id="again-profile"' not in page and 'id="again-sms"' not in page, "unchanged purposes are not asked"
    assert "checked" not in page
    done = everything.post("/m/demo/consent/again", data={"csrf_token": csrf_token(page)})
    assert done.status_code == 302 and done.headers["Location"].endswith("/m/demo/quiz/about")
    with app.app_context():
        newest = get_session().scalars(sa.select(ConsentRecord).order_by(ConsentRecord.id.desc())).first()
    assert newest.action == "change" and newest.explainer_version == "m1"
    assert newest.purposes == {"recommendations": True, "profile": True, "email": False, "sms": True}
    assert everything.get("/m/demo/quiz/about").status_code == 200, "asked once"
    assert nothing_more.get("/m/demo/quiz/about").status_code == 200, "who did not allow email is not asked"

    publish(app, {"email": "Send me a weekly newsletter.", "sms": "Text me offers."})
    later = everything.get("/m/demo/quiz/about")
    assert later.headers["Location"].endswith("/consent/again"), "sms, still allowed, changed"
    page = everything.get("/m/demo/consent/again").get_data(as_text=True)
    assert 'id="again-sms"' in page and 'id="again-email"' not in page
