"""Any spreadsheet export: one product per row, columns found by common names or a mapping."""

from __future__ import annotations

from collections.abc import Mapping

from .mapping import draft_from, id_sources, resolve_fields
from .reading import CsvTable, header_key
from .validation import Draft


def parse_generic_csv(
    table: CsvTable, *, mapping: Mapping[str, str] | None, default_currency: str, source: str
) -> tuple[list[Draft], dict[str, str]]:
    """Read a CSV/TSV file with one product per row; also return the mapping used (field -> column)."""
    available = {key: key for key in table.keys if key}

    def lookup(column: str) -> str | None:
        key = header_key(column)
        return key if key in available else None

    fields = resolve_fields(mapping, available, lookup, columns=table.columns, source=source, noun="column")
    sources = id_sources(fields, available)
    drafts = [draft_from(row.values.get, fields, row.number, default_currency, sources) for row in table.rows]
    written: dict[str, str] = {}
    for key, column in zip(table.keys, table.columns, strict=True):
        written.setdefault(key, column)
    used = {name: written.get(key, key) for name, key in fields.items()}
    used |= {f"id_from_{name}": written.get(key, key) for name, key in sources.items()}
    return drafts, used
