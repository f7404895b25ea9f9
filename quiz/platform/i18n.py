"""The shopper's language: which locale a request gets, and the switch between languages.

The locale comes from, in order: a ``lang`` query parameter (the visible switch), the choice
remembered from that switch, the browser's ``Accept-Language``, and English. Shopper-facing
text is marked with ``gettext``; the Spanish catalog lives in ``quiz/translations`` and is
compiled by ``make`` (see the README's translation notes).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, Response, has_request_context, request, session, url_for
from flask_babel import Babel, get_locale

TRANSLATIONS = Path(__file__).parents[1] / "translations"
LOCALES: dict[str, str] = {"en": "English", "es": "Español"}
DEFAULT_LOCALE = "en"
PARAMETER = "lang"
SESSION_KEY = "lang"
# Where the choice is not kept in the session: the API (tokens, not cookies) and the widget
# (third-party cookies may be blocked; its links carry ``lang`` instead).
COOKIELESS = ("api", "widget")

babel = Babel()


def N_(message: str) -> str:  # noqa: N802 - the name gettext tools know
    """Mark English text for translation where it is defined; it is translated where it is shown."""
    return message


def select_locale() -> str:
    """Return the locale code for the current request (English outside one, as in the CLI)."""
    if not has_request_context() or request.blueprint == "admin":  # the admin is in English for now
        return DEFAULT_LOCALE
    asked = request.args.get(PARAMETER, "")
    if asked in LOCALES:
        return asked
    remembered = session.get(SESSION_KEY) if request.blueprint not in COOKIELESS else None
    if remembered in LOCALES:
        return str(remembered)
    return request.accept_languages.best_match(LOCALES.keys()) or DEFAULT_LOCALE


def current_locale() -> str:
    """Return the locale code of the current request ("en" outside one)."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LOCALE


def switch_links() -> list[dict[str, str | bool]]:
    """Return a link per language to the page being shown, for the visible language switch."""
    rule = request.url_rule
    if rule is not None and "GET" not in (rule.methods or ()):
        return []  # a page answering a form: there is no address to show it again at
    view_args = request.view_args or {}
    # Only plain query parameters pass through: not view arguments, nor url_for's own (_anchor...).
    args = {k: v for k, v in request.args.items() if k not in view_args and k != "endpoint" and not k.startswith("_")}
    links = []
    for code, name in LOCALES.items():
        query = {**args, PARAMETER: code}
        if rule is not None and request.endpoint:
            # url_for lets blueprints add what their links must carry (the widget's state).
            url = url_for(request.endpoint, **view_args, **query)
        else:
            url = f"{request.path}?{urlencode(query)}"
        links.append({"code": code, "name": name, "url": url, "current": code == current_locale()})
    return links


def _remember_choice() -> None:
    """Keep a language picked with the switch for the rest of the visit (in the session where there is one)."""
    asked = request.args.get(PARAMETER, "")
    if asked in LOCALES and request.blueprint not in COOKIELESS and session.get(SESSION_KEY) != asked:
        session[SESSION_KEY] = asked


def _mark_language(response: Response) -> Response:
    """Say which language a response is in, and that it depends on the request's language."""
    if request.blueprint in ("shopper", "api") or response.mimetype == "text/html":
        response.headers.setdefault("Content-Language", current_locale())
        response.vary.add("Accept-Language")
    return response


def init_app(app: Flask) -> None:
    """Bind Flask-Babel and expose the switch to templates."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel.init_app(app, locale_selector=select_locale)
    app.before_request(_remember_choice)
    app.after_request(_mark_language)
    app.context_processor(lambda: {"current_locale": current_locale, "language_links": switch_links})
