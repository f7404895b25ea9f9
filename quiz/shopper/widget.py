"""The widget partner sites embed: its script, who may frame it, and what it tells the host page."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import abort, g, request, send_file
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from .. import merchants
from ..merchants import first_run, partners
from ..models import Merchant
from ..platform.db import get_session
from ..privacy.consent import ConsentState
from ..quizzes.schema import Section
from ..shopping.recommendations import RecommendationResult
from ..shopping.subjects import read_token
from . import bp, widget_bp
from .channel import emit, keep_widget_context, template_context
from .state import QuizProgress, save_progress, widget_progress

EMBED_SCRIPT = Path(__file__).resolve().parents[2] / "static" / "js" / "embed.js"
HIDDEN_KEY = re.compile(r"^[A-Za-z0-9_]{1,40}$")
MAX_HIDDEN_FIELDS = 10
MAX_HIDDEN_VALUE = 200
THEME_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
FRAMED_DESTINATIONS = ("iframe", "frame", "empty")  # "empty": downloads and fetches from the frame
# The script's own address never changes, so it is cached briefly; a versioned one, for a year.
SHORT_CACHE = 3600
LONG_CACHE = 365 * 24 * 3600

widget_bp.url_defaults(keep_widget_context)
bp.app_context_processor(template_context)
bp.app_context_processor(lambda: {"widget_settings": widget_settings})


@lru_cache(maxsize=1)
def embed_version() -> str:
    """Return the content hash that versions ``embed.js`` (its ``?v=``)."""
    return hashlib.sha256(EMBED_SCRIPT.read_bytes()).hexdigest()[:12]


@bp.get("/embed.js")
def embed_script() -> ResponseReturnValue:
    """Serve the partner script: for a year when asked for by its current version, else for an hour."""
    versioned = request.args.get("v") == embed_version()
    response = send_file(EMBED_SCRIPT, mimetype="text/javascript", max_age=LONG_CACHE if versioned else SHORT_CACHE)
    if versioned:
        response.cache_control.immutable = True
    response.headers["Access-Control-Allow-Origin"] = "*"  # a public script: partners may load it with CORS
    return response


@widget_bp.before_request
def find_merchant() -> None:
    """Note the merchant whose widget this is (it decides which sites may frame the page).

    Pages of the widget open only inside a frame: a top-level visit (say, a link carrying
    somebody else's run) is refused when the browser says where the page goes (Sec-Fetch-Dest).
    """
    if request.headers.get("Sec-Fetch-Dest", "iframe") not in FRAMED_DESTINATIONS:
        g.frame_ancestors = []
        abort(403, description=gettext("This page works only inside the quiz on a partner site."))
    args = request.view_args or {}
    merchant: Merchant | None = None
    if "slug" in args:
        merchant = merchants.get_by_slug(args["slug"])
    elif "token" in args:
        subject = read_token(args["token"])
        merchant = get_session().get(Merchant, subject.merchant_id) if subject else None
    g.widget_merchant = merchant
    g.frame_ancestors = list(merchant.partner_origins) if merchant else []


def parent_origin() -> str | None:
    """Return the partner origin this widget page talks to, if that site may embed it."""
    merchant: Merchant | None = g.get("widget_merchant")
    if merchant is None:
        return None
    progress = widget_progress(merchant.slug)
    origin = progress.origin if progress else request.args.get("origin")
    return partners.normalise_origin(origin) if partners.allows(merchant, origin) else None


def start_run(merchant: Merchant) -> None:
    """Begin (or continue) a widget run on the explainer: check the partner site, keep what it passed.

    Aborts with 403 when the page does not name a site the merchant allows.
    """
    ongoing = widget_progress(merchant.slug)
    if ongoing is not None and partners.allows(merchant, ongoing.origin):
        save_progress(merchant.slug, ongoing)  # back on the explainer, mid-run
        return
    origin = request.args.get("origin", "")
    if not partners.allows(merchant, origin):
        abort(403, description=gettext("This site may not show this quiz."))
    first_run.note_widget_load(merchant)  # the snippet works: a step of the merchant's first-run checklist
    hidden, problems = parse_hidden(request.args.get("hidden", ""))
    theme = theme_colour(request.args.get("theme", ""))
    run = QuizProgress(None, origin=partners.normalise_origin(origin), hidden=hidden, theme=theme)
    save_progress(merchant.slug, run)
    for problem in problems:
        emit("error", message=problem)


def parse_hidden(text: str) -> tuple[dict[str, str], list[str]]:
    """Return the hidden fields of ``"campaign=spring,ref=blog"``, and a message per one refused."""
    fields: dict[str, str] = {}
    problems: list[str] = []
    for pair in filter(None, (p.strip() for p in text.split(","))):
        key, _, value = pair.partition("=")
        if not HIDDEN_KEY.match(key) or len(value) > MAX_HIDDEN_VALUE:
            problems.append(f"hidden field {pair[:60]!r} ignored: use name=value, names of letters, digits and _")
        elif len(fields) >= MAX_HIDDEN_FIELDS:
            problems.append(f"hidden field {key!r} ignored: at most {MAX_HIDDEN_FIELDS} fields")
        else:
            fields[key] = value
    return fields, problems


def theme_colour(text: str) -> str | None:
    """Return the partner's accent colour for the widget ("#RRGGBB"), if ``text`` is a valid one."""
    return text if THEME_COLOUR.match(text) else None


def announce_step(merchant: Merchant, progress: QuizProgress, consent: ConsentState, section: Section) -> None:
    """Tell the host page a section is shown; on the first one, that the quiz started and with what consent."""
    if progress.first_time(["widget:started"]):
        emit("consent", purposes=[p for p, on in consent.purposes.items() if on])
        emit("started")
        save_progress(merchant.slug, progress)
    emit("step", section=section.id)


def announce_completed(
    merchant: Merchant, progress: QuizProgress, profile_id: str | None, result: RecommendationResult
) -> None:
    """Tell the host page the quiz is done: the stored profile's id and the recommended items."""
    if not progress.first_time(["widget:completed"]):
        return
    items: list[dict[str, Any]] = [
        {
            "id": r.item.external_id,
            "title": r.item.title,
            "url": r.item.url,
            "price": r.item.price,
            "currency": r.item.currency,
        }  # no reasons: they quote the shopper's answers, which the partner never receives
        for r in result.items
    ]
    emit("completed", profile_id=profile_id, items=items)
    save_progress(merchant.slug, progress)


def widget_settings() -> dict[str, Any]:
    """Return what the widget's pages need: the host page's origin and the partner's colour."""
    merchant: Merchant | None = g.get("widget_merchant")
    progress = widget_progress(merchant.slug) if merchant else None
    return {
        "parent_origin": parent_origin(),
        "theme": progress.theme if progress else None,
        "slug": merchant.slug if merchant else None,
    }
