"""Funnel analytics: real shopper journeys become counts, and the admin chart shows them."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from quiz import merchants, quizzes
from quiz.marketing import funnel
from quiz.marketing.funnel import duration_event
from quiz.models import FunnelCount
from quiz.platform.db import get_engine, get_session

from .helpers import make_merchant
from .test_admin import log_in
from .test_shopper_pages import ABOUT, INTENT, PREFERENCES, answer, decide


def test_journeys_are_counted_without_storing_anyone(app: Flask) -> None:
    finisher, quitter, dropper = app.test_client(), app.test_client(), app.test_client()
    decide(finisher, "accept_all")
    for section, data in (("about", ABOUT), ("intent", INTENT), ("preferences", PREFERENCES)):
        answer(finisher, section, data)
    results = finisher.get("/m/demo/results").get_data(as_text=True)
    link = re.search(r'href="(/m/demo/go/[^"]+)"', results).group(1)
    click = finisher.get(link)
    assert click.status_code == 302 and click.headers["Location"].startswith("https://demo.attune.test/")
    decide(quitter, "necessary_only")
    answer(quitter, "about", ABOUT)
    decide(dropper, "save_choices", email="y")

    with app.app_context():
        counts = dict(get_session().execute(sa.select(FunnelCount.event, FunnelCount.count)).all())
    assert counts["start"] == 3 and counts["complete"] == 1
    assert counts["section:about"] == 2 and counts["section:intent"] == 1
    assert counts["consent:profile"] == 1 and counts["consent:email"] == 2 and counts["consent:recommendations"] == 3
    assert counts["answered:looking_for"] == 1 and counts["results"] == 1 and counts["click"] == 1
    assert any(e.startswith("duration:") for e in counts)
    assert not any("Ada" in e or "jacket" in e for e in counts), "events carry no answers"

    shop = make_merchant(app, "funnelshop")
    client = app.test_client()
    log_in(client, shop.admin_email)
    assert "Started</dt><dd>0" in client.get("/admin/funnel").get_data(as_text=True), "another merchant's counts"


def test_the_admin_chart_shows_drop_off_per_question(app: Flask) -> None:
    from quiz import merchants
    from quiz.merchants import accounts
    from quiz.platform.db import transaction

    with app.app_context(), transaction():
        accounts.create_admin(merchants.get_by_slug("demo"), "owner@demo.example", "correct horse battery")
    shopper = app.test_client()
    for _ in range(2):
        decide(shopper, "necessary_only")
        answer(shopper, "about", ABOUT)
    admin = app.test_client()
    log_in(admin, "owner@demo.example")
    page = admin.get("/admin/funnel").get_data(as_text=True)
    assert "Started</dt><dd>2" in page and "Finished</dt><dd>0 (0%)" in page
    assert "<svg" in page and "What are you looking for?" in page
    assert re.search(r"<td>Age</td><td class=\"num\">2</td><td class=\"num\">2</td>", page)
    assert re.search(r"<td>What are you looking for\?</td><td class=\"num\">2</td><td class=\"num\">0</td>", page)
    narrowed = admin.get("/admin/funnel?from=2001-01-01&to=2001-01-31").get_data(as_text=True)
    assert "Started</dt><dd>0" in narrowed
    bad = admin.get("/admin/funnel?from=soon").get_data(as_text=True)
    assert "is not a date like" in bad


def test_time_to_finish_buckets() -> None:
    assert duration_event(12) == "duration:30"
    assert duration_event(61) == "duration:120"
    assert duration_event(4000) == "duration:>1800"


def test_median_time_to_finish_reads_naturally(app: Flask) -> None:
    import datetime as dt

    from quiz import merchants, quizzes
    from quiz.marketing import funnel

    with app.app_context():
        demo = merchants.get_by_slug("demo")
        funnel.count(demo.id, ["start", "start", "start", "duration:30", "duration:120", "duration:120"])
        today = dt.datetime.now(dt.UTC).date()
        assert funnel.report(demo, quizzes.live_quiz(demo), today, today).median_duration == "1 min-2 min"
        funnel.count(demo.id, ["duration:30"] * 3)
        assert funnel.report(demo, quizzes.live_quiz(demo), today, today).median_duration == "under 30 s"


def test_going_back_and_coming_again_never_counts_twice(app: Flask) -> None:
    from .test_shopper_pages import privacy_link_after_quiz

    client = app.test_client()
    link = privacy_link_after_quiz(client)
    answer(client, "intent", INTENT)  # back to a section, sent again
    answer(client, "preferences", PREFERENCES)
    client.get(link + "/again")
    answer(client, "intent", INTENT)
    answer(client, "preferences", PREFERENCES)
    with app.app_context():
        counts = dict(get_session().execute(sa.select(FunnelCount.event, FunnelCount.count)).all())
    assert counts["start"] == 2 and counts["complete"] == 2, counts
    assert counts["section:intent"] == 2 and counts["answered:looking_for"] == 2
    assert counts["section:about"] == 1, "the returning run did not answer 'about' again"


def test_a_count_the_database_refuses_is_dropped_not_raised(
    app: Flask, new_app: Callable[..., Flask], database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("holds SQLite's write lock from a second connection")
    counting = new_app()
    with counting.app_context():
        demo = merchants.get_by_slug("demo")
        engine = get_engine()
        # Wait 0.1 s for the lock instead of the production 15 s: the same refusal, sooner.
        sa.event.listen(engine, "connect", lambda connection, _: connection.execute("PRAGMA busy_timeout=100"))
        engine.dispose()
        blocker = sqlite3.connect(make_url(database_url).database, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        try:
            before = _dropped(counting)
            funnel.count(demo.id, ["start", "complete", "start"])  # returns: the request goes on
            assert _dropped(counting) == before + 3
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        funnel.count(demo.id, ["start"])
        counts = dict(get_session().execute(sa.select(FunnelCount.event, FunnelCount.count)).all())
    assert counts == {"start": 1}, "only the count made after the lock was released"


def _dropped(app: Flask) -> float:
    sample = [
        s.value
        for family in text_string_to_metric_families(app.test_client().get("/metrics").get_data(as_text=True))
        for s in family.samples
        if s.name == "attune_funnel_counts_dropped_total"
    ]
    return sample[0] if sample else 0.0


def test_a_conditional_question_counts_as_unanswered_only_where_it_was_shown(app: Flask) -> None:
    """ "Who is the gift for?" is asked of gift buyers only: 2 of 3 shoppers saw it, 1 of them answered."""
    runs = [("gift", {"gift_for": "partner"}), ("gift", {}), ("myself", {})]
    for intent, extra in runs:
        shopper = app.test_client()
        decide(shopper, "necessary_only")
        answer(shopper, "about", ABOUT)
        answer(shopper, "intent", {**INTENT, "intent": intent})
        assert answer(shopper, "preferences", {**PREFERENCES, **extra}).status_code == 302
    with app.app_context():
        counts = dict(get_session().execute(sa.select(FunnelCount.event, FunnelCount.count)).all())
        merchant = merchants.get_by_slug("demo")
        today = dt.datetime.now(dt.UTC).date()
        steps = {s.label: s for s in funnel.report(merchant, quizzes.live_quiz(merchant), today, today).steps}
    assert counts["shown:gift_for"] == 2 and counts["answered:gift_for"] == 1
    gift = steps["Who is the gift for?"]
    assert (gift.reached, gift.answered, round(gift.drop_off, 2)) == (2, 1, 0.5)
    assert steps["Which categories interest you?"].reached == 3
