"""The server-rendered flow without JavaScript: explainer, consent, sections, results, privacy."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import re
from html.parser import HTMLParser

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from quiz.demo.shop import demo_records
from quiz.models import ConsentRecord, Profile
from quiz.platform.db import get_session
from quiz.privacy.explainer import explainer_for

from .conftest import csrf_token
from .helpers import NEED

ABOUT = {"first_name": "Ada", "age_band": "25-34", "gender": "woman", "country": "DE"}
INTENT = {"intent": "myself", "looking_for": NEED, "timing": "this_week"}
PREFERENCES = {
    "categories": ["any"],
    "styles": ["technical"],
    "budget-low": "0",
    "budget-high": "1000",
    "shopping_style": "no_preference",
    "channels": ["email"],
}


def decide(client: FlaskClient, button: str, **ticks: str) -> str:
    """Submit the explainer form with one of its three buttons; return where it redirects."""
    page = client.get("/").get_data(as_text=True)
    version = re.search(r'name="explainer_version" type="hidden" value="([^"]+)"', page).group(1)
    data = {"csrf_token": csrf_token(page), "explainer_version": version, button: "1", **ticks}
    response = client.post("/m/demo/consent", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response.headers["Location"]


def answer(client: FlaskClient, section: str, data: dict[str, object]):
    page = client.get(f"/m/demo/quiz/{section}").get_data(as_text=True)
    return client.post(f"/m/demo/quiz/{section}", data={"csrf_token": csrf_token(page), **data})


def privacy_link_after_quiz(client: FlaskClient, intent: dict[str, object] = INTENT) -> str:
    """Accept all, answer every section, and return the privacy link shown with the results."""
    decide(client, "accept_all")
    answer(client, "about", ABOUT)
    answer(client, "intent", intent)
    answer(client, "preferences", PREFERENCES)
    results = client.get("/m/demo/results").get_data(as_text=True)
    return re.search(r'href="(/privacy/[^"]+)"', results).group(1)


def test_explainer_says_what_why_how_long_who_and_how_to_withdraw(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    same = client.get("/m/demo/").get_data(as_text=True)
    # The same page, but for the CSRF token and the language links, which point at the page's own path.
    assert same.replace(csrf_token(same), "").replace('href="/m/demo/?', 'href="/?') == page.replace(
        csrf_token(page), ""
    )
    for phrase in (
        "What we collect",
        "age band",
        "Why",
        "How long we keep it",
        "24 months",
        "Who can see it",
        "never sold",
        "profiling",
        "Article 13",
        "withdraw",
        "download",
    ):
        assert phrase in page, phrase
    for purpose in ("Recommendations", "Keep my profile", "Email", "SMS"):
        assert purpose in page
    ticked = re.findall(r"<input[^>]*\bchecked\b[^>]*>", page)
    assert len(ticked) == 1 and 'id="purpose-recommendations"' in ticked[0], "nothing may be pre-ticked"
    assert "disabled" in ticked[0] and "name=" not in ticked[0], "but recommendations, shown on and locked"
    buttons = re.findall(r'<input class="choice"[^>]*value="([^"]+)"', page)
    assert buttons == ["Accept all", "Only what&#39;s needed", "Save my choices"]


def test_quiz_pages_without_a_decision_go_to_the_explainer(client: FlaskClient) -> None:
    for path in ("/m/demo/quiz/about", "/m/demo/quiz/preferences", "/m/demo/results", "/m/demo/consent/again"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/m/demo/"), path
    token = csrf_token(client.get("/m/demo/").get_data(as_text=True))
    for path in ("/m/demo/saved/email", "/m/demo/results/email"):  # the contact forms, posted with a valid form
        response = client.post(path, data={"csrf_token": token, "email": "ada@example.com"})
        assert response.status_code == 302 and response.headers["Location"].endswith("/m/demo/"), path
    assert "Please make a choice about your data first." in client.get("/m/demo/").get_data(as_text=True)


def test_each_button_records_its_decision_with_the_text_hash(app: Flask, client: FlaskClient) -> None:
    assert decide(client, "accept_all").endswith("/m/demo/quiz/about")
    decide(client, "necessary_only")
    decide(client, "save_choices", profile="y", sms="y")
    explainer = explainer_for("Trailhead Supply Co.", 24)
    with app.app_context():
        records = get_session().scalars(sa.select(ConsentRecord).order_by(ConsentRecord.id)).all()
    assert [r.purposes for r in records] == [
        {"recommendations": True, "profile": True, "email": True, "sms": True},
        {"recommendations": True, "profile": False, "email": False, "sms": False},
        {"recommendations": True, "profile": True, "email": False, "sms": True},
    ]
    assert {(r.text_sha256, r.explainer_version, r.source) for r in records} == {
        (explainer.sha256, explainer.version, "site")
    }


def test_consent_without_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    response = client.post("/m/demo/consent", data={"accept_all": "1"})
    assert response.status_code == 400
    with app.app_context():
        assert get_session().scalar(sa.select(sa.func.count()).select_from(ConsentRecord)) == 0


def test_the_whole_flow_stores_a_profile_when_allowed(app: Flask, client: FlaskClient) -> None:
    decide(client, "accept_all")
    page = client.get("/m/demo/quiz/about").get_data(as_text=True)
    assert "Step 1 of 3" in page and "<progress" in page
    assert answer(client, "about", ABOUT).headers["Location"].endswith("/quiz/intent")
    intent_page = client.get("/m/demo/quiz/intent").get_data(as_text=True)
    assert 'href="/m/demo/quiz/about"' in intent_page, "back button"
    assert answer(client, "intent", INTENT).headers["Location"].endswith("/quiz/preferences")
    prefs_page = client.get("/m/demo/quiz/preferences").get_data(as_text=True)
    assert "Who is the gift for?" not in prefs_page, "gift question is hidden unless buying a gift"
    finished = answer(client, "preferences", PREFERENCES)
    assert finished.headers["Location"].endswith("/m/demo/results")
    results = client.get("/m/demo/results").get_data(as_text=True)
    assert results.count('class="card"') == 12
    assert "matches: " in results and "/privacy/" in results
    with app.app_context():
        profile = get_session().scalars(sa.select(Profile)).one()
    assert profile.answers["looking_for"] == NEED
    assert profile.answers["budget"] == [0.0, 1000.0]


def test_without_profile_consent_nothing_but_the_decision_is_kept(app: Flask, client: FlaskClient) -> None:
    decide(client, "necessary_only")
    answer(client, "about", ABOUT)
    answer(client, "intent", INTENT)
    answer(client, "preferences", PREFERENCES)
    assert client.get("/m/demo/results").status_code == 200
    with app.app_context():
        session = get_session()
        assert session.scalar(sa.select(sa.func.count()).select_from(Profile)) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(ConsentRecord)) == 1


def test_inline_errors_keep_what_was_typed(client: FlaskClient) -> None:
    decide(client, "accept_all")
    answer(client, "about", ABOUT)
    response = answer(client, "intent", {"intent": "", "looking_for": "x" * 501, "timing": "this_week"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This question needs an answer." in page
    assert "Keep it under 500 characters" in page
    assert re.search(r'<input checked id="timing-\d" name="timing" type="radio" value="this_week">', page)
    assert ">\r\n" + "x" * 501 + "</textarea>" in page, "what was typed is kept"
    bad_budget = answer(client, "preferences", {**PREFERENCES, "budget-low": "lots"})
    assert bad_budget.status_code == 422 and "Enter a number." in bad_budget.get_data(as_text=True)


def test_jumping_ahead_returns_to_the_first_unanswered_section(client: FlaskClient) -> None:
    decide(client, "accept_all")
    response = answer(client, "preferences", PREFERENCES)
    assert response.headers["Location"].endswith("/m/demo/quiz/about")


def test_privacy_page_shows_downloads_changes_and_deletes(app: Flask, client: FlaskClient) -> None:
    link = privacy_link_after_quiz(client)
    page = client.get(link).get_data(as_text=True)
    assert NEED in page
    download = client.get(link + "/export.json")
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.json["profile"]["answers"]["looking_for"] == NEED

    changed = client.post(
        link + "/consents", data={"csrf_token": csrf_token(page), "recommendations": "y", "profile": "y"}
    )
    assert changed.status_code == 302
    after = client.get(link).get_data(as_text=True)
    assert "You now allow: Recommendations, Keep my profile." in after
    assert client.get(link + "/export.json").json["consents"]["email"] is False

    deleted = client.post(link + "/delete", data={"csrf_token": csrf_token(after), "confirmed": "yes"})
    assert deleted.status_code == 302
    final = client.get(link).get_data(as_text=True)
    assert NEED not in final and "Nothing about you is stored here any more" in final
    with app.app_context():
        assert get_session().scalar(sa.select(sa.func.count()).select_from(Profile)) == 0


def test_forged_privacy_link_is_404(client: FlaskClient) -> None:
    assert client.get("/privacy/not-a-token").status_code == 404


class HashedText(HTMLParser):
    """Collect the text of elements marked ``data-hashed``, in page order."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[str] = []
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth:
            self.depth += 1
        elif any(name == "data-hashed" for name, _ in attrs):
            self.depth = 1
            self.blocks.append("")

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.blocks[-1] += data


