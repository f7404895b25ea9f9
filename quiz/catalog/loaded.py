"""The catalogs one process holds, within a memory budget, least recently used evicted first.

Each loaded catalog is measured once (:func:`recommender.footprint.approximate_bytes`). When a
load brings the total over the budget, whole merchants are dropped, least recently used first,
until it fits; the catalog just loaded always stays (one catalog larger than the whole budget is
served alone, and logged). Eviction only forgets the process's reference: a request that already
holds a catalog keeps it alive and finishes with it, and the next request of that merchant loads
it again (a miss).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass

from recommender import CatalogIndex
from recommender.footprint import approximate_bytes

from ..platform import metrics

logger = logging.getLogger(__name__)

MIB = 1024 * 1024


@dataclass(frozen=True)
class Loaded:
    """One merchant's catalog in memory and its estimated size."""

    catalog: CatalogIndex
    nbytes: int


@dataclass(frozen=True)
class CacheFigures:
    """What the cache holds and has done since the process started."""

    loaded: int
    used_bytes: int
    budget_bytes: int
    hits: int
    misses: int
    evictions: int

    def as_dict(self) -> dict[str, int | float]:
        """Return the figures as /readyz shows them (sizes in MiB)."""
        return {
            "loaded": self.loaded,
            "memory_mb": round(self.used_bytes / MIB, 1),
            "budget_mb": round(self.budget_bytes / MIB, 1),
            "hits": self.hits,
            "misses": self.misses,
            "evictions": self.evictions,
        }


class LoadedCatalogs:
    """Merchant id -> loaded catalog, least recently used first, kept within ``budget_bytes``."""

    def __init__(self, budget_bytes: int) -> None:
        if budget_bytes < 1:
            raise ValueError("the catalog memory budget must be positive")
        self.budget_bytes = budget_bytes
        self._entries: OrderedDict[int, Loaded] = OrderedDict()
        self._used = 0
        self._lock = threading.Lock()  # held for dict steps only, never during a load
        self._hits = self._misses = self._evictions = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, merchant_id: int, version: str) -> CatalogIndex | None:
        """Return the merchant's catalog if ``version`` is loaded (a hit), else None (a miss)."""
        with self._lock:
            entry = self._entries.get(merchant_id)
            if entry is not None and entry.catalog.version == version:
                self._entries.move_to_end(merchant_id)
                self._hits += 1
                hit = True
            else:
                self._misses += 1
                hit = False
        metrics.count_catalog_cache("hit" if hit else "miss")
        return entry.catalog if hit and entry is not None else None

    def peek(self, merchant_id: int) -> CatalogIndex | None:
        """Return whatever version of the merchant's catalog is loaded, without counting or reordering."""
        with self._lock:
            entry = self._entries.get(merchant_id)
        return entry.catalog if entry is not None else None

    def put(self, merchant_id: int, catalog: CatalogIndex) -> list[int]:
        """Hold ``catalog`` for the merchant (replacing its older version); return the merchants evicted."""
        nbytes = approximate_bytes(catalog)
        evicted: list[int] = []
        with self._lock:
            old = self._entries.pop(merchant_id, None)
            if old is not None:
                self._used -= old.nbytes
            self._entries[merchant_id] = Loaded(catalog, nbytes)
            self._used += nbytes
            while self._used > self.budget_bytes and len(self._entries) > 1:
                victim, entry = self._entries.popitem(last=False)
                self._used -= entry.nbytes
                self._evictions += 1
                evicted.append(victim)
        if evicted:
            metrics.count_catalog_cache("eviction", len(evicted))
            logger.info(
                "catalog of merchant %d loaded (%.1f MiB); evicted %d least recently used to stay within %.0f MiB",
                merchant_id,
                nbytes / MIB,
                len(evicted),
                self.budget_bytes / MIB,
            )
        if nbytes > self.budget_bytes:
            logger.warning(
                "catalog of merchant %d (%.1f MiB) alone exceeds the catalog memory budget (%.0f MiB): "
                "raise ATTUNE_CATALOG_MEMORY_MB or serve this merchant from a pool of its own (docs/scaling.md)",
                merchant_id,
                nbytes / MIB,
                self.budget_bytes / MIB,
            )
        return evicted

    def versions(self) -> dict[int, str]:
        """Return the loaded version of each merchant's catalog."""
        with self._lock:
            return {merchant_id: entry.catalog.version for merchant_id, entry in self._entries.items()}

    def sizes(self) -> dict[int, int]:
        """Return the estimated bytes of each loaded catalog, least recently used first."""
        with self._lock:
            return {merchant_id: entry.nbytes for merchant_id, entry in self._entries.items()}

    def figures(self) -> CacheFigures:
        """Return what is loaded, its size and the hit, miss and eviction counts of this process."""
        with self._lock:
            return CacheFigures(
                len(self._entries), self._used, self.budget_bytes, self._hits, self._misses, self._evictions
            )
