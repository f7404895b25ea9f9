"""The widget on a partner site, in Chromium with third-party cookies blocked.

Attune is served as ``attune.test``, partner pages as ``partner.test`` (allowed), ``other.test``
(not allowed) and ``evil.test`` (a forger): different sites, all on loopback through Chromium's
host resolver rules. Third-party cookies are blocked by Chromium's managed policy, and a control
frame that needs a cookie proves the block is real.
"""

from __future__ import annotations

import json
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.serving import make_server

from quiz import merchants
from quiz.merchants import partners
from quiz.models import Profile
from quiz.platform.db import get_session, transaction

from .conftest import CHROMIUM, CHROMIUM_ARGS
from .helpers import NEED

pytestmark = pytest.mark.browser
POLICY_DIR = Path("/etc/chromium/policies/managed")
POLICY = POLICY_DIR / "attune-tests-third-party-cookies.json"
HOSTS = ("attune.test", "partner.test", "other.test", "evil.test")
FOCUS_IN_DIALOG = (
    "document.querySelector('dialog').contains(document.activeElement) || document.activeElement === document.body"
)
FOCUS_BEHIND_DIALOG = """(() => {
  const link = document.querySelector('a[href="#after"]');
  link.focus();
  return document.activeElement === link;
})()"""
ON_TOP = "e => { const r = e.getBoundingClientRect(); return document.elementFromPoint(r.x + 5, r.y + 5) === e; }"
EVENT_LOG = """<script>
  window.attuneEvents = [];
  ["ready", "started", "step", "consent", "resize", "completed", "error"].forEach(function (type) {
    document.addEventListener("attune:" + type, function (event) { window.attuneEvents.push([type, event.detail]); });
  });
</script>"""


