"""English and Spanish: language negotiation, the switch, translated pages, quiz texts and reasons."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from marshmallow import ValidationError

from quiz.models import ConsentRecord
from quiz.platform.db import get_session
from quiz.privacy.explainer import explainer_for
from quiz.quizzes.local_text import LocalText
from quiz.quizzes.schema import load_quiz, map_texts
from quiz.quizzes.store import default_definition
from quiz.shopping.reasons import phrase
from recommender import PriceRange, Reason

from .conftest import csrf_token
from .helpers import NEED, full_answers, grant
from .test_accessibility import AXE, violations
from .test_shopper_pages import ABOUT, INTENT, PREFERENCES, HashedText

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "quiz" / "translations" / "es" / "LC_MESSAGES" / "messages.po"
SPANISH = "es-ES,es;q=0.9,en;q=0.5"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@pytest.fixture
def spanish(client: FlaskClient) -> FlaskClient:
    """A client whose browser asks for Spanish."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = SPANISH
    return client


def html_lang(page: str) -> str:
    return re.search(r'<html lang="([^"]+)"', page).group(1)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [(SPANISH, "es"), ("es-MX", "es"), ("en-GB,en;q=0.8", "en"), ("fr-FR,fr;q=0.9", "en"), ("", "en")],
)
def test_the_browser_language_picks_the_page_language(client: FlaskClient, accept: str, expected: str) -> None:
    response = client.get("/", headers={"Accept-Language": accept} if accept else {})
    page = response.get_data(as_text=True)
    assert html_lang(page) == expected and response.headers["Content-Language"] == expected
    assert "Accept-Language" in response.headers["Vary"], "caches must keep the languages apart"
    heading = "Antes de empezar" if expected == "es" else "Before you start"
    assert f"<h1 data-hashed>{heading}" in page


def test_the_visible_switch_changes_the_language_for_the_rest_of_the_visit(client: FlaskClient) -> None:
    english = {"Accept-Language": "en"}
    page = client.get("/m/demo/", headers=english).get_data(as_text=True)
    switch = re.search(r'<nav class="languages" aria-label="Language">.*?</nav>', page, re.S).group(0)
    assert 'href="/m/demo/?lang=es" lang="es" hreflang="es">Español</a>' in switch
    assert 'href="/m/demo/?lang=en" lang="en" hreflang="en" aria-current="true">English</a>' in switch

    chosen = client.get("/m/demo/?lang=es", headers=english).get_data(as_text=True)
    assert html_lang(chosen) == "es" and "Tus datos, tu decisión" in chosen
    assert '<nav class="languages" aria-label="Idioma">' in chosen
    later = client.get("/m/demo/", headers=english).get_data(as_text=True)
    assert html_lang(later) == "es", "the choice outlives the browser's preference"
    assert html_lang(client.get("/m/demo/?lang=en").get_data(as_text=True)) == "en"
    assert html_lang(client.get("/m/demo/?lang=xx", headers=english).get_data(as_text=True)) == "en"


def test_odd_query_parameters_do_not_break_the_language_switch(client: FlaskClient) -> None:
    response = client.get("/m/demo/?slug=x&endpoint=y&_anchor=z&_method=POST&_external=1&utm_source=mail")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'href="/m/demo/?utm_source=mail&amp;lang=es"' in page, "plain parameters pass through, the rest not"
    refused = client.post("/m/demo/consent", data={"accept_all": "1"})
    assert refused.status_code == 400 and 'class="languages"' not in refused.get_data(as_text=True)


def test_a_decision_in_spanish_records_the_spanish_text_and_its_hash(app: Flask, spanish: FlaskClient) -> None:
    page = spanish.get("/").get_data(as_text=True)
    parser = HashedText()
    parser.feed(page)
    shown = "\n\n".join(block.strip() for block in parser.blocks)
    assert "Qué recogemos" in shown and "24 meses" in shown and "Trailhead Supply Co." in shown
    version = re.search(r'name="explainer_version" type="hidden" value="([^"]+)"', page).group(1)
    data = {"csrf_token": csrf_token(page), "explainer_version": version, "accept_all": "1"}
    assert spanish.post("/m/demo/consent", data=data).status_code == 302
    with app.app_context():
        record = get_session().scalars(sa.select(ConsentRecord)).one()
    assert record.locale == "es"
    assert record.text_sha256 == hashlib.sha256(shown.encode()).hexdigest()
    assert record.text_sha256 == explainer_for("Trailhead Supply Co.", 24, "es").sha256
    assert record.text_sha256 != explainer_for("Trailhead Supply Co.", 24, "en").sha256


