"""The admin's overview: the numbers a shop owner opens it for, the technical ones on a details line."""

from __future__ import annotations

import html
import re

from flask import Flask
from flask.testing import FlaskClient

from quiz.marketing import funnel

from .helpers import make_merchant
from .test_admin import log_in


def test_the_overview_shows_starts_completion_contacts_and_clicks(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "numbers")
    events = ["start"] * 8 + ["complete"] * 6 + ["consent:email"] * 3 + ["consent:sms"] + ["results"] * 4 + ["click"]
    with app.app_context():
        funnel.count(shop.merchant.id, events)
    assert log_in(client, shop.admin_email).status_code == 302
    page = html.unescape(client.get("/admin/").get_data(as_text=True))
    text = re.sub(r"<[^>]+>", " ", page)
    text = re.sub(r"\s+", " ", text)
    for days in (7, 30):
        assert (
            f"Last {days} days Quiz starts 8 Finished the quiz 75% Agreed to email or SMS 3 "
            "Clicked a product 25% of results pages"
        ) in text
    assert "catalog version" in text and "search index none yet" in text
    assert "Live index" not in text
