"""Which model reads a shopper's text, and which indexes a server may search (issue 16)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from quiz.catalog.engine import stale_models
from recommender import (
    CatalogIndex,
    CatalogItem,
    Embedder,
    Encoders,
    Preferences,
    QueryPart,
    Recommender,
    UniversalEncoder,
    document_hash,
)
from recommender.encoders import route_language
from recommender.index_store import Manifest, VectorIndex, build_index
from recommender.universal import loaded


@pytest.fixture
def encoders() -> Encoders:
    return Encoders(Embedder(), {"es": UniversalEncoder()})


def test_spanish_text_takes_the_spanish_route_and_english_text_the_main_model() -> None:
    routes = {"es": object()}
    assert route_language("una chaqueta impermeable para senderismo", routes) == "es"
    assert route_language("zapatillas cómodas para correr", routes) == "es"
    assert route_language("a waterproof jacket for hiking", routes) is None
    # A bare list of nouns says nothing: the shopper's page language decides.
    assert route_language("chaquetas impermeables", routes) is None
    assert route_language("chaquetas impermeables", routes, default="es") == "es"
    assert route_language("", routes, default="es") is None, "option labels alone: the main model"
    assert route_language("una chaqueta para mi", {}) is None, "no route for Spanish: the main model"


def test_changing_a_model_changes_every_content_hash(encoders: Encoders) -> None:
    document = "Outerwear / Rain Jackets: Packable Rain Shell"
    was_loaded = loaded()  # another test of this process may have loaded it already
    before = document_hash(document)  # the hash of 2026-12-06: the recipe alone
    now = document_hash(document, encoders.model_ids())
    assert now != before and now == document_hash(document, encoders.model_ids())
    other = document_hash(document, (encoders.model_ids()[0], "es:another-model"))
    assert other != now
    assert loaded() == was_loaded, "naming the models does not load the multilingual one"


def test_stored_embeddings_hold_each_models_vector_side_by_side(encoders: Encoders) -> None:
    assert encoders.dimension == 384 + 512
    stored = np.arange(2 * 896, dtype=np.float32).reshape(2, 896)
    main, routed = encoders.split(stored)
    assert main.shape == (2, 384) and routed["es"].shape == (2, 512) and routed["es"][0, 0] == 384
    with pytest.raises(ValueError, match="have 384 numbers, these models make 896"):
        encoders.split(stored[:, :384])


def test_an_index_built_with_another_model_is_never_searched(encoders: Encoders) -> None:
    main, spanish = encoders.primary.model_id, encoders.by_language["es"].model_id
    assert stale_models({"": main, "es": spanish}, encoders) == ""
    assert stale_models({"": main}, encoders) == "", "built before routing: searched by the main model"
    assert stale_models({"": encoders.primary.model_path}, encoders) == "", "manifests of 2026-12-06 name the folder"
    message = stale_models({"": "paraphrase-multilingual-MiniLM-L12-v2"}, encoders)
    assert message.startswith("was built with model paraphrase-multilingual-MiniLM-L12-v2, this server embeds with")
    assert "for es text" in stale_models({"": main, "es": "use-multilingual-v2"}, encoders)


class FixedEncoder:
    """Maps every text to one fixed vector: which model answered shows in which items come first."""

    def __init__(self, vector: list[float]) -> None:
        self.vector = np.asarray(vector, dtype=np.float32) / np.linalg.norm(vector)
        self.calls: list[str] = []

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        self.calls.extend(texts)
        return np.stack([self.vector for _ in texts])

    encode_cached = encode


def routed_catalog() -> CatalogIndex:
    """Three items; the main model puts item 1 nearest its query, the Spanish model item 3."""
    items = {n: CatalogItem(id=n, external_id=f"x{n}", title=f"Item {n}", category=f"C{n}") for n in (1, 2, 3)}
    ids = np.array([1, 2, 3])
    main = np.eye(3, dtype=np.float32)
    spanish = np.eye(3, 4, dtype=np.float32)[::-1].copy()  # item 3 on the first axis
    manifest = Manifest("v1", "main", 3, 3, "flat", "")
    index = VectorIndex(
        build_index(ids, main, "flat"),
        manifest,
        {"es": VectorIndex(build_index(ids, spanish, "flat"), replace(manifest, model="use", dimension=4))},
    )
    return CatalogIndex.build(index, items, "v1")


def test_spanish_words_are_matched_by_the_spanish_model_against_its_own_vectors() -> None:
    main, spanish = FixedEncoder([1, 0, 0]), FixedEncoder([1, 0, 0, 0])
    recommender = Recommender(main, routed_catalog(), {"es": spanish})  # type: ignore[arg-type,dict-item]

    def first(text: str, labels: tuple[QueryPart, ...] = ()) -> str:
        prefs = Preferences(parts=(QueryPart(text, 1.0, cacheable=False), *labels), search_text=text)
        return recommender.catalog.items[recommender.recommend(prefs, limit=1)[0].item_id].external_id

    assert first("a waterproof jacket for hiking") == "x1" and not spanish.calls
    assert first("una chaqueta impermeable para senderismo", (QueryPart("A parent", 0.3),)) == "x3"
    assert spanish.calls == ["una chaqueta impermeable para senderismo"], "the Spanish route embeds the typed words"
    typed = "una chaqueta para mi"
    spanish_prefs = Preferences(parts=(QueryPart(typed, 1.0, cacheable=False),), search_text=typed)
    assert recommender.preference_vector(spanish_prefs).shape == (3,), "profiles keep the main model's vector"
    # Without the route the same Spanish words go to the main model.
    assert Recommender(main, routed_catalog()).recommend(spanish_prefs, limit=1)[0].item_id == 1  # type: ignore[arg-type]