def answer(client: FlaskClient, section: str, data: dict[str, object]) -> tuple[int, str]:
    page = client.get(f"/m/demo/quiz/{section}").get_data(as_text=True)
    response = client.post(f"/m/demo/quiz/{section}", data={"csrf_token": csrf_token(page), **data})
    return response.status_code, response.get_data(as_text=True)


def decide_all(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    version = re.search(r'name="explainer_version" type="hidden" value="([^"]+)"', page).group(1)
    client.post(
        "/m/demo/consent", data={"csrf_token": csrf_token(page), "explainer_version": version, "accept_all": "1"}
    )


def result_titles(page: str) -> list[str]:
    return re.findall(r'<h2><a href="[^"]*" rel="noopener">([^<]+)</a></h2>', page)


def test_a_shopper_takes_the_whole_quiz_in_spanish(client: FlaskClient, app: Flask) -> None:
    english = app.test_client()
    english.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = SPANISH
    decide_all(client)
    decide_all(english)

    about = client.get("/m/demo/quiz/about").get_data(as_text=True)
    for text in ("Paso 1 de 3", "Sobre ti", "Edad", "Prefiero no decirlo", "(obligatoria)", "Continuar"):
        assert text in about, text
    assert '<option value="DE">Alemania</option>' in about and "Elige tu país" in about
    status, page = answer(client, "about", {"first_name": "Ada"})
    assert status == 422 and "Esta pregunta necesita una respuesta." in page and "Revisa las respuestas" in page

    for shopper in (client, english):
        for section, data in (("about", ABOUT), ("intent", INTENT), ("preferences", PREFERENCES)):
            assert answer(shopper, section, data)[0] == 302
    spanish_results = client.get("/m/demo/results").get_data(as_text=True)
    english_results = english.get("/m/demo/results").get_data(as_text=True)
    assert "Elegido para ti" in spanish_results and "Muéstrame algo diferente" in spanish_results
    assert "confección técnica, de alto rendimiento" in spanish_results, "the merchant's reasons, translated"
    assert "coincide: " in spanish_results and "matches: " not in spanish_results
    assert result_titles(spanish_results) == result_titles(english_results), "same matches in either language"
    assert len(result_titles(spanish_results)) == 12

    privacy = re.search(r'href="(/privacy/[^"]+)"', spanish_results).group(1)
    page = client.get(privacy).get_data(as_text=True)
    assert "Tus datos en Trailhead Supply Co." in page and "<dt>Edad</dt>" in page
    assert "Técnico y de alto rendimiento" in page, "answers show as the option the shopper picked"


def test_the_api_answers_in_the_language_asked_for(client: FlaskClient) -> None:
    quiz = client.get("/api/v1/m/demo/quiz", headers={"Accept-Language": "es"}).json
    assert quiz["locale"] == "es" and quiz["title"] == "Encuentra tu equipo"
    country = quiz["sections"][0]["questions"][3]
    assert {"value": "DE", "label": "Alemania", "image": ""} in country["options"]
    assert client.get("/api/v1/m/demo/quiz").json["sections"][0]["title"] == "About you"

    auth = grant(client)
    body = {"answers": full_answers(budget=[20, 60], looking_for="warm socks and a hat for winter"), "limit": 6}
    en = client.post("/api/v1/m/demo/recommendations", json=body, headers=auth).json["items"]
    es = client.post("/api/v1/m/demo/recommendations?lang=es", json=body, headers=auth).json["items"]
    assert [i["id"] for i in en] == [i["id"] for i in es]
    assert all("within your 20-60 budget" in i["reasons"] for i in en)
    assert all("dentro de tu presupuesto de 20-60" in i["reasons"] for i in es)

    asked = client.get("/api/v1/m/demo/quiz?lang=es", headers={"Accept-Language": "en"}).json
    assert asked["title"] == "Encuentra tu equipo", "lang= wins over the browser's language"


def test_consent_through_the_api_records_the_explainer_language(app: Flask, client: FlaskClient) -> None:
    explainer = client.get("/api/v1/m/demo/explainer", headers={"Accept-Language": "es"}).json
    assert explainer["locale"] == "es" and explainer["text"].startswith("Antes de empezar")
    assert explainer["sha256"] == hashlib.sha256(explainer["text"].encode()).hexdigest()
    chosen = {"recommendations": True}
    made = client.post("/api/v1/m/demo/consents", json={"purposes": chosen, "locale": "es"})
    assert made.status_code == 201
    with app.app_context():
        record = get_session().scalars(sa.select(ConsentRecord)).one()
    assert (record.locale, record.text_sha256) == ("es", explainer["sha256"])
    refused = client.post("/api/v1/m/demo/consents", json={"purposes": chosen, "locale": "fr"})
    assert refused.status_code == 422 and "locale" in refused.json["fields"]


def test_reasons_are_worded_in_each_language(app: Flask) -> None:
    budget = Reason("budget", budget=PriceRange(19.5, 40), currency="EUR")
    kinds = [
        Reason("words", words=("warm", "hat")),
        Reason("category", category="Outerwear"),
        budget,
        Reason("budget", budget=PriceRange(None, 80), currency="USD"),
        Reason("budget", budget=PriceRange(150, None), currency="USD"),
        Reason("pinned"),
        Reason("close"),
        Reason("fit"),
        Reason("over_budget"),
        Reason("outside_budget"),
        Reason("other_category", category="Footwear"),
        Reason("other_category"),
        Reason("avoided"),
    ]
    with app.test_request_context(headers={"Accept-Language": "en"}):
        english = [phrase(r) for r in kinds]
        assert english[2:5] == ["within your 19.5-40 EUR budget", "under your 80 budget", "within your 150+ budget"]
        assert phrase(Reason("boost", text=LocalText({"en": "cut for women", "es": "corte de mujer"}, "en"))) == (
            "cut for women"
        )
    with app.test_request_context(headers={"Accept-Language": "es"}):
        spanish = [phrase(r) for r in kinds]
        assert spanish[2] == "dentro de tu presupuesto de 19,5-40 EUR", "Spanish writes decimals with a comma"
        assert phrase(Reason("boost", text=LocalText({"en": "cut for women", "es": "corte de mujer"}, "en"))) == (
            "corte de mujer"
        )
        assert phrase(Reason("boost", text="plain text")) == "plain text"
    assert all(english) and all(spanish)
    assert all(e != s for e, s in zip(english, spanish, strict=True)), list(zip(english, spanish, strict=True))


def test_every_shopper_text_in_the_code_has_a_spanish_translation() -> None:
    with (ROOT / "quiz" / "translations" / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    used = {message for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map, options_map)}
    with CATALOG.open("rb") as po:
        catalog = read_po(po)
    translated = {m.id: m for m in catalog if m.id}
    assert sorted(used - set(translated)) == [], "run `make messages` and translate the new strings"
    assert sorted(set(translated) - used) == [], "the catalog holds strings the code no longer uses"
    for msgid, message in translated.items():
        assert message.string and not message.fuzzy, f"untranslated: {msgid!r}"
        assert set(PLACEHOLDER.findall(msgid)) == set(PLACEHOLDER.findall(message.string)), msgid


def test_the_demo_quiz_and_the_explainer_are_complete_in_both_languages() -> None:
    missing: list[str] = []

    def check(text: str, path: str) -> str:
        has_words = any(c.isalpha() for c in text)
        both = isinstance(text, LocalText) and {"en", "es"} <= set(text.translations)
        if has_words and not both:
            missing.append(path)
        return text

    quiz = load_quiz(default_definition())
    map_texts(quiz, check)
    assert missing == []
    spanish = quiz.localized("es")
    assert spanish.question("country").options[0].label == "Afganistán", "countries sort by their Spanish name"

    en, es = explainer_for("Shop", 24, "en"), explainer_for("Shop", 24, "es")
    assert es.version == en.version and es.locale == "es"
    assert [p.key for p in es.purposes] == [p.key for p in en.purposes]
    assert len(es.sections) == len(en.sections)
    assert all(a != b for a, b in zip(en.text.split("\n\n"), es.text.split("\n\n"), strict=True) if a != "SMS: ")


def test_quiz_texts_per_language_are_checked_by_path() -> None:
    def definition(label: object, locale: str = "en") -> dict[str, object]:
        question = {"id": "age", "type": "single", "label": label, "options": [{"value": "a", "label": "A"}]}
        return {
            "id": "q",
            "title": "Q",
            "locale": locale,
            "sections": [{"id": "s", "title": "S", "questions": [question]}],
        }

    with pytest.raises(ValidationError) as missing:
        load_quiz(definition({"es": "Edad"}))
    assert "'en'" in missing.value.messages["sections[0].questions[0].label"][0]
    with pytest.raises(ValidationError) as bad_code:
        load_quiz(definition({"english": "Age"}))
    assert "language code" in bad_code.value.messages["sections[0].questions[0].label"][0]
    with pytest.raises(ValidationError) as not_text:
        load_quiz(definition(42))
    assert "sections[0].questions[0].label" in not_text.value.messages

    quiz = load_quiz(definition({"es": "Edad", "en": "Age"}))
    assert quiz.question("age").label == "Age", "the quiz's own language is what matching reads"
    assert quiz.localized("es").question("age").label == "Edad"
    assert quiz.localized("es-MX").question("age").label == "Edad"
    assert quiz.localized("pt").question("age").label == "Age", "a missing language falls back"
    spanish_first = load_quiz(definition({"en": "Age", "es": "Edad"}, locale="es"))
    assert spanish_first.question("age").label == "Edad"


@pytest.mark.browser
def test_a_spanish_phone_gets_an_accessible_spanish_quiz_with_live_preview(
    browser: object, live_server: str, tmp_path: Path
) -> None:
    shots = tmp_path
    assert AXE.exists(), "`make test` installs axe-core from npm"
    context = browser.new_context(locale="es-ES", viewport={"width": 375, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    found: dict[str, list[str]] = {}

    def check(name: str) -> None:
        """Longer Spanish words must still fit a phone, and pass axe."""
        found[name] = violations(page)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            found[name].append(f"scrolls sideways by {overflow}px at 375px")
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

    page.goto(live_server + "/")
    assert page.get_attribute("html", "lang") == "es"
    assert page.get_by_role("heading", level=1).inner_text().startswith("Antes de empezar")
    check("explainer")
    page.get_by_role("button", name="Aceptar todo").click()

    page.get_by_role("button", name="Continuar").click()
    assert page.locator(".error").first.inner_text() == "Revisa las respuestas marcadas abajo."
    check("about with errors")
    page.get_by_label("25-34").check()
    page.get_by_label("País").select_option(label="Noruega")
    page.get_by_role("button", name="Continuar").click()

    page.get_by_label("Compro para mí").check()
    page.get_by_label("¿Qué estás buscando?").fill(NEED)
    page.get_by_label("Esta semana").check()
    assert page.locator(".counter").inner_text() == f"Quedan {500 - len(NEED)} caracteres."
    page.get_by_role("button", name="Continuar").click()
    preview = page.locator("aside.preview li").first
    preview.wait_for()
    assert "coincide:" in preview.inner_text(), "the preview's reasons are in Spanish too"
    check("preferences")

    page.get_by_label("Cualquier categoría").check()
    page.get_by_label("Hasta", exact=True).fill("400")
    page.get_by_label("Me da igual").check()
    page.get_by_role("button", name="Ver mis recomendaciones").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Elegido para ti"
    assert "por debajo de tu presupuesto de 400" in page.locator(".card").first.inner_text()
    check("results")

    page.get_by_role("navigation", name="Idioma").get_by_role("link", name="English").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Picked for you"
    assert page.get_attribute("html", "lang") == "en"
    context.close()
    assert found == {name: [] for name in found}, found
    assert errors == []
