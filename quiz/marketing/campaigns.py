"""Campaign exports: the shoppers a merchant may contact on a channel, with products picked for each.

Only profiles whose current consent allows the channel are exported, never below the
digital-consent age, and for email only addresses confirmed by double opt-in. Each row says
where the consent came from (time, explainer version, text hash, source) and carries the
profile's top products recomputed from today's catalog, and its stored predictive scores
(empty where the profile has no orders or was never scored).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

from flask import current_app, request

from ..models import ConsentRecord, Merchant, Profile, Segment
from ..outcomes.bought import hidden_products
from ..platform.db import get_session
from ..privacy.profiles import live_with_consent
from ..quizzes.answers import AnswerError, clean_answers
from ..quizzes.schema import Question, Quiz
from ..quizzes.store import live_quiz
from ..shopping.flow import known_answers
from ..shopping.recommendations import recommend
from ..shopping.responses import below_consent_age
from . import segments
from .score_columns import score_columns, score_json, scores_of

Channel = Literal["email", "sms"]
CHANNELS: tuple[Channel, ...] = ("email", "sms")
MAX_PRODUCTS = 10
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
E164 = re.compile(r"^\+[0-9]{7,15}$")


@dataclass(frozen=True)
class Recipient:
    """One shopper a campaign may reach, with the proof of their consent and their products."""

    profile: Profile
    consent: ConsentRecord
    address: str
    products: list[dict[str, Any]] = field(default_factory=list)


def audience(
    merchant: Merchant, channel: Channel, segment: Segment | None = None
) -> Iterator[tuple[Profile, ConsentRecord, str]]:
    """Yield each profile (of ``segment``, if given) the merchant may contact on ``channel`` now,
    its consent and its address."""
    quiz = live_quiz(merchant)
    wanted = {p.id for p in segments.members(merchant, segment.rules)} if segment is not None else None
    for profile, consent in _profiles_with_latest_consent(merchant):
        if wanted is not None and profile.id not in wanted:
            continue
        if not (consent.purposes or {}).get(channel):
            continue
        if below_consent_age(quiz, profile.answers or {}):
            continue
        address = _address(profile, channel)
        if address:
            yield profile, consent, address


def _address(profile: Profile, channel: Channel) -> str | None:
    if channel == "email":
        return profile.email if profile.email and profile.email_confirmed_at is not None else None
    return profile.phone or None


def _profiles_with_latest_consent(merchant: Merchant) -> Iterator[tuple[Profile, ConsentRecord]]:
    """Yield every live profile with its decision in force, oldest profile first."""
    for row in get_session().execute(live_with_consent(merchant).order_by(Profile.created_at, Profile.id)):
        yield row[0], row[1]


def count(merchant: Merchant, channel: Channel, segment: Segment | None = None) -> int:
    """Return how many shoppers an export for ``channel`` (and ``segment``) would hold."""
    return sum(1 for _ in audience(merchant, channel, segment))


def recipients(merchant: Merchant, channel: Channel, products: int, segment: Segment | None = None) -> list[Recipient]:
    """Return the channel's audience, each with their top ``products`` from the current catalog."""
    quiz = live_quiz(merchant)
    return [
        Recipient(profile, consent, address, top_products(merchant, quiz, profile, products))
        for profile, consent, address in audience(merchant, channel, segment)
    ]


def top_products(merchant: Merchant, quiz: Quiz, profile: Profile, limit: int) -> list[dict[str, Any]]:
    """Return the products the shopper's stored answers match in today's catalog."""
    if limit <= 0:
        return []
    try:
        answers = clean_answers(quiz, known_answers(quiz, profile.answers or {}), complete=False)
    except AnswerError:
        return []  # answers to a quiz that has changed too much; the row still goes out, without picks
    hidden = hidden_products(merchant, profile_id=profile.id)
    result = recommend(merchant, quiz, answers, limit, exclude=hidden, profile_id=profile.id)
    return [
        {"id": r.item.external_id, "title": r.item.title, "url": r.item.url, "image_url": r.item.image_url}
        for r in result.items
    ]


@dataclass(frozen=True)
class Export:
    """A campaign file, ready to download."""

    body: str
    mimetype: str
    filename: str


def export(
    merchant: Merchant, channel: Channel, kind: Literal["csv", "json"], products: int, segment: Segment | None = None
) -> Export:
    """Return the channel's audience as a CSV (Klaviyo, Mailchimp) or JSON file named after the day."""
    base = public_base()
    people = [
        replace(r, products=[absolute_links(p, base) for p in r.products])
        for r in recipients(merchant, channel, products, segment)
    ]
    scope = f"-{segment.id}" if segment is not None else ""
    name = f"attune-{merchant.slug}-{channel}{scope}-{dt.date.today().isoformat()}.{kind}"
    quiz = live_quiz(merchant)
    if kind == "json":
        return Export(to_json(people, channel, quiz), "application/json", name)
    return Export(to_csv(as_rows(people, channel, products, quiz), channel), "text/csv", name)


def public_base() -> str:
    """Return the address shoppers reach this installation at: PUBLIC_URL, else the request's own."""
    return current_app.config.get("PUBLIC_URL") or request.host_url


