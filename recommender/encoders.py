"""The models that embed a catalog: the main one, and one per language it cannot read.

all-MiniLM-L6-v2 reads English well and Spanish hardly at all; the multilingual Universal
Sentence Encoder reads Spanish well but search-box queries worse than MiniLM (docs/relevance.md).
So each product gets one vector from each model, and a shopper's text is matched in the space of
the model for its language: English (and text in no routed language) by the main model,
Spanish by the multilingual one. A product's stored embedding is its vectors side by side, in
the order of :meth:`Encoders.model_ids`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from .fusion import CATEGORY_WEIGHT
from .language import detect

# How much the category centroid adds in a routed language's space (the main space:
# fusion.CATEGORY_WEIGHT, 0.5). Chosen on needs-dev-es (docs/relevance.md): a shopper's Spanish
# meets an English product less surely than its category, so the category counts more.
ROUTE_CATEGORY_WEIGHTS = {"es": 1.0}


def category_weight_of(language: str | None) -> float:
    """Return the category centroid's weight in the space of ``language``'s route (None: the main space)."""
    return ROUTE_CATEGORY_WEIGHTS.get(language or "", CATEGORY_WEIGHT)


class TextEncoder(Protocol):
    """What the recommender asks of a model: :class:`Embedder` and :class:`UniversalEncoder` both are one."""

    model_path: str

    @property
    def model_id(self) -> str:
        """The name recorded in content hashes and index manifests."""
        ...

    @property
    def dimension(self) -> int:
        """The length of the vectors."""
        ...

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """One normalised float32 row per text."""
        ...

    def encode_cached(self, texts: Sequence[str]) -> np.ndarray:
        """Like ``encode``, remembering each text's vector."""
        ...


@dataclass(frozen=True)
class Encoders:
    """The main encoder and the encoders of the languages routed away from it, by language code."""

    primary: TextEncoder
    by_language: Mapping[str, TextEncoder] = field(default_factory=dict)

    def model_ids(self) -> tuple[str, ...]:
        """Return the ids of every model, main first: what a product's content hash records."""
        return (self.primary.model_id, *(f"{lang}:{self.by_language[lang].model_id}" for lang in self.languages))

    @property
    def languages(self) -> tuple[str, ...]:
        """Return the routed languages, in the order their vectors are stored."""
        return tuple(sorted(self.by_language))

    @property
    def dimension(self) -> int:
        """Return the length of a product's stored embedding (every model's vector side by side)."""
        return self.primary.dimension + sum(self.by_language[lang].dimension for lang in self.languages)

    def encode_documents(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Return each text's vectors from every model, side by side (one row per text)."""
        parts = [self.primary.encode(texts, batch_size=batch_size)]
        parts += [self.by_language[lang].encode(texts, batch_size=batch_size) for lang in self.languages]
        return np.ascontiguousarray(np.hstack(parts), dtype=np.float32)

    def split(self, matrix: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Return the main model's columns of stored embeddings and each routed language's.

        Raises:
            ValueError: the rows are not as long as this set of models makes them (embedded by
                other models: they must be embedded again).
        """
        if matrix.ndim != 2 or matrix.shape[1] != self.dimension:
            raise ValueError(f"stored embeddings have {matrix.shape[-1]} numbers, these models make {self.dimension}")
        start = self.primary.dimension
        routed: dict[str, np.ndarray] = {}
        for lang in self.languages:
            end = start + self.by_language[lang].dimension
            routed[lang] = np.ascontiguousarray(matrix[:, start:end])
            start = end
        return np.ascontiguousarray(matrix[:, : self.primary.dimension]), routed

    def route(self, text: str, default: str = "") -> str | None:
        """Return the routed language ``text`` is written in, or None for the main model."""
        return route_language(text, self.by_language, default)


def route_language(text: str, routes: Mapping[str, object], default: str = "") -> str | None:
    """Return the language of ``routes`` that ``text`` is written in, or None for the main model.

    ``default`` is the language to assume when the text does not say (the quiz's locale); with
    no text at all, option labels in the quiz's own language are matched by the main model.
    """
    if not text.strip():
        return None
    language = detect(text, default=default)
    return language if language in routes else None
