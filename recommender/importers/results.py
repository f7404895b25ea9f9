"""What an import hands back: valid products, per-row problems, and the one fatal error."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..domain import ProductRecord
from ..errors import RecommenderError

FORMATS = ("shopify", "google_merchant", "woocommerce", "generic_csv", "generic_json")


class CatalogFormatError(RecommenderError):
    """The file is not a catalog, cannot be read, or holds no valid product."""


@dataclass(frozen=True)
class RowError:
    """One problem with one product, located the way the merchant sees the file.

    ``row`` is the spreadsheet row for CSV/TSV files (header = 1, a multi-line quoted record
    counts once) and the 1-based item index for XML and JSON files.
    """

    row: int
    field: str
    message: str


@dataclass(frozen=True)
class ParsedCatalog:
    """The outcome of reading one catalog file."""

    format: str
    records: list[ProductRecord]
    errors: list[RowError]
    total: int
    # Ids of rows that were skipped for their problems: a full sync must not retire them.
    skipped_ids: frozenset[str] = frozenset()
    # Things the merchant should know that kept no product out, e.g. that ids were derived.
    warnings: tuple[str, ...] = ()
    # Generic files: product field -> the column or key that fed it ("id_from_sku": ... when ids
    # were derived); empty for platform exports and feeds, which have fixed columns.
    mapping_used: Mapping[str, str] = field(default_factory=dict)