def absolute_links(product: dict[str, Any], base: str) -> dict[str, Any]:
    """Return a product with its page and image URLs absolute: an email tool cannot follow "/static/..."."""
    return {k: absolute_url(v, base) if k in ("url", "image_url") else v for k, v in product.items()}


def absolute_url(url: str, base: str) -> str:
    """Return ``url`` resolved against ``base`` when it is relative, http(s) URLs as they are, anything else ""."""
    if not url:
        return url
    scheme = urlsplit(url).scheme.lower()
    if scheme:
        return url if scheme in ("http", "https") else ""
    return urljoin(base if base.endswith("/") else base + "/", url)


def answer_label(question: Question | None, value: Any) -> str:
    """Return an answer as the shopper read it in the quiz's language ("Footwear", "0 to 1000", "Yes").

    Option values become their labels; a question no longer in the quiz keeps its raw value.
    """
    if value is None:
        return ""
    if question is None:
        return _cell_value(value)
    if question.type in ("single", "country", "multi"):
        values = value if isinstance(value, list) else [value]
        return ", ".join(str(o.label) if (o := question.option(str(v))) else str(v) for v in values)
    if question.type == "range" and isinstance(value, list) and len(value) == 2:
        return f"{_number_text(value[0])} to {_number_text(value[1])}"
    if question.type == "boolean" and isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _number_text(value)
    return _cell_value(value)


def _number_text(value: Any) -> str:
    """Return a number without a trailing ".0" (1000.0 -> "1000")."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def provenance(consent: ConsentRecord) -> str:
    """Return where a consent came from, in one cell: when, which text, where."""
    where = consent.source + (f" {consent.origin}" if consent.origin else "")
    return (
        f"{consent.created_at.isoformat()} explainer {consent.explainer_version} "
        f"sha256 {consent.text_sha256} via {where}"
    )


def as_rows(
    recipients: list[Recipient], channel: Channel, products: int, quiz: Quiz | None = None
) -> list[dict[str, str]]:
    """Return the export as flat rows, in the layout Klaviyo and Mailchimp import.

    With ``quiz``, answers are written as their labels (see :func:`answer_label`).
    """
    question_ids = sorted({qid for r in recipients for qid in (r.profile.answers or {})})
    scores = scores_of([r.profile.id for r in recipients])
    hidden_names = sorted({name for r in recipients for name in (r.profile.hidden_fields or {})})
    rows = []
    for r in recipients:
        row = {
            "Email" if channel == "email" else "Phone Number": r.address,
            "First Name": r.profile.first_name or "",
            "Consent Status": "SUBSCRIBED",
            "Consent Timestamp": r.consent.created_at.isoformat(),
            "Consent Provenance": provenance(r.consent),
            "Language": r.consent.locale,
            "Profile ID": r.profile.id,
            **score_columns(scores.get(r.profile.id)),
        }
        for qid in question_ids:
            value = (r.profile.answers or {}).get(qid)
            row[f"quiz_{qid}"] = answer_label(quiz.question(qid), value) if quiz else _cell_value(value)
        for name in hidden_names:
            row[f"hidden_{name}"] = (r.profile.hidden_fields or {}).get(name, "")
        for i in range(products):
            item = r.products[i] if i < len(r.products) else {}
            for key in ("id", "title", "url", "image_url"):
                row[f"product_{i + 1}_{key}"] = str(item.get(key) or "")
        rows.append(row)
    return rows


def _cell_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def neutralise(cell: str) -> str:
    """Return ``cell`` so that no spreadsheet runs it as a formula.

    A phone number in E.164 form ("+34600123456") is left alone: it is a plain number to a
    spreadsheet, and campaign tools refuse it with a quote in front.
    """
    if E164.match(cell):
        return cell
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def to_csv(rows: list[dict[str, str]], channel: Channel) -> str:
    """Return the rows as CSV, every cell neutralised against formula injection."""
    address = "Email" if channel == "email" else "Phone Number"
    columns = list(rows[0]) if rows else [address, "First Name", "Consent Status", "Consent Timestamp"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([neutralise(row.get(c, "")) for c in columns])
    return out.getvalue()


def to_json(recipients: list[Recipient], channel: Channel, quiz: Quiz | None = None) -> str:
    """Return the export as JSON: one object per shopper, answers as stored and (with ``quiz``) as labels."""
    scores = scores_of([r.profile.id for r in recipients])
    return json.dumps(
        {
            "channel": channel,
            "count": len(recipients),
            "recipients": [
                {
                    "profile_id": r.profile.id,
                    "address": r.address,
                    "first_name": r.profile.first_name,
                    "consent": {
                        "status": "SUBSCRIBED",
                        "at": r.consent.created_at.isoformat(),
                        "explainer_version": r.consent.explainer_version,
                        "text_sha256": r.consent.text_sha256,
                        "source": r.consent.source,
                        "origin": r.consent.origin,
                        "locale": r.consent.locale,
                    },
                    "answers": r.profile.answers,
                    "answer_labels": {
                        qid: answer_label(quiz.question(qid), value) for qid, value in (r.profile.answers or {}).items()
                    }
                    if quiz
                    else {},
                    "hidden_fields": r.profile.hidden_fields or {},
                    "products": r.products,
                    "scores": score_json(scores.get(r.profile.id)),
                }
                for r in recipients
            ],
        },
        indent=2,
        ensure_ascii=False,
    )
