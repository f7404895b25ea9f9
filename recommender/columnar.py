"""A catalog's items as columns: one buffer per field instead of one Python object per product.

A loaded catalog of 100,000 products held one :class:`CatalogItem` per product, about 300 MiB of
Python objects (docs/benchmarks.md, worker memory). :class:`ColumnarItems` keeps the same data
in a few arrays: each text field as one UTF-8 buffer with offsets, prices as float64 (NaN where
unknown), flags as booleans, and the structured fields (tags, attributes) as one serialised
buffer. It is a read-only ``Mapping[int, CatalogItem]``, so the ranking reads it as before; an
item is built only when asked for (the candidates being ranked and the page shown), in a few
microseconds. External ids are found through a sorted array of their hashes, not a dict.

The columns follow the fields of :class:`CatalogItem` by their declared types, so a field added
there is kept without a change here.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from .domain import CatalogItem

_ITEM_FIELDS = [f for f in fields(CatalogItem) if f.name != "id"]


def _kind(declared: Any) -> str:
    """Return how a field of ``CatalogItem`` is stored: text, flag, number (NaN for None) or object."""
    name = declared if isinstance(declared, str) else getattr(declared, "__name__", str(declared))
    return {"str": "text", "bool": "flag", "float | None": "number", "float": "number", "int": "whole"}.get(
        name, "object"
    )


def _external_key(external_id: str) -> int:
    """Return a 63-bit hash of an external id (collisions are checked against the stored id)."""
    return int.from_bytes(hashlib.blake2b(external_id.encode(), digest_size=8).digest(), "little") >> 1


@dataclass(frozen=True)
class _Strings:
    """Many strings in one UTF-8 buffer: string ``i`` is ``blob[offsets[i]:offsets[i + 1]]``."""

    blob: bytes
    offsets: np.ndarray  # uint32 (int64 past 4 GiB), len n + 1

    @classmethod
    def of(cls, values: Iterable[bytes]) -> _Strings:
        encoded = list(values)
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        if offsets[-1] < 2**32:  # 4 bytes per string instead of 8 below 4 GiB of text
            offsets = offsets.astype(np.uint32)
        return cls(b"".join(encoded), offsets)

    def raw(self, position: int) -> bytes:
        return self.blob[int(self.offsets[position]) : int(self.offsets[position + 1])]


class ColumnarItems(Mapping[int, CatalogItem]):
    """Item id -> :class:`CatalogItem`, stored as columns, built on access."""

    def __init__(self, ids: np.ndarray, columns: dict[str, Any], keys: np.ndarray, key_rows: np.ndarray) -> None:
        self.ids = ids  # ascending int64
        self._columns = columns  # field name -> _Strings | ndarray
        self._keys = keys  # sorted external-id hashes
        self._key_rows = key_rows  # the row of each hash

    @classmethod
    def build(cls, items: Iterable[CatalogItem]) -> ColumnarItems:
        """Return the columns of ``items`` (any order; ids must be distinct)."""
        ordered = sorted(items, key=lambda item: item.id)
        ids = np.fromiter((item.id for item in ordered), dtype=np.int64, count=len(ordered))
        columns: dict[str, Any] = {}
        for f in _ITEM_FIELDS:
            values = [getattr(item, f.name) for item in ordered]
            kind = _kind(f.type)
            if kind == "text":
                columns[f.name] = _Strings.of(str(v).encode() for v in values)
            elif kind == "flag":
                columns[f.name] = np.asarray(values, dtype=bool)
            elif kind == "number":
                columns[f.name] = np.asarray([np.nan if v is None else float(v) for v in values], dtype=np.float64)
            elif kind == "whole":
                columns[f.name] = np.asarray(values, dtype=np.int64)
            else:
                columns[f.name] = _Strings.of(pickle.dumps(_plain(v), protocol=pickle.HIGHEST_PROTOCOL) for v in values)
        hashes = np.fromiter((_external_key(item.external_id) for item in ordered), dtype=np.int64, count=len(ordered))
        order = np.argsort(hashes, kind="stable")
        return cls(ids, columns, hashes[order], order.astype(np.int64))

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self) -> Iterator[int]:
        return iter(self.ids.tolist())

    def __contains__(self, item_id: object) -> bool:
        return isinstance(item_id, int | np.integer) and self._row(int(item_id)) is not None

    def __getitem__(self, item_id: int) -> CatalogItem:
        row = self._row(int(item_id))
        if row is None:
            raise KeyError(item_id)
        return self.item_at(row)

    def item_at(self, row: int) -> CatalogItem:
        """Return the item in row ``row`` (rows follow ascending ids)."""
        values: dict[str, Any] = {}
        for f in _ITEM_FIELDS:
            column = self._columns[f.name]
            kind = _kind(f.type)
            if kind == "text":
                values[f.name] = column.raw(row).decode()
            elif kind == "flag":
                values[f.name] = bool(column[row])
            elif kind == "number":
                number = float(column[row])
                values[f.name] = None if np.isnan(number) else number
            elif kind == "whole":
                values[f.name] = int(column[row])
            else:
                values[f.name] = pickle.loads(column.raw(row))  # noqa: S301 - our own bytes, built above
        return CatalogItem(**values, id=int(self.ids[row]))

    def ids_of_external(self, external_ids: Collection[str]) -> set[int]:
        """Return the item ids of the given external ids (unknown ones are ignored), without a scan."""
        found: set[int] = set()
        texts = self._columns["external_id"]
        for external_id in set(external_ids):
            key = _external_key(external_id)
            start = int(np.searchsorted(self._keys, key, side="left"))
            end = int(np.searchsorted(self._keys, key, side="right"))
            for row in self._key_rows[start:end].tolist():
                if texts.raw(row).decode() == external_id:
                    found.add(int(self.ids[row]))
        return found

    def column(self, name: str) -> Any:
        """Return a stored column (for footprint and tests): text columns as their buffer holder."""
        return self._columns[name]

    def _row(self, item_id: int) -> int | None:
        row = int(np.searchsorted(self.ids, item_id))
        return row if row < len(self.ids) and int(self.ids[row]) == item_id else None


def _plain(value: Any) -> Any:
    """Return a structured value in plain containers (a Mapping as a dict) for serialising."""
    if isinstance(value, Mapping) and not isinstance(value, dict):
        return dict(value)
    return value
