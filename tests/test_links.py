"""Links to a stored run ("Take the quiz again", resume) never tie a stranger's browser to someone
else's subject: a GET binds nothing, the stranger decides their own consent and confirms by a
CSRF-checked POST; after erasure a privacy link changes no consent (issue 14)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from quiz.models import ConsentRecord
from quiz.platform.db import get_session

from .conftest import csrf_token
from .helpers import full_answers, grant
from .test_resume import save_for_later
from .test_shopper_pages import ABOUT, INTENT, PREFERENCES, answer, decide, privacy_link_after_quiz
from .test_widget import PARTNER, allow, consent, fetch, framed, start, state  # noqa: F401  (fixtures)

STRANGER_NEED = "a tent for two people"


def ledger(app: Flask) -> list[tuple[str, str, dict[str, bool], str]]:
    """Return every consent record as (subject, action, purposes, source), oldest first."""
    with app.app_context():
        rows = get_session().scalars(sa.select(ConsentRecord).order_by(ConsentRecord.id)).all()
        return [(r.subject_id, r.action, dict(r.purposes), r.source) for r in rows]


def version(page: str) -> str:
    return re.search(r'name="explainer_version" type="hidden" value="([^"]+)"', page).group(1)


def confirm(client: FlaskClient, link: str, button: str = "accept_all", **ticks: str):
    """Open ``link`` in ``client``, check it asks first, and confirm with ``button``."""
    page = client.get(link)
    assert page.status_code == 200, "a stranger's browser gets the confirm step, not a redirect"
    text = page.get_data(as_text=True)
    data = {"csrf_token": csrf_token(text), "explainer_version": version(text), button: "1", **ticks}
    return client.post(link, data=data)


def is_bound(client: FlaskClient) -> bool:
    """Return whether the browser may take the demo quiz (else it is sent to the explainer)."""
    return client.get("/m/demo/quiz/about").status_code == 200


def export(client: FlaskClient, privacy_link: str) -> dict[str, Any]:
    return client.get(privacy_link + "/export.json").json


# --- "Take the quiz again" on the site -------------------------------------------------------------


def test_a_strangers_get_of_an_again_link_binds_nothing(app: Flask, client: FlaskClient) -> None:
    link = privacy_link_after_quiz(client)  # the attacker: accepted all, first name Ada
    before = ledger(app)
    victim = app.test_client()
    page = victim.get(link + "/again")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Continue a saved quiz?" in text
    assert re.search(r"a saved quiz from \w+ \d{1,2}, \d{4}, kept for Ada\.", text), "date and first name only"
    assert "lightweight waterproof jacket" not in text, "no answer is shown to whoever opens the link"
    ticked = re.findall(r"<input[^>]*\bchecked\b[^>]*>", text)
    assert "Before you start" in text, "the explainer"
    assert len(ticked) == 1 and 'id="purpose-recommendations"' in ticked[0], "nothing pre-ticked but the locked one"
    assert ledger(app) == before and not is_bound(victim)

    # What the victim then types goes to a subject of their own, never into the attacker's profile.
    decide(victim, "accept_all")
    answer(victim, "about", ABOUT)
    answer(victim, "intent", {**INTENT, "looking_for": STRANGER_NEED})
    answer(victim, "preferences", PREFERENCES)
    assert STRANGER_NEED not in str(export(client, link))


def test_the_confirm_post_needs_its_csrf_token(app: Flask, client: FlaskClient) -> None:
    link = privacy_link_after_quiz(client)
    before = ledger(app)
    victim = app.test_client()
    text = victim.get(link + "/again").get_data(as_text=True)
    forged = victim.post(link + "/again", data={"explainer_version": version(text), "accept_all": "1"})
    assert forged.status_code == 400
    assert ledger(app) == before and not is_bound(victim)


def test_confirming_continues_the_saved_run_with_the_shoppers_own_decision(app: Flask, client: FlaskClient) -> None:
    link = privacy_link_after_quiz(client)
    subject = ledger(app)[-1][0]
    other = app.test_client()  # the owner on another device, or whoever they gave the link to
    confirmed = confirm(other, link + "/again", "save_choices", profile="y")
    assert confirmed.status_code == 302 and confirmed.headers["Location"].endswith("/m/demo/quiz/intent")
    page = other.get("/m/demo/quiz/intent").get_data(as_text=True)
    assert "Welcome back" in page and "lightweight waterproof jacket for hiking" in page
    purposes = {"recommendations": True, "profile": True, "email": False, "sms": False}
    assert ledger(app)[-1] == (subject, "grant", purposes, "site"), "their own choice, not the accept-all"


def test_refusing_the_profile_on_the_confirm_step_deletes_it(app: Flask, client: FlaskClient) -> None:
    link = privacy_link_after_quiz(client)
    confirmed = confirm(app.test_client(), link + "/again", "necessary_only")
    assert confirmed.headers["Location"].endswith("/m/demo/quiz/about"), "nothing kept to fill in"
    assert export(client, link)["profile"] is None


def test_the_browser_that_is_the_subject_keeps_one_click(app: Flask, client: FlaskClient) -> None:
    link = privacy_link_after_quiz(client)
    before = ledger(app)
    again = client.get(link + "/again")
    assert again.status_code == 302 and again.headers["Location"].endswith("/m/demo/quiz/intent")
    assert ledger(app) == before, "no new decision asked of the shopper who is already in"


# --- resume links ----------------------------------------------------------------------------------


def test_a_strangers_get_of_a_resume_link_binds_nothing(app: Flask, client: FlaskClient) -> None:
    link = save_for_later(client)  # necessary only: no profile, so no first name to show
    with client.session_transaction() as cookie:
        token = cookie["attune.quiz"]["demo"]["token"]
    before = ledger(app)
    victim = app.test_client()
    text = victim.get(link).get_data(as_text=True)
    assert re.search(r"This link continues a saved quiz from \w+ \d{1,2}, \d{4}\.", text)
    assert "lightweight waterproof jacket" not in text
    no_csrf = victim.post(link, data={"explainer_version": version(text), "accept_all": "1"})
    assert no_csrf.status_code == 400
    assert ledger(app) == before and not is_bound(victim)
    decide(victim, "accept_all")
    answer(victim, "about", ABOUT)
    answer(victim, "intent", {**INTENT, "looking_for": STRANGER_NEED})
    me = client.get("/api/v1/me", headers={"Authorization": "Bearer " + token}).json
    assert STRANGER_NEED not in str(me), "nothing the stranger typed reaches the link owner's data"


def test_a_confirmed_resume_records_the_decision_under_the_saved_subject(app: Flask, client: FlaskClient) -> None:
    link = save_for_later(client)
    subject = ledger(app)[-1][0]
    other = app.test_client()
    resumed = confirm(other, link, "save_choices", sms="y")
    assert resumed.status_code == 302 and resumed.headers["Location"].endswith("/m/demo/quiz/preferences")
    purposes = {"recommendations": True, "profile": False, "email": False, "sms": True}
    assert ledger(app)[-1] == (subject, "grant", purposes, "site")
    assert client.get(link).status_code == 302, "the browser that saved it resumes in one click"


# --- after erasure ---------------------------------------------------------------------------------


def test_consent_cannot_be_granted_again_through_the_api_after_erasure(app: Flask, client: FlaskClient) -> None:
    auth = grant(client, profile=True)
    client.post("/api/v1/m/demo/responses", json={"answers": full_answers()}, headers=auth)
    assert client.delete("/api/v1/me", headers=auth).status_code == 204
    before = ledger(app)
    regrant = client.patch(
        "/api/v1/me/consents", json={"purposes": {"recommendations": True, "profile": True}}, headers=auth
    )
    assert regrant.status_code == 410
    assert regrant.json == {
        "error": "This subject's data was erased and every consent withdrawn: its token can no longer grant "
        "consent. Start afresh with POST /api/v1/m/demo/consents.",
        "fields": {},
    }
    assert ledger(app) == before
    assert not any(client.get("/api/v1/me", headers=auth).json["consents"].values())


@pytest.mark.parametrize("erase", ["page", "api"])
def test_the_privacy_page_changes_nothing_after_erasure(app: Flask, client: FlaskClient, erase: str) -> None:
    link = privacy_link_after_quiz(client)
    page = client.get(link).get_data(as_text=True)
    if erase == "page":
        client.post(link + "/delete", data={"csrf_token": csrf_token(page), "confirmed": "yes"})
    else:
        with client.session_transaction() as cookie:
            token = cookie["attune.quiz"]["demo"]["token"]
        client.delete("/api/v1/me", headers={"Authorization": "Bearer " + token})
    before = ledger(app)
    after = client.get(link).get_data(as_text=True)
    assert "this link can no longer change your choices" in after
    assert 'id="change-profile"' not in after and "/again" not in after, "no consent form, no way back in"
    changed = client.post(link + "/consents", data={"csrf_token": csrf_token(page), "recommendations": "y"})
    assert changed.status_code == 410 and "can no longer change your choices" in changed.get_data(as_text=True)
    again = app.test_client().get(link + "/again")
    assert again.status_code == 302 and again.headers["Location"].endswith(link)
    assert ledger(app) == before


def test_a_confirm_step_left_open_while_the_owner_erases_binds_nothing(app: Flask, client: FlaskClient) -> None:
    link = privacy_link_after_quiz(client)
    other = app.test_client()
    text = other.get(link + "/again").get_data(as_text=True)
    page = client.get(link).get_data(as_text=True)
    # The owner erases meanwhile.
    client.post(link + "/delete", data={"csrf_token": csrf_token(page), "confirmed": "yes"})
    before = ledger(app)
    data = {"csrf_token": csrf_token(text), "explainer_version": version(text), "accept_all": "1"}
    late = other.post(link + "/again", data=data)
    assert late.status_code == 302 and not is_bound(other)
    assert ledger(app) == before, "an erased subject is granted nothing again"


# --- in the widget ---------------------------------------------------------------------------------


def finish_in_widget(client: FlaskClient) -> str:
    """Take the whole quiz in a widget run; return the privacy link of its results (with the run's state)."""
    page = start(client)
    page = fetch(client, consent(client, page).headers["Location"]).get_data(as_text=True)
    for section, answers in (("about", ABOUT), ("intent", INTENT), ("preferences", PREFERENCES)):
        data = {"csrf_token": csrf_token(page), "state": state(page), **answers}
        page = fetch(client, fetch(client, f"/w/demo/quiz/{section}", data).headers["Location"]).get_data(as_text=True)
    return re.search(r'href="(/w/privacy/[^"]+)"', page).group(1).replace("&amp;", "&")


def test_an_again_link_in_another_widget_run_asks_first(app: Flask, framed: FlaskClient, allow: Any) -> None:  # noqa: F811
    owners = finish_in_widget(framed)
    token = owners.split("/")[3].split("?")[0]
    subject = ledger(app)[-1][0]
    one_click = fetch(framed, owners.replace(f"/w/privacy/{token}?", f"/w/privacy/{token}/again?"))
    assert one_click.status_code == 302 and "/w/demo/quiz/intent" in one_click.headers["Location"]
    before = ledger(app)

    strangers = state(start(framed))  # another run on the partner site
    link = f"/w/privacy/{token}/again?state={strangers}&lang=en"
    page = fetch(framed, link)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Continue a saved quiz?" in text and "kept for Ada" in text
    unbound = fetch(framed, f"/w/demo/quiz/about?state={state(text)}")
    assert unbound.status_code == 302 and "/w/demo/?" in unbound.headers["Location"], "the GET bound nothing"

    base = {"explainer_version": version(text), "necessary_only": "1", "state": state(text)}
    assert fetch(framed, link, base).status_code == 400, "no CSRF token"
    owners_page = fetch(framed, owners).get_data(as_text=True)
    foreign = fetch(framed, link, {**base, "csrf_token": csrf_token(owners_page)})
    assert foreign.status_code == 400, "a form token of another run"
    assert ledger(app) == before

    confirmed = fetch(framed, link, {**base, "csrf_token": csrf_token(text)})
    assert confirmed.status_code == 302 and "/w/demo/quiz/about" in confirmed.headers["Location"]
    with app.app_context():
        record = get_session().scalars(sa.select(ConsentRecord).order_by(ConsentRecord.id.desc())).first()
        assert (record.subject_id, record.action, record.source, record.origin) == (subject, "grant", "widget", PARTNER)
        assert record.purposes == {"recommendations": True, "profile": False, "email": False, "sms": False}
    assert fetch(framed, confirmed.headers["Location"]).status_code == 200, "now bound, by its own decision"


# --- in real Chromium --------------------------------------------------------------------------------


@pytest.mark.browser
def test_a_link_opened_in_a_fresh_browser_asks_before_it_binds(browser: Any, live_server: str) -> None:
    from .test_accessibility import violations
    from .test_browser import take_quiz

    owner = browser.new_context()
    page = owner.new_page()
    take_quiz(page, live_server)  # accepts all; first name Ada
    page.get_by_role("link", name="Your data and privacy").click()
    privacy = page.url
    page.get_by_role("link", name="Take the quiz again").click()
    assert page.url.endswith("/m/demo/quiz/intent"), "the owner's own browser goes straight back in"

    stranger = browser.new_context()  # a fresh browser: no cookie from the owner's
    visit = stranger.new_page()
    visit.goto(privacy + "/again")
    assert visit.get_by_role("heading", name="Continue a saved quiz?").is_visible()
    assert "kept for Ada" in visit.content() and "waterproof jacket" not in visit.content()
    assert violations(visit) == []
    visit.goto(live_server + "/m/demo/quiz/about")
    assert visit.url.endswith("/m/demo/"), "opening the link bound nothing"

    visit.goto(privacy + "/again")
    visit.get_by_label("Keep my profile").check()
    visit.get_by_role("button", name="Save my choices").click()
    assert visit.url.endswith("/m/demo/quiz/intent")
    assert visit.get_by_label("What are you looking for?").input_value() == "lightweight waterproof jacket for hiking"
    owner.close()
    stranger.close()