class Site:
    """A loopback web server for pages a test writes, answering any host name mapped to it."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[str, list[tuple[str, str]]]] = {}
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path == "/check":  # the control frame: did the cookie come back?
            got = "probe=1" in environ.get("HTTP_COOKIE", "")
            start_response("200 OK", [("Content-Type", "text/html")])
            return [f"<p id=result>{'cookie' if got else 'no cookie'}</p>".encode()]
        body, headers = self.pages.get(path, ("not found", []))
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), *headers])
        return [body.encode()]

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def site() -> Iterator[Site]:
    server = Site()
    yield server
    server.close()


def launch(playwright: Any, block_third_party_cookies: bool) -> Any:
    """Start Chromium under the managed cookie policy (policies are read at start, so write it first)."""
    try:
        POLICY_DIR.mkdir(parents=True, exist_ok=True)
        POLICY.write_text(json.dumps({"BlockThirdPartyCookies": block_third_party_cookies}))
    except PermissionError:
        pytest.fail(f"writing {POLICY} needs root, as on CI: it is how the tests block third-party cookies")
    rules = ", ".join(f"MAP {host} 127.0.0.1" for host in HOSTS)
    return playwright.chromium.launch_persistent_context(
        tempfile.mkdtemp(prefix="attune-chromium-"),
        executable_path=CHROMIUM,
        args=[*CHROMIUM_ARGS, f"--host-resolver-rules={rules}"],
    )


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver
    POLICY.unlink(missing_ok=True)


@pytest.fixture
def blocked(playwright: Any) -> Iterator[Any]:
    """A Chromium (persistent profile, as a user's) that blocks third-party cookies."""
    context = launch(playwright, block_third_party_cookies=True)
    yield context
    context.close()


@pytest.fixture
def attune(live_server: str, app: Flask) -> Iterator[Callable[..., str]]:
    """Return Attune's URL under its own host name, with a helper to allow partner origins."""
    port = live_server.rsplit(":", 1)[1]
    with app.app_context():
        before = list(merchants.get_by_slug("demo").partner_origins)
    yield lambda: f"http://attune.test:{port}"
    with app.app_context(), transaction():
        partners.set_origins(merchants.get_by_slug("demo"), before)


def allow(app: Flask, *origins: str) -> None:
    with app.app_context(), transaction():
        partners.set_origins(merchants.get_by_slug("demo"), origins)


def embed_page(attune_url: str, extra: str = "", **attributes: str) -> str:
    attrs = " ".join(f'data-{k.replace("_", "-")}="{v}"' for k, v in attributes.items())
    return (
        f'<!doctype html><html lang="en"><title>Partner</title><h1>Partner blog</h1>'
        f'<div id="quiz" data-attune-quiz="demo" {attrs}></div>{EVENT_LOG}{extra}'
        f'<script src="{attune_url}/embed.js" async></script>'
    )


def control_frame_shows(context: Any, site: Site) -> str:
    """Set a SameSite=None cookie on localhost inside a partner.test frame, then ask whether it returns."""
    site.pages["/set"] = ("<p>set</p>", [("Set-Cookie", "probe=1; SameSite=None; Secure; Path=/")])
    site.pages["/control"] = (f'<iframe id="control" src="{site.url("localhost", "/set")}"></iframe>', [])
    page = context.new_page()
    page.goto(site.url("partner.test", "/control"))
    page.frame_locator("#control").locator("p").wait_for()
    page.evaluate(f"document.getElementById('control').src = {site.url('localhost', '/check')!r}")
    result = page.frame_locator("#control").locator("#result")
    result.wait_for()
    text: str = result.inner_text()
    page.close()
    return text


def test_the_cookie_block_is_real(playwright: Any, site: Site) -> None:
    allowed = launch(playwright, block_third_party_cookies=False)
    try:
        assert control_frame_shows(allowed, site) == "cookie", "without the block a framed cookie comes back"
    finally:
        allowed.close()
    blocked = launch(playwright, block_third_party_cookies=True)
    try:
        assert control_frame_shows(blocked, site) == "no cookie", "the policy must stop third-party cookies"
    finally:
        blocked.close()


def events(page: Any) -> list[list[Any]]:
    found: list[list[Any]] = page.evaluate("window.attuneEvents")
    return found


def test_a_shopper_finishes_the_quiz_on_a_partner_site_without_cookies(
    app: Flask, attune: Callable[[], str], site: Site, blocked: Any
) -> None:
    allow(app, site.url("partner.test", "").rstrip("/"))
    site.pages["/"] = (embed_page(attune(), locale="en", hidden="campaign_id=spring24"), [])
    page = blocked.new_page()
    page.goto(site.url("partner.test", "/"))
    frame = page.frame_locator("#quiz iframe")
    iframe = page.locator("#quiz iframe")
    assert iframe.get_attribute("title") == "Product quiz"
    frame.get_by_role("heading", level=1).wait_for()
    frame.locator("summary").click()  # the details, one click away, start with the partner's section
    assert "You are taking this quiz on partner.test" in frame.locator("article").inner_text()
    page.wait_for_function("window.attuneEvents.some(e => e[0] === 'ready')")

    frame.get_by_role("button", name="Accept all").click()
    frame.get_by_label("25-34").check()
    page.wait_for_function("window.attuneEvents.some(e => e[0] === 'step')")
    first_height = iframe.evaluate("f => f.getBoundingClientRect().height")
    frame.get_by_label("Country").select_option("NO")
    frame.get_by_role("button", name="Continue").click()
    frame.get_by_label("Shopping for myself").check()
    frame.get_by_label("What are you looking for?").fill(NEED)
    frame.get_by_label("This week").check()
    frame.get_by_role("button", name="Continue").click()
    frame.get_by_label("Any category").check()
    frame.get_by_label("No preference").check()
    frame.get_by_role("button", name="See my recommendations").click()
    page.wait_for_function("window.attuneEvents.some(e => e[0] === 'completed')", timeout=60_000)

    seen = events(page)
    kinds = [kind for kind, _ in seen]
    assert kinds.count("ready") == 1 and kinds.count("started") == 1
    assert next(d for k, d in seen if k == "ready") == {}, "nothing about the page's address"
    assert [d["section"] for k, d in seen if k == "step"] == ["about", "intent", "preferences"]
    assert next(d for k, d in seen if k == "consent")["purposes"] == ["recommendations", "profile", "email", "sms"]
    completed = next(d for k, d in seen if k == "completed")
    assert len(completed["items"]) == 12 and completed["items"][0]["title"]
    with app.app_context():
        profile = get_session().scalars(sa.select(Profile)).one()
    assert completed["profile_id"] == profile.id and profile.hidden_fields == {"campaign_id": "spring24"}
    first_card = frame.locator(".card").first
    cart = first_card.get_by_role("link", name="Add to cart")
    assert cart.is_visible() and first_card.get_by_role("link", name="View in shop").is_visible()
    assert cart.get_attribute("target") == "_top", "the cart opens in the shopper's window, not in the frame"
    assert "/m/demo/cart/" in cart.get_attribute("href")

    page.wait_for_timeout(300)  # the last resize message
    content = frame.locator("html").evaluate("html => Math.ceil(html.getBoundingClientRect().height)")
    height = iframe.evaluate("f => f.getBoundingClientRect().height")
    assert abs(height - content) <= 2, (height, content)
    assert height > first_height + 400, "the frame grows with the results"
    assert blocked.cookies("http://attune.test") == [], "the widget never relied on a cookie"
    page.close()


def test_a_site_not_on_the_list_cannot_show_the_widget(
    app: Flask, attune: Callable[[], str], site: Site, blocked: Any
) -> None:
    allow(app, site.url("partner.test", "").rstrip("/"))
    site.pages["/"] = (embed_page(attune()), [])
    page = blocked.new_page()
    page.goto(site.url("other.test", "/"))
    page.wait_for_timeout(1500)
    frame = page.frame_locator("#quiz iframe")
    assert frame.get_by_role("heading", name="Before you start").count() == 0
    assert events(page) == [], "a blocked frame sends nothing"
    page.close()


def test_forged_messages_from_other_origins_are_ignored(
    app: Flask, attune: Callable[[], str], site: Site, blocked: Any
) -> None:
    allow(app, site.url("partner.test", "").rstrip("/"))
    forged = [
        {"protocol": "attune", "version": 1, "type": "completed", "data": {"items": [{"title": "forged"}]}},
        {"protocol": "attune", "version": 1, "type": "resize", "data": {"height": 7}},
    ]
    posts = "".join(f"parent.postMessage({json.dumps(message)}, '*');" for message in forged)
    site.pages["/forger"] = (f"<script>{posts}</script>", [])
    forger = f'<iframe id="forger" hidden></iframe><script>window.forged = {json.dumps(forged)};</script>'
    site.pages["/"] = (embed_page(attune(), extra=forger), [])
    page = blocked.new_page()
    page.goto(site.url("partner.test", "/"))
    page.wait_for_function("window.attuneEvents.some(e => e[0] === 'ready')")
    page.evaluate(f"document.getElementById('forger').src = {site.url('evil.test', '/forger')!r}")
    page.evaluate("window.forged.forEach(m => window.postMessage(m, '*'))")  # from the host page itself
    page.wait_for_timeout(1000)
    assert "completed" not in [kind for kind, _ in events(page)]
    assert all(detail.get("height") != 7 for kind, detail in events(page) if kind == "resize")
    assert page.locator("#quiz iframe").evaluate("f => f.getBoundingClientRect().height") > 100
    page.close()


def test_popup_mode_opens_a_dialog_that_keeps_focus_and_closes_with_escape(
    app: Flask, attune: Callable[[], str], site: Site, blocked: Any
) -> None:
    allow(app, site.url("partner.test", "").rstrip("/"))
    site.pages["/"] = (
        embed_page(attune(), mode="popup", button_text="Find your gear", theme_color="#7a3e9d")
        + '<p><a href="#after">A link after the widget</a></p>',
        [],
    )
    page = blocked.new_page()
    page.goto(site.url("partner.test", "/"))
    button = page.get_by_role("button", name="Find your gear")
    button.click()
    dialog = page.get_by_role("dialog", name="Product quiz")
    assert dialog.is_visible()
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Close"
    page.frame_locator("dialog iframe").get_by_role("heading", level=1).wait_for()
    for _ in range(6):
        page.keyboard.press("Tab")
        # Focus is in the dialog, or for a moment in the browser's own controls (the body here).
        assert page.evaluate(FOCUS_IN_DIALOG), page.evaluate("document.activeElement.outerHTML.slice(0, 80)")
    assert page.evaluate(FOCUS_BEHIND_DIALOG) is False, "the page behind the dialog cannot take focus"
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    page.wait_for_function("document.activeElement.textContent === 'Find your gear'")  # focus is back on the button

    button.click()
    page.frame_locator("dialog iframe").get_by_role("button", name="Accept all").focus()
    page.keyboard.press("Escape")  # inside the frame: the widget asks the host to close
    dialog.wait_for(state="hidden")
    page.close()


def widget_page(playwright: Any, width: int, height: int) -> Any:
    """A third-party-cookie-blocking Chromium with one page of the given size."""
    context = launch(playwright, block_third_party_cookies=True)
    page = context.pages[0] if context.pages else context.new_page()
    page.set_viewport_size({"width": width, "height": height})
    return context, page


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize(("width", "height"), [(1280, 800), (375, 667)])
def test_the_notice_fits_the_first_screen_inside_the_widget(
    app: Flask, attune: Callable[[], str], site: Site, playwright: Any, lang: str, width: int, height: int
) -> None:
    from .test_notice_layout import assert_first_layer_fits, shoot

    allow(app, site.url("partner.test", "").rstrip("/"))
    site.pages["/"] = (embed_page(attune(), locale=lang), [])
    context, page = widget_page(playwright, width, height)
    try:
        page.goto(site.url("partner.test", "/"))
        frame = page.frame_locator("#quiz iframe")
        frame.get_by_role("heading", level=1).wait_for()
        page.wait_for_function("window.attuneEvents.some(e => e[0] === 'resize')")
        page.wait_for_timeout(300)
        shoot(page, f"notice-widget-{lang}-{width}")
        assert_first_layer_fits(page, frame, lang, f"widget {width}x{height} {lang}")
        frame_height = page.locator("#quiz iframe").evaluate("f => f.getBoundingClientRect().height")
        frame.locator("summary").click()
        page.wait_for_timeout(300)
        unfolded = page.locator("#quiz iframe").evaluate("f => f.getBoundingClientRect().height")
        assert unfolded > frame_height + 400, "the first frame is short: the details are folded"
    finally:
        context.close()


def test_inline_steps_scroll_the_host_to_the_widget_and_focus_the_heading(
    app: Flask, attune: Callable[[], str], site: Site, playwright: Any
) -> None:
    allow(app, site.url("partner.test", "").rstrip("/"))
    intro = '<p style="height:900px">A long article above the quiz.</p>'
    site.pages["/"] = (embed_page(attune(), locale="en").replace("<h1>Partner blog</h1>", f"<h1>Blog</h1>{intro}"), [])
    context, page = widget_page(playwright, 375, 667)
    try:
        page.goto(site.url("partner.test", "/"))
        frame = page.frame_locator("#quiz iframe")
        frame.get_by_role("heading", level=1).wait_for()
        page.wait_for_function("window.attuneEvents.some(e => e[0] === 'ready')")
        page.wait_for_timeout(300)
        assert page.evaluate("window.scrollY") == 0, "the first page of the frame moves nothing"
        frame.get_by_role("button", name="Accept all").click()
        frame.get_by_label("25-34").wait_for()
        page.wait_for_function("Math.abs(document.querySelector('#quiz iframe').getBoundingClientRect().top) < 2")
        focused = frame.locator("h1").evaluate("h => document.activeElement === h")
        assert focused, "focus is on the step's heading"
        assert page.evaluate("window.scrollY") > 800

        page.evaluate("window.scrollBy(0, 1200)")  # down to the Continue button
        frame.get_by_label("25-34").check()
        frame.get_by_label("Country").select_option("NO")
        frame.get_by_role("button", name="Continue").click()
        frame.get_by_label("Shopping for myself").wait_for()
        page.wait_for_function("Math.abs(document.querySelector('#quiz iframe').getBoundingClientRect().top) < 2")
        assert frame.locator("h1").evaluate("h => document.activeElement === h")
        shoot_step = frame.locator("h1").inner_text()
        assert shoot_step
    finally:
        context.close()


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (375, 667)])
def test_the_popup_opens_each_step_at_its_top_with_the_close_button_in_view(
    app: Flask, attune: Callable[[], str], site: Site, playwright: Any, width: int, height: int
) -> None:
    from .test_notice_layout import shoot

    allow(app, site.url("partner.test", "").rstrip("/"))
    site.pages["/"] = (embed_page(attune(), mode="popup", locale="en"), [])
    context, page = widget_page(playwright, width, height)
    try:
        page.goto(site.url("partner.test", "/"))
        page.get_by_role("button", name="Take the quiz").click()
        dialog = page.locator("dialog.attune-dialog")
        frame = page.frame_locator("dialog iframe")
        frame.get_by_role("heading", level=1).wait_for()
        backdrop = page.evaluate("getComputedStyle(document.querySelector('dialog'), '::backdrop').backgroundColor")
        alpha = float(backdrop.rstrip(")").split(",")[-1]) if backdrop.startswith("rgba") else 1.0
        assert alpha >= 0.6, f"the backdrop dims the page clearly: {backdrop}"
        box = dialog.bounding_box()
        if width < 600:
            assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, width, height), box
        frame.get_by_role("button", name="Accept all").click()
        frame.get_by_label("25-34").wait_for()
        page.wait_for_timeout(300)
        dialog.evaluate("d => d.scrollTop = d.scrollHeight")
        assert dialog.evaluate("d => d.scrollTop") > 0, "this step is taller than the dialog"
        box = dialog.bounding_box()
        close = page.get_by_role("button", name="Close")
        close_box = close.bounding_box()
        assert close_box["y"] >= box["y"] - 1 and close_box["y"] + close_box["height"] <= box["y"] + box["height"]
        assert close.evaluate(ON_TOP), "sticky: the close button stays visible"
        shoot(page, f"popup-scrolled-{width}")
        frame.get_by_label("25-34").check()
        frame.get_by_label("Country").select_option("NO")
        frame.get_by_role("button", name="Continue").click()
        frame.get_by_label("Shopping for myself").wait_for()
        page.wait_for_function("document.querySelector('dialog').scrollTop === 0")
        assert frame.locator("h1").evaluate("h => document.activeElement === h")
        shoot(page, f"popup-step-{width}")
    finally:
        context.close()
