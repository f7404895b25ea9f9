"""How much memory a loaded catalog holds: an estimate cheap enough to take at every load.

A process keeps only as many merchants' catalogs as its memory budget allows (the web side
evicts the least recently used). Asking the allocator per catalog is not possible, so the size
is estimated by walking the catalog: numpy arrays and sparse matrices count their buffers, a
FAISS index its vectors, ids and graph, and Python objects their ``sys.getsizeof``. Large
containers are sampled (the mean of up to ``SAMPLE`` members times their count), so a catalog
of 100,000 products is measured in a few milliseconds. The estimate is checked against the
process's resident memory in ``bench/many_merchants.py``.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np

from .columnar import ColumnarItems
from .index_store import VectorIndex

SAMPLE = 64  # members measured per large container
_MAX_DEPTH = 12


def approximate_bytes(obj: Any) -> int:
    """Return an estimate of the memory ``obj`` and everything it holds take, in bytes.

    Objects reachable twice (a matrix viewing an index's storage, shared ids) count once.
    """
    return _size(obj, set(), 0)


def faiss_bytes(index: VectorIndex) -> int:
    """Return the memory of a loaded FAISS index: vectors, id map and, for HNSW, its graph."""
    import faiss  # heavy: loaded on first use, not when this module loads

    raw = index._index  # the wrapped FAISS object; nothing else reads it outside index_store
    count, dim = int(raw.ntotal), int(raw.d)
    total = count * dim * 4 + count * 8  # float32 vectors + int64 id map
    base = faiss.downcast_index(raw.index)
    if isinstance(base, faiss.IndexHNSW):
        hnsw = base.hnsw
        total += hnsw.neighbors.size() * 4 + hnsw.offsets.size() * 8 + hnsw.levels.size() * 4
    if isinstance(raw, faiss.IndexIDMap2):
        total += count * 48  # the reverse map (an unordered_map node per id)
    return total


def _size(obj: Any, seen: set[int], depth: int) -> int:
    if obj is None or isinstance(obj, bool | int | float) or id(obj) in seen or depth > _MAX_DEPTH:
        return 0
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        # A view of another buffer (the dense matrix over FAISS's storage) holds no memory of its own.
        return obj.nbytes if obj.flags.owndata else 0
    if isinstance(obj, VectorIndex):  # and the same products in each routed language's model
        return faiss_bytes(obj) + sum(_size(routed, seen, depth + 1) for routed in obj.languages.values())
    if isinstance(obj, str | bytes):
        return sys.getsizeof(obj)
    if hasattr(obj, "tocsc") and hasattr(obj, "data"):  # a scipy sparse matrix
        return sum(getattr(obj, part).nbytes for part in ("data", "indices", "indptr") if hasattr(obj, part))
    own = sys.getsizeof(obj)
    if isinstance(obj, ColumnarItems):  # a Mapping, but measured by its columns, not its (built) items
        return own + _size(vars(obj), seen, depth + 1)
    if isinstance(obj, Mapping):
        return own + _members([_Pair(k, v) for k, v in _sample(obj.items())], len(obj), seen, depth)
    if isinstance(obj, list | tuple | set | frozenset):
        return own + _members(_sample(obj), len(obj), seen, depth)
    if isinstance(obj, _Pair):
        return _size(obj.key, seen, depth) + _size(obj.value, seen, depth)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = [getattr(obj, f.name) for f in dataclasses.fields(obj)]
        own += sys.getsizeof(vars(obj)) if hasattr(obj, "__dict__") else 0
        return own + sum(_size(value, seen, depth + 1) for value in fields)
    if hasattr(obj, "__dict__"):
        return own + _size(vars(obj), seen, depth + 1)
    return own


@dataclasses.dataclass(frozen=True, slots=True)
class _Pair:
    """A mapping's key and value, measured without the tuple ``items()`` would make."""

    key: Any
    value: Any


def _members(members: list[Any], count: int, seen: set[int], depth: int) -> int:
    """Return the size of a container's members, from a sample when there are many."""
    if not count:
        return 0
    picked = members
    measured = sum(_size(member, seen, depth + 1) for member in picked)
    return measured if len(picked) == count else int(measured / len(picked) * count)


def _sample(container: Any) -> list[Any]:
    """Return up to ``SAMPLE`` members spread over a container (all of a small one)."""
    members = list(container)
    return members if len(members) <= SAMPLE else members[:: len(members) // SAMPLE][:SAMPLE]
