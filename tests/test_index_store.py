"""Index versions on disk: written whole, verified at load, ids are product ids."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from recommender import IndexLoadError, IndexStore


def vectors(n: int, dim: int = 8) -> np.ndarray:
    rng = np.random.default_rng(7)
    v = rng.normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_write_then_load_searches_by_product_id(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    ids = np.array([101, 205, 309, 4000])
    vecs = vectors(4)
    manifest = store.write("v1", ids, vecs, model="m")
    assert manifest.count == 4 and manifest.kind == "flat"
    found, scores = store.load("v1").search(vecs[2], 2)
    assert found[0] == 309 and scores[0] == pytest.approx(1.0, abs=1e-5)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no staging folder left behind"


def test_corrupted_index_is_detected(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    store.write("v1", np.array([1, 2]), vectors(2), model="m")
    index_file = tmp_path / "v1" / "index.faiss"
    data = bytearray(index_file.read_bytes())
    data[-1] ^= 0xFF
    index_file.write_bytes(bytes(data))
    with pytest.raises(IndexLoadError, match="does not match its manifest"):
        store.load("v1")
    with pytest.raises(IndexLoadError, match="manifest"):
        store.load("v9")


def test_versions_are_never_overwritten_and_old_ones_pruned(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    store.write("v1", np.array([1]), vectors(1), model="m")
    with pytest.raises(FileExistsError):
        store.write("v1", np.array([1]), vectors(1), model="m")
    store.write("v2", np.array([1, 2]), vectors(2), model="m")
    store.write("v3", np.array([1, 2, 3]), vectors(3), model="m")
    store.prune(keep={"v2", "v3"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v2", "v3"]


def test_hnsw_kind_above_the_threshold(tmp_path: Path) -> None:
    store = IndexStore(tmp_path, hnsw_threshold=10)
    vecs = vectors(50)
    manifest = store.write("v1", np.arange(1000, 1050), vecs, model="m")
    assert manifest.kind == "hnsw"
    found, _ = store.load("v1").search(vecs[17], 1)
    assert found[0] == 1017


def test_empty_catalog_index_answers_nothing(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    store.write("v1", np.zeros(0, dtype=np.int64), np.zeros((0, 8), dtype=np.float32), model="m")
    found, _ = store.load("v1").search(vectors(1)[0], 5)
    assert len(found) == 0


@pytest.mark.parametrize("threshold", [1000, 10])
def test_a_loaded_index_gives_back_every_vector_with_its_id(tmp_path: Path, threshold: int) -> None:
    store = IndexStore(tmp_path, hnsw_threshold=threshold)
    vecs = vectors(40)
    store.write("v1", np.arange(500, 540), vecs, model="m")
    loaded = store.load("v1")
    for copy in (True, False):
        ids, stored = loaded.all_vectors(copy=copy)
        assert ids.tolist() == list(range(500, 540))
        np.testing.assert_allclose(stored, vecs, rtol=1e-6)
    assert not stored.flags.writeable, "a view of the index's storage must not be written through"


def test_dense_vectors_are_sorted_by_id_and_gather_the_right_rows(tmp_path: Path) -> None:
    from recommender.catalog_index import DenseVectors

    store = IndexStore(tmp_path)
    ids = np.array([900, 12, 450, 77])  # written out of id order, as a re-import may add them
    vecs = vectors(4)
    store.write("v1", ids, vecs, model="m")
    loaded = store.load("v1")
    dense = DenseVectors.of(loaded)
    assert dense.ids.tolist() == [12, 77, 450, 900]
    wanted = np.array([450, 12])
    np.testing.assert_allclose(dense.rows(wanted), np.stack([loaded.vector(i) for i in wanted]), rtol=1e-6)


@pytest.mark.parametrize("threshold", [1000, 10])
def test_search_among_some_ids_returns_only_those(tmp_path: Path, threshold: int) -> None:
    store = IndexStore(tmp_path, hnsw_threshold=threshold)
    vecs = vectors(60)
    ids = np.arange(1000, 1060)
    store.write("v1", ids, vecs, model="m")
    loaded = store.load("v1")
    among = ids[1::3]  # the query's own item (1000) is not among them
    found, scores = loaded.search(vecs[0], 5, among=among)
    assert len(found) == 5 and set(found.tolist()) <= set(among.tolist())
    exact = np.argsort(-(vecs[1::3] @ vecs[0]))[:5]
    assert found.tolist() == among[exact].tolist(), "the nearest of the admitted items, best first"
    assert list(scores) == sorted(scores, reverse=True)


def test_a_routed_language_gets_its_own_index_of_the_same_products(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    ids = np.array([11, 22, 33])
    main, spanish = vectors(3), vectors(3, dim=5)
    manifest = store.write("v1", ids, main, model="minilm", languages={"es": ("use-v3", spanish)})
    assert manifest.models() == {"": "minilm", "es": "use-v3"}
    loaded = store.load("v1")
    assert loaded.manifest.dimension == 8 and set(loaded.languages) == {"es"}
    found, _ = loaded.languages["es"].search(spanish[1], 1)
    assert found.tolist() == [22] and loaded.languages["es"].manifest.model == "use-v3"
    routed_file = tmp_path / "v1" / "index-es.faiss"
    routed_file.write_bytes(routed_file.read_bytes()[:-4])
    with pytest.raises(IndexLoadError, match="index-es.faiss is missing or does not match"):
        store.load("v1")


def test_an_index_written_before_routing_still_loads_with_its_main_model(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    store.write("v1", np.array([1, 2]), vectors(2), model="/old/model/folder")
    manifest_file = tmp_path / "v1" / "manifest.json"
    raw = json.loads(manifest_file.read_text())
    del raw["languages"]  # the manifest of 2026-12-06 had no such field
    manifest_file.write_text(json.dumps(raw))
    loaded = store.load("v1")
    assert loaded.languages == {} and loaded.manifest.models() == {"": "/old/model/folder"}


def test_routed_rows_must_match_the_ids(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="2 rows for 3 ids"):
        IndexStore(tmp_path).write("v1", np.array([1, 2, 3]), vectors(3), "m", languages={"es": ("u", vectors(2))})
    assert not any(tmp_path.iterdir()) or not [p for p in tmp_path.iterdir() if p.name == "v1"]
