"""Hard filters over whole candidate arrays: availability, budget, categories, exclusions.

Checking every item of a large catalog one by one in Python costs tens of milliseconds at
100,000 products; these arrays answer the common filters for all candidates at once, and the
per-item checks (attribute filters, boosts) run only on the few best survivors.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np

from .domain import CatalogItem, Preferences


@dataclass(frozen=True)
class ItemArrays:
    """Per-item facts in id order (``ids`` ascending), for vectorised filtering."""

    ids: np.ndarray
    available: np.ndarray  # bool
    prices: np.ndarray  # float64, NaN where unknown
    top_categories: np.ndarray  # int code per item; see ``codes``
    codes: Mapping[str, int]  # top-level category -> code

    @classmethod
    def build(cls, items: Mapping[int, CatalogItem]) -> ItemArrays:
        """Return the arrays of ``items``."""
        ordered = [items[i] for i in sorted(items)]
        codes: dict[str, int] = {}
        tops = [codes.setdefault(item.top_category, len(codes)) for item in ordered]
        return cls(
            ids=np.asarray([item.id for item in ordered], dtype=np.int64),
            available=np.asarray([item.available for item in ordered], dtype=bool),
            prices=np.asarray([np.nan if item.price is None else item.price for item in ordered], dtype=np.float64),
            top_categories=np.asarray(tops, dtype=np.int64),
            codes=codes,
        )

    def allowed(self, prefs: Preferences, exclude: Collection[int] = ()) -> np.ndarray:
        """Return the ids of every item passing the filters, ascending."""
        return self.ids[self._keep(slice(None), self.available.copy(), self.ids, prefs, exclude)]

    def mask(self, ids: np.ndarray, prefs: Preferences, exclude: Collection[int] = ()) -> np.ndarray:
        """Return which of ``ids`` are known, available, not excluded and within budget and categories."""
        positions = np.clip(np.searchsorted(self.ids, ids), 0, max(len(self.ids) - 1, 0))
        if not len(self.ids):
            return np.zeros(len(ids), dtype=bool)
        keep = (self.ids[positions] == ids) & self.available[positions]
        return self._keep(positions, keep, ids, prefs, exclude)

    def _keep(
        self,
        positions: np.ndarray | slice,
        keep: np.ndarray,
        ids: np.ndarray,
        prefs: Preferences,
        exclude: Collection[int],
    ) -> np.ndarray:
        """Narrow ``keep`` (one flag per id at ``positions``) by exclusions, budget and categories."""
        if exclude:
            keep &= ~np.isin(ids, np.fromiter(exclude, dtype=np.int64))
        if prefs.budget is not None:
            prices = self.prices[positions]
            known = ~np.isnan(prices)
            keep &= known
            if prefs.budget.low is not None:
                keep &= np.where(known, prices, 0) >= prefs.budget.low
            if prefs.budget.high is not None:
                keep &= np.where(known, prices, np.inf) <= prefs.budget.high
        tops = self.top_categories[positions]
        if prefs.categories:
            keep &= np.isin(tops, self._codes_of(prefs.categories))
        if prefs.excluded_categories:
            keep &= ~np.isin(tops, self._codes_of(prefs.excluded_categories))
        return keep

    def _codes_of(self, categories: Collection[str]) -> np.ndarray:
        return np.asarray([self.codes[c] for c in categories if c in self.codes], dtype=np.int64)
