"""Shoppers' texts encoded together: micro-batching in front of the model, with admission control.

Encoding one short text costs nearly as much as encoding a few dozen at once (the model's fixed
cost per call dominates), so concurrent requests wait a short collection window and share one
model call. One encoder thread per process runs the batches; each request gets back exactly its
own rows (a batch never hands one request another's vectors, whatever merchant each is for), and
when a batch fails each of its requests is encoded again alone, so a text the model refuses
fails only the request that sent it.

Admission control: a request is refused at once with :class:`Overloaded` when the work queued
ahead of it would take longer than ``max_wait_s`` (estimated from the measured time per batch),
instead of waiting in a queue that only grows.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .embedder import Embedder
from .errors import RecommenderError

logger = logging.getLogger(__name__)

# How much each new batch time moves the running estimate.
SMOOTHING = 0.2
# A batch counts at most this many times the estimate: one outlier (the process's first, cold
# batch took 4 s against 20 ms) must not refuse every shopper behind it, while a lasting slowdown
# still raises the estimate by up to 1.6x per batch.
OUTLIER_FACTOR = 4.0
# Until the first batch is measured: a small batch of short texts on one core.
FIRST_ESTIMATE_S = 0.02


class Overloaded(RecommenderError):
    """The encoder is busier than the admission bound allows: try again in a moment."""

    def __init__(self, wait_s: float, bound_s: float) -> None:
        super().__init__(f"the encoder is busy (about {wait_s:.2f} s of work queued, bound {bound_s:g} s)")
        self.wait_s = wait_s


def next_estimate(estimate_s: float, took_s: float) -> float:
    """Return the time-per-batch estimate after a batch that took ``took_s`` (outliers clamped)."""
    return (1 - SMOOTHING) * estimate_s + SMOOTHING * min(took_s, OUTLIER_FACTOR * estimate_s)


@dataclass
class BatchSettings:
    """The collection window, the largest batch and the admission bound, all configurable."""

    window_s: float = 0.002
    max_batch: int = 32  # texts per model call
    max_wait_s: float = 1.0  # refuse a request whose queue wait would be longer

    def __post_init__(self) -> None:
        if self.window_s < 0 or self.max_batch < 1 or self.max_wait_s <= 0:
            raise ValueError("window must be >= 0 s, max batch >= 1 and the wait bound > 0 s")


@dataclass
class BatchFigures:
    """What the encoder thread has done since the process started."""

    batches: int = 0
    texts: int = 0
    refused: int = 0
    failed_batches: int = 0
    largest: int = 0


@dataclass
class _Request:
    texts: list[str]
    done: threading.Event = field(default_factory=threading.Event)
    vectors: np.ndarray | None = None
    error: BaseException | None = None


class BatchingEmbedder(Embedder):
    """An :class:`Embedder` whose small calls from concurrent threads share model calls.

    Calls of more than ``max_batch`` texts (catalog imports) go to the model directly, as before.
    """

    def __init__(
        self,
        model_path: str | None = None,
        cache_size: int = 4096,
        threads: int | None = None,
        settings: BatchSettings | None = None,
    ) -> None:
        super().__init__(model_path, cache_size=cache_size, threads=threads)
        self.settings = settings or BatchSettings()
        self.figures = BatchFigures()
        self._queue: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        self._queued_texts = 0
        self._busy = False
        self._batch_s = FIRST_ESTIMATE_S
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Return one normalised float32 row per text, encoded in a shared batch when small.

        Raises:
            Overloaded: the queue ahead would take longer than the admission bound.
        """
        if not texts or len(texts) > self.settings.max_batch:
            return super().encode(texts, batch_size)
        request = _Request(list(texts))
        self._admit(request)
        request.done.wait()
        if request.error is not None:
            raise request.error
        assert request.vectors is not None
        return request.vectors

    def expected_wait_s(self) -> float:
        """Return how long a request arriving now would wait for its batch to start, by estimate."""
        with self._lock:
            return self._expected_wait_s()

    def _expected_wait_s(self) -> float:
        batches_ahead = -(-self._queued_texts // self.settings.max_batch) + (1 if self._busy else 0)
        return batches_ahead * self._batch_s

    def check_admission(self) -> None:
        """Refuse now (:class:`Overloaded`) if a request arriving now would wait past the bound.

        For callers with work to do before their text reaches the encoder (a request reading the
        database first): under overload they refuse before doing any of it. ``encode`` checks again.
        """
        with self._lock:
            self._refuse_past_bound()

    def _refuse_past_bound(self) -> None:
        wait_s = self._expected_wait_s()
        if wait_s > self.settings.max_wait_s:
            self.figures.refused += 1
            raise Overloaded(wait_s, self.settings.max_wait_s)

    def _admit(self, request: _Request) -> None:
        with self._lock:
            self._refuse_past_bound()
            self._queued_texts += len(request.texts)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="attune-encoder", daemon=True)
                self._thread.start()
        self._queue.put(request)

    def _run(self) -> None:
        """Collect requests for one window (or until the batch is full), encode them together, repeat."""
        while True:
            batch = [self._queue.get()]
            size = len(batch[0].texts)
            deadline = time.monotonic() + self.settings.window_s
            while size < self.settings.max_batch:
                remaining = deadline - time.monotonic()
                try:
                    nxt = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                batch.append(nxt)
                size += len(nxt.texts)
            with self._lock:
                self._queued_texts -= size
                self._busy = True
            started = time.perf_counter()
            try:
                self._encode_batch(batch)
            except BaseException as exc:  # the thread is going down: nobody may be left waiting
                for request in batch:
                    if request.vectors is None and request.error is None:
                        request.error = exc
                raise
            finally:
                took = time.perf_counter() - started
                with self._lock:
                    self._busy = False
                    self._batch_s = next_estimate(self._batch_s, took)
                    self.figures.batches += 1
                    self.figures.texts += size
                    self.figures.largest = max(self.figures.largest, size)
                # Woken only now: a caller's next request must find the encoder marked free.
                for request in batch:
                    request.done.set()

    def _encode_batch(self, batch: list[_Request]) -> None:
        """Encode every request's texts in one call and give each its own rows (``_run`` wakes them)."""
        texts = [text for request in batch for text in request.texts]
        try:
            vectors = Embedder.encode(self, texts, batch_size=max(len(texts), 1))
        except Exception as exc:  # a text the model refuses: find whose, fail only that request
            self.figures.failed_batches += 1
            if len(batch) == 1:
                batch[0].error = exc
                return
            logger.warning("a batch of %d requests failed (%s); encoding each alone", len(batch), exc)
            for request in batch:
                self._encode_batch([request])
            return
        start = 0
        for request in batch:
            end = start + len(request.texts)
            request.vectors = vectors[start:end].copy()
            start = end