def test_recorded_hash_is_of_the_text_the_page_shows(app: Flask, client: FlaskClient) -> None:
    parser = HashedText()
    parser.feed(client.get("/").get_data(as_text=True))
    shown = "\n\n".join(block.strip() for block in parser.blocks)
    assert "Trailhead Supply Co." in shown and "24 months" in shown
    decide(client, "accept_all")
    with app.app_context():
        record = get_session().scalars(sa.select(ConsentRecord)).one()
    assert record.text_sha256 == hashlib.sha256(shown.encode()).hexdigest()


def test_an_explainer_changed_mid_decision_is_shown_again(app: Flask, client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "explainer_version": "2020-01.1", "accept_all": "1"}
    response = client.post("/m/demo/consent", data=data)
    assert response.status_code == 409
    assert "changed while you were reading" in response.get_data(as_text=True)
    with app.app_context():
        assert get_session().scalar(sa.select(sa.func.count()).select_from(ConsentRecord)) == 0


def test_a_quiz_changed_mid_quiz_does_not_trap_the_shopper(app: Flask, client: FlaskClient) -> None:
    from quiz import merchants, quizzes
    from quiz.platform.db import transaction

    decide(client, "necessary_only")
    answer(client, "about", ABOUT)
    answer(client, "intent", INTENT)
    with app.app_context(), transaction():
        demo = merchants.get_by_slug("demo")
        definition = quizzes.default_definition()
        definition["sections"][1]["questions"] = [
            q for q in definition["sections"][1]["questions"] if q["id"] != "timing"
        ] + [{"id": "occasion", "type": "boolean", "label": "Is it for a special occasion?"}]
        quizzes.publish(demo, definition)
    finished = answer(client, "preferences", PREFERENCES)
    assert finished.headers["Location"].endswith("/m/demo/results")
    assert client.get("/m/demo/results").status_code == 200


