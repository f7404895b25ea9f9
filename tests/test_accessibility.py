"""Accessibility: axe-core in Chromium finds no serious or critical problem on the shopper pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .test_browser import take_quiz

pytestmark = pytest.mark.browser
AXE = Path(__file__).resolve().parents[1] / ".tools" / "node_modules" / "axe-core" / "axe.min.js"
SEVERE = ("serious", "critical")


def violations(page: Any) -> list[str]:
    """Run axe-core on the page; return the serious and critical violations, readable."""
    page.evaluate(AXE.read_text())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in SEVERE
    ]


def test_explainer_quiz_and_results_have_no_serious_accessibility_problems(browser: Any, live_server: str) -> None:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: `make test` installs axe-core from npm")
    context = browser.new_context()
    page = context.new_page()
    page.set_content("<html lang=en><title>control</title><body><main><img src='x.png'></main></body></html>")
    assert any(v.startswith("image-alt") for v in violations(page)), "axe must catch a known problem"
    found: dict[str, list[str]] = {}

    def check(name: str) -> None:
        found[name] = violations(page)

    page.goto(live_server + "/")
    check("explainer")
    page.get_by_role("button", name="Accept all").click()
    check("about")
    page.get_by_role("button", name="Continue").click()
    check("about with errors")
    context.close()

    context = browser.new_context()
    page = context.new_page()
    take_quiz(page, live_server)
    page.wait_for_load_state("networkidle")
    check("results")
    page.get_by_role("link", name="Your data and privacy").click()
    check("privacy")
    context.close()
    assert found == {name: [] for name in found}, found


@pytest.mark.parametrize("width", [375, 1280])
def test_the_quiz_fits_phones_and_desktops(browser: Any, live_server: str, width: int, tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    shots = []

    def shoot(name: str) -> None:
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
        path = tmp_path / f"{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        shots.append(path)

    page.goto(live_server + "/")
    shoot("explainer")
    take_quiz(page, live_server)
    page.wait_for_load_state("networkidle")
    shoot("results")
    context.close()
    assert all(p.stat().st_size > 10_000 for p in shots)
