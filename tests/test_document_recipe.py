"""What is embedded for a product and for a shopper: the versioned product text and the query."""

from __future__ import annotations

from flask import Flask

from quiz import merchants, quizzes
from quiz.catalog.sync import upsert_products
from quiz.platform.db import transaction
from quiz.quizzes.schema import load_quiz
from quiz.shopping.preferences import build_preferences
from recommender import CatalogItem, ProductRecord, item_document, text

from .helpers import full_answers

HUTCH = CatalogItem(
    id=1,
    external_id="H",
    title="Foldable Hutch",
    category="Pet Supplies > Pet Houses & Cages",
    brand="Burrow",
    tags=("indoor",),
    description="Roomy wire hutch with a tray.",
)


def test_the_product_text_leads_with_its_category_then_brand_tags_and_description() -> None:
    assert item_document(HUTCH) == (
        "Pet Supplies / Pet Houses & Cages: Foldable Hutch. Burrow. indoor. Roomy wire hutch with a tray."
    )


def test_a_description_in_a_script_the_model_cannot_read_is_left_out() -> None:
    chinese = CatalogItem(id=2, external_id="C", title="Rabbit Cage", description="兔笼, 宠物笼子, 折叠")
    spanish = CatalogItem(id=3, external_id="S", title="Jaula", description="Jaula plegable para conejos, con bandeja.")
    assert item_document(chinese) == "Rabbit Cage"
    assert item_document(spanish).endswith("Jaula plegable para conejos, con bandeja.")


def test_a_new_recipe_version_re_embeds_every_product(app: Flask, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    records = [ProductRecord("K1", "Camp Kettle", category="Kitchen > Kettles", price=35.0)]
    with app.app_context():
        with transaction():
            merchant = merchants.create("recipes", "Recipes").merchant
            assert upsert_products(merchant, records).embedded == 1
        with transaction():
            assert upsert_products(merchant, records).embedded == 0, "same text, same recipe: nothing to embed"
        monkeypatch.setattr(text, "DOCUMENT_RECIPE", text.DOCUMENT_RECIPE + 1)
        with transaction():
            assert upsert_products(merchant, records).embedded == 1, "the content hash carries the recipe version"


def test_only_typed_text_is_matched_by_words_and_category_filters_add_no_text() -> None:
    quiz = load_quiz(quizzes.default_definition())
    answers = full_answers(looking_for="a tent for two", categories=["camping"], styles=["technical"])
    prefs = build_preferences(quiz, answers)
    assert prefs.search_text == "a tent for two"
    assert prefs.categories, "the category answer is a hard filter"
    typed = [p for p in prefs.parts if not p.cacheable]
    assert [p.text for p in typed] == ["a tent for two"]
    assert all(p.weight < typed[0].weight for p in prefs.parts if p.cacheable), "free text outweighs option labels"
    assert not any("amping" in p.text for p in prefs.parts), "the filter's label never enters the similarity text"