def test_boolean_and_number_answers_show_on_the_privacy_page(app: Flask, client: FlaskClient) -> None:
    from quiz import merchants, quizzes
    from quiz.platform.db import transaction

    with app.app_context(), transaction():
        definition = quizzes.default_definition()
        definition["sections"][1]["questions"].append(
            {"id": "occasion", "type": "boolean", "label": "Is it for a special occasion?", "required": True}
        )
        quizzes.publish(merchants.get_by_slug("demo"), definition)
    link = privacy_link_after_quiz(client, {**INTENT, "occasion": "yes"})
    page = client.get(link)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "<dt>Is it for a special occasion?</dt>\n        <dd>yes</dd>" in text and "<dd>0–1,000</dd>" in text


def test_deleting_data_also_clears_the_answers_held_by_the_browser(client: FlaskClient) -> None:
    link = privacy_link_after_quiz(client)
    page = client.get(link).get_data(as_text=True)
    client.post(link + "/delete", data={"csrf_token": csrf_token(page), "confirmed": "yes"})
    with client.session_transaction() as cookie:
        assert NEED not in json.dumps(dict(cookie))
    assert client.get("/m/demo/results").headers["Location"].endswith("/m/demo/")


def test_pages_cannot_be_framed_and_leak_no_referrer(client: FlaskClient) -> None:
    for path in ("/", "/m/demo/quiz/about", "/privacy/x", "/api/v1/m/demo/quiz"):
        headers = client.get(path).headers
        assert headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_something_different_shows_new_products_and_alternatives_are_labelled(client: FlaskClient) -> None:
    decide(client, "necessary_only")
    answer(client, "about", ABOUT)
    answer(client, "intent", INTENT)
    answer(client, "preferences", PREFERENCES)
    titles = re.compile(r'<h2><a href="[^"]*" rel="noopener">([^<]+)</a></h2>')
    first = titles.findall(client.get("/m/demo/results").get_data(as_text=True))
    page = client.get("/m/demo/results?different=1").get_data(as_text=True)
    second = titles.findall(page)
    assert len(first) == 12 and len(second) == 12 and not set(first) & set(second)
    narrow = {**PREFERENCES, "categories": ["outerwear"], "budget-low": "0", "budget-high": "30"}
    answer(client, "preferences", narrow)
    results = client.get("/m/demo/results").get_data(as_text=True)
    assert "Close alternatives" in results and "a little over your budget" in results


