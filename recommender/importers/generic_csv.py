"""Any spreadsheet export: one product per row, columns found by common names or a mapping."""

from __future__ import annotations

from collections.abc import Mapping

from .mapping import draft_from, resolve_fields
from .reading import CsvTable, header_key
from .validation import Draft


def parse_generic_csv(
    table: CsvTable, *, mapping: Mapping[str, str] | None, default_currency: str, source: str
) -> list[Draft]:
    """Read a CSV/TSV file with one product per row."""
    available = {key: key for key in table.keys if key}

    def lookup(column: str) -> str | None:
        key = header_key(column)
        return key if key in available else None

    fields = resolve_fields(mapping, available, lookup, columns=table.columns, source=source, noun="column")
    return [draft_from(row.values.get, fields, row.number, default_currency) for row in table.rows]
