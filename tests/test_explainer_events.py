"""The explainer tells shoppers about shop events and orders; who allowed a profile before is asked again."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from quiz.models import ConsentRecord
from quiz.platform.db import get_session, transaction
from quiz.privacy.explainer import default_revisions

from .conftest import csrf_token
from .test_shopper_pages import decide

BEFORE_EVENTS = "2026-11.2"  # the default explainer before it mentioned events and orders


def _as_if_decided_under(app: Flask, version: str) -> None:
    with app.app_context(), transaction():
        get_session().execute(sa.update(ConsentRecord).values(explainer_version=version))


def test_the_explainer_says_what_events_and_orders_are_kept_in_both_languages(app: Flask) -> None:
    english = app.test_client().get("/m/demo/").get_data(as_text=True)
    assert "What happens after the quiz" in english and "only anonymous daily counts are kept" in english
    spanish = app.test_client().get("/m/demo/?lang=es").get_data(as_text=True)
    assert "Qué pasa después del cuestionario" in spanish and "recuentos diarios" in spanish


def test_who_allowed_a_profile_under_the_older_explainer_is_asked_again_for_it_alone(app: Flask) -> None:
    kept = app.test_client()
    decide(kept, "accept_all")
    necessary = app.test_client()
    decide(necessary, "necessary_only")
    _as_if_decided_under(app, BEFORE_EVENTS)

    again = kept.get("/m/demo/quiz/about")
    assert again.status_code == 302 and again.headers["Location"].endswith("/m/demo/consent/again")
    page = kept.get("/m/demo/consent/again").get_data(as_text=True)
    assert 'id="again-profile"' in page and "what I view and buy here" in page
    assert 'id="again-email"' not in page and 'id="again-sms"' not in page, "unchanged purposes are not asked"
    done = kept.post("/m/demo/consent/again", data={"csrf_token": csrf_token(page), "profile": "y"})
    assert done.status_code == 302
    with app.app_context():
        newest = get_session().scalars(sa.select(ConsentRecord).order_by(ConsentRecord.id.desc())).first()
    assert newest.action == "change" and newest.explainer_version == "2026-12.1" and newest.purposes["profile"]
    assert kept.get("/m/demo/quiz/about").status_code == 200, "asked once"
    assert necessary.get("/m/demo/quiz/about").status_code == 200, "who kept no profile has nothing to re-read"


def test_default_versions_date_each_purpose_from_its_last_change() -> None:
    assert default_revisions(BEFORE_EVENTS)["profile"] == "default-1"
    assert default_revisions("2026-12.1")["profile"] == "2026-12.1"
    assert default_revisions("2027-01.1") == {**default_revisions("2026-12.1")}
    assert default_revisions("2026-12.1")["email"] == default_revisions(BEFORE_EVENTS)["email"]
