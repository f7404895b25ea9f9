"""FAISS indexes on disk: built beside the live one, verified by a manifest, swapped atomically.

Layout under ``root``::

    v<N>/index.faiss      the FAISS index (IndexIDMap2 over flat inner product or HNSW)
    v<N>/index-<lang>.faiss  the same products' vectors from the model of a routed language
    v<N>/manifest.json    model, dimension, count, kind, sha256 of index.faiss, and per
                          routed language its model, dimension and sha256

A loaded version's vectors are memory-mapped from ``index.faiss`` (FAISS's ``IO_FLAG_MMAP_IFC``,
exact and HNSW alike), so workers on one machine share those pages.

A version folder is complete or absent: it is written under a temporary name, fsynced and
renamed into place with ``os.replace``. FAISS ids are product primary keys, never row numbers.
(Long because writing and loading check the same manifest fields, side by side.)
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from .errors import IndexLoadError

if TYPE_CHECKING:
    import faiss

IndexKind = Literal["flat", "hnsw"]

# Exact search is fast enough below this many vectors (0.7 ms at 10k, 15 ms at 100k).
HNSW_THRESHOLD = 50_000
INDEX_FILE = "index.faiss"
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class Manifest:
    """What a version folder promises to hold."""

    version: str
    model: str
    dimension: int
    count: int
    kind: IndexKind
    sha256: str
    # Routed language -> {"model", "dimension", "sha256"} of its index-<lang>.faiss (none before 2026-12-07).
    languages: dict[str, dict[str, object]] = field(default_factory=dict)

    def models(self) -> dict[str, str]:
        """Return the model of each vector space: "" for the main one, then each routed language."""
        return {"": self.model, **{lang: str(entry["model"]) for lang, entry in self.languages.items()}}


class VectorIndex:
    """A loaded FAISS index answering top-k inner-product queries by product id."""

    def __init__(self, index: faiss.Index, manifest: Manifest, languages: dict[str, VectorIndex] | None = None) -> None:
        self._index = index
        self.manifest = manifest
        self.languages = languages or {}  # the same products in each routed language's model

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def vector(self, item_id: int) -> np.ndarray:
        """Return the stored vector of one item."""
        return np.asarray(self._index.reconstruct(int(item_id)), dtype=np.float32)

    def all_vectors(self, copy: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(ids, vectors)`` of every item, in the order they were added.

        With ``copy=False`` the vectors are a read-only view of the index's own storage where
        FAISS keeps them flat (exact and HNSW indexes), which saves 150 MiB at 100,000 products;
        the caller must then keep this object alive as long as it uses the view.
        """
        import faiss  # heavy: loaded on first use, not when this module loads

        ids = faiss.vector_to_array(self._index.id_map).astype(np.int64)
        base = faiss.downcast_index(self._index.index)
        storage = faiss.downcast_index(base.storage) if isinstance(base, faiss.IndexHNSW) else base
        count, dim = int(self._index.ntotal), int(self._index.d)
        if not copy and isinstance(storage, faiss.IndexFlat) and count:
            view = faiss.rev_swig_ptr(storage.get_xb(), count * dim).reshape(count, dim)
            view.flags.writeable = False
            return ids, view
        return ids, np.asarray(self._index.index.reconstruct_n(0, count), dtype=np.float32)

    def search(self, vector: np.ndarray, k: int, among: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(ids, scores)`` of the ``k`` nearest items, best first, only of ids ``among`` if given.

        Restricted to ``among``, an HNSW index may find fewer than ``k`` when few items qualify.
        """
        k = min(k, len(self) if among is None else len(among))
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        query = np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32)
        if among is None:
            scores, ids = self._index.search(query, k)
        else:
            scores, ids = self._index.search(query, k, params=self._only(among))
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def _only(self, among: np.ndarray) -> faiss.SearchParameters:
        """Return search parameters admitting only the item ids ``among`` (a bitmap over ids)."""
        import faiss  # heavy: loaded on first use, not when this module loads

        bitmap = np.zeros(int(among.max()) + 1, dtype=bool)
        bitmap[among] = True
        packed = np.packbits(bitmap, bitorder="little")
        selector = faiss.IDSelectorBitmap(len(bitmap), faiss.swig_ptr(packed))
        selector.referenced = packed  # FAISS reads the bitmap during the search: keep it alive
        if self.manifest.kind == "hnsw":
            ef_search = faiss.downcast_index(self._index.index).hnsw.efSearch
            return faiss.SearchParametersHNSW(sel=selector, efSearch=ef_search)
        return faiss.SearchParameters(sel=selector)


def index_kind_for(count: int, hnsw_threshold: int = HNSW_THRESHOLD) -> IndexKind:
    """Return the index kind used for ``count`` vectors: exact up to the HNSW threshold."""
    return "hnsw" if count > hnsw_threshold else "flat"


def build_index(ids: np.ndarray, vectors: np.ndarray, kind: IndexKind) -> faiss.Index:
    """Build an id-mapped inner-product index of the given kind."""
    import faiss  # heavy: loaded on first use, not when this module loads

    if vectors.ndim != 2 or len(ids) != len(vectors):
        raise ValueError("build_index needs one id per row of a 2-d vector array")
    dim = vectors.shape[1]
    if kind == "hnsw":
        base = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        base.hnsw.efSearch = 256  # recall@50 0.987 of exact on 60k real titles (bench/hnsw_recall.py)
    else:
        base = faiss.IndexFlatIP(dim)
    index = faiss.IndexIDMap2(base)
    if len(ids):
        index.add_with_ids(
            np.ascontiguousarray(vectors, dtype=np.float32),
            np.ascontiguousarray(ids, dtype=np.int64),
        )
    return index


class IndexStore:
    """The version folders of one catalog's index."""

    def __init__(self, root: str | os.PathLike[str], hnsw_threshold: int = HNSW_THRESHOLD) -> None:
        self.root = Path(root)
        self.hnsw_threshold = hnsw_threshold

    def write(
        self,
        version: str,
        ids: np.ndarray,
        vectors: np.ndarray,
        model: str,
        languages: dict[str, tuple[str, np.ndarray]] | None = None,
    ) -> Manifest:
        """Build and persist version ``version``; it becomes visible only once complete.

        ``languages`` maps a routed language to its model and the same products' vectors from
        it (rows in the order of ``ids``), each written as its own index beside the main one.

        Raises:
            OSError: the files could not be written (a full disk: ``errno.ENOSPC``); nothing of
                the version is left behind.
        """
        final = self.root / version
        if final.exists():
            raise FileExistsError(f"index version {version} already exists at {final}")
        self.root.mkdir(parents=True, exist_ok=True)
        kind = index_kind_for(len(ids), self.hnsw_threshold)
        index = build_index(ids, vectors, kind)
        staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=self.root))
        try:
            routed: dict[str, dict[str, object]] = {}
            for lang, (lang_model, lang_vectors) in sorted((languages or {}).items()):
                if len(lang_vectors) != len(ids):
                    raise ValueError(f"the {lang} vectors hold {len(lang_vectors)} rows for {len(ids)} ids")
                routed[lang] = {
                    "model": lang_model,
                    "dimension": int(lang_vectors.shape[1]),
                    "sha256": _write_faiss(build_index(ids, lang_vectors, kind), staging / language_file(lang)),
                }
            manifest = Manifest(
                version=version,
                model=model,
                dimension=int(vectors.shape[1]),
                count=int(index.ntotal),
                kind=kind,
                sha256=_write_faiss(index, staging / INDEX_FILE),
                languages=routed,
            )
            (staging / MANIFEST_FILE).write_text(json.dumps(manifest.__dict__, indent=2))
            _fsync_tree(staging)
            os.replace(staging, final)
            _fsync_dir(self.root)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return manifest

    def load(self, version: str) -> VectorIndex:
        """Load version ``version`` and its routed languages' indexes, checking them against the manifest."""
        folder = self.root / version
        try:
            raw = json.loads((folder / MANIFEST_FILE).read_text())
            manifest = Manifest(**raw)
        except (OSError, ValueError, TypeError) as exc:
            raise IndexLoadError(f"index {folder} has no readable manifest: {exc}") from exc
        index = _read_checked(folder / INDEX_FILE, manifest.sha256, manifest.count, manifest.dimension)
        languages = {}
        for lang, entry in manifest.languages.items():
            try:
                lang_model, dimension, sha256 = str(entry["model"]), int(entry["dimension"]), str(entry["sha256"])  # type: ignore[call-overload]
                path = folder / language_file(lang)
            except (KeyError, TypeError, ValueError) as exc:
                raise IndexLoadError(f"index {folder} has an unreadable entry for {lang!r} in its manifest") from exc
            lang_index = _read_checked(path, sha256, manifest.count, dimension)
            lang_manifest = replace(manifest, model=lang_model, dimension=dimension, sha256=sha256, languages={})
            languages[lang] = VectorIndex(lang_index, lang_manifest)
        return VectorIndex(index, manifest, languages)

    def prune(self, keep: set[str]) -> None:
        """Delete version folders not named in ``keep`` (older versions no process serves)."""
        if not self.root.is_dir():
            return
        for child in self.root.iterdir():
            if child.is_dir() and child.name not in keep and not child.name.startswith("."):
                shutil.rmtree(child, ignore_errors=True)