def test_the_receipt_says_which_layers_of_the_notice_were_shown(client: FlaskClient) -> None:
    link = privacy_link_after_quiz(client)
    receipt = client.get(f"{link}/receipt.json").json
    first = receipt["decisions"][0]
    assert first["layers"] == {
        "layout": "layered",
        "first_layer": ["title", "intro", "purposes", "choices"],
        "one_click_away": ["sections"],
        "details_opened": None,  # posted without the page's script: not known
    }
    assert first["text_sha256"] == explainer_for("Trailhead Supply Co.", 24).sha256, "the hash is of the full text"
    page = client.get(f"{link}/receipt").get_data(as_text=True)
    assert "Shown in two layers" in page and "opened the detail" not in page


def test_the_privacy_page_names_the_products_shown_by_their_titles(client: FlaskClient) -> None:
    link = privacy_link_after_quiz(client)
    page = client.get(link).get_data(as_text=True)
    events = re.search(r'<table class="events">.*?</table>', page, re.S).group(0)
    assert "Recommended to you" in events
    assert not re.search(r"<td>TS-\d{4}</td>", events), "a shopper reads product names, not catalog ids"
    catalog = {p.external_id: p.title for p in demo_records()}
    named = re.findall(r"<td>Recommended to you</td><td>([^<]+)</td>", events)
    assert len(named) == 12 and all(html.unescape(n) in catalog.values() for n in named), named


def test_the_layers_are_stored_with_each_decision_and_older_records_stay_readable(
    app: Flask, client: FlaskClient
) -> None:
    link = privacy_link_after_quiz(client)
    with app.app_context():
        record = get_session().scalar(sa.select(ConsentRecord))
        stored = record.notice_layers
        merchant_id, subject_id = record.merchant_id, record.subject_id
        explainer = explainer_for("Trailhead Supply Co.", 24)
        old = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
        # Two records as revision 0013 left them (no layers stored), one from before the layered notice.
        for action, at in (("change", old), ("grant", old)):
            get_session().add(
                ConsentRecord(
                    merchant_id=merchant_id,
                    subject_id=subject_id,
                    action=action,
                    purposes=record.purposes,
                    explainer_version=explainer.version,
                    text_sha256=explainer.sha256,
                    locale="en",
                    source="site",
                    created_at=at,
                )
            )
        get_session().commit()
    assert stored is not None and stored["layout"] == "layered", "kept with the decision, not worked out later"
    decisions = client.get(f"{link}/receipt.json").json["decisions"]
    assert decisions[0]["layers"] == stored
    assert decisions[1]["layers"] is None, "a change on the privacy page showed no notice"
    assert decisions[2]["layers"] == {
        "layout": "single",
        "first_layer": ["title", "intro", "purposes", "choices", "sections"],
        "one_click_away": [],
        "inferred": True,
    }
    page = client.get(f"{link}/receipt").get_data(as_text=True)
    assert "Shown in two layers" in page and "Shown on one page, every section open." in page