def language_file(language: str) -> str:
    """Return the file name of a routed language's index in a version folder."""
    if not language.isalpha():
        raise ValueError(f"language code {language!r} must be letters only")
    return f"index-{language}.faiss"


def _read_checked(path: Path, sha256: str, count: int, dimension: int) -> faiss.Index:
    """Return the FAISS index at ``path`` once its bytes and shape match the manifest."""
    import faiss  # heavy: loaded on first use, not when this module loads

    if not path.is_file() or _sha256(path) != sha256:
        raise IndexLoadError(f"index file {path} is missing or does not match its manifest")
    try:
        # Vectors memory-mapped from the version folder, not copied: the pages are the file's,
        # shared by every worker on the machine through the page cache. Version files are never
        # rewritten in place (a new version is a new folder), and a pruned file stays mapped.
        index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
    except RuntimeError as exc:  # FAISS's own parse errors
        raise IndexLoadError(f"index file {path} cannot be read: {exc}") from exc
    if index.ntotal != count or index.d != dimension:
        raise IndexLoadError(
            f"index {path} holds {index.ntotal} vectors of {index.d}, manifest says {count} of {dimension}"
        )
    return index


def _write_faiss(index: faiss.Index, path: Path) -> str:
    """Write ``index`` to ``path`` through Python's file layer and return the SHA-256 of its bytes.

    ``faiss.write_index(index, filename)`` reports a failed final flush only on stderr, so a
    full disk could leave a short file whose checksum then matches; Python raises instead.
    """
    import faiss  # heavy: loaded on first use, not when this module loads

    digest = hashlib.sha256()
    with path.open("wb") as fh:

        def write(chunk: bytes) -> int:
            fh.write(chunk)
            digest.update(chunk)
            return len(chunk)

        writer = faiss.PyCallbackIOWriter(write)
        faiss.write_index(index, writer)
        del writer  # flushes FAISS's last block into the file
        fh.flush()
        os.fsync(fh.fileno())
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_tree(folder: Path) -> None:
    for child in folder.iterdir():
        with child.open("rb") as fh:
            os.fsync(fh.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
