"""Relevance sets read from disk: the WANDS layout and a generic JSONL layout.

WANDS (Wayfair's ANnotation DataSet) folders hold three tab-separated files:
``product.csv`` (product_id, product_name, product_class, category hierarchy,
product_description, product_features, ...), ``query.csv`` (query_id, query, ...) and
``label.csv`` (query_id, product_id, label: Exact / Partial / Irrelevant).

JSONL folders hold ``products.jsonl`` (one object per line: ``id``, ``title`` and optionally
``description``, ``category``, ``brand``, ``tags``, ``attributes``) and ``judgements.jsonl``
(``query``, ``product_id``, ``grade`` 0-2, optionally ``query_id``).
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..domain import ProductRecord
from ..errors import RecommenderError

DatasetFormat = Literal["wands", "jsonl"]
FORMATS: tuple[DatasetFormat, ...] = ("wands", "jsonl")
WANDS_GRADES = {"exact": 2, "partial": 1, "irrelevant": 0}


class DatasetError(RecommenderError):
    """A relevance set is missing a file or holds a row that cannot be read."""


@dataclass(frozen=True)
class RelevanceSet:
    """Products, queries and graded judgements (product ids are the products' external ids)."""

    name: str
    products: tuple[ProductRecord, ...]
    queries: Mapping[str, str]  # query id -> text
    judgements: Mapping[str, Mapping[str, int]]  # query id -> product id -> grade

    def judged_queries(self) -> dict[str, str]:
        """Return the queries with at least one relevant product (the ones metrics average over)."""
        return {q: text for q, text in self.queries.items() if any(g > 0 for g in self.judgements.get(q, {}).values())}


def load(folder: str | Path, format: DatasetFormat) -> RelevanceSet:
    """Read the relevance set in ``folder``.

    Raises:
        DatasetError: when a file is missing or a row cannot be read, naming the file and row.
    """
    path = Path(folder)
    if not path.is_dir():
        raise DatasetError(f"{path} is not a folder")
    if format == "wands":
        return load_wands(path)
    if format == "jsonl":
        return load_jsonl(path)
    raise DatasetError(f"unknown relevance set format {format!r}: expected one of {', '.join(FORMATS)}")


def load_wands(folder: Path) -> RelevanceSet:
    """Read a folder in the WANDS layout."""
    products = tuple(_wands_product(row, n) for n, row in _tsv(folder / "product.csv", ("product_id", "product_name")))
    queries = {row["query_id"]: row["query"] for _, row in _tsv(folder / "query.csv", ("query_id", "query"))}
    judgements: dict[str, dict[str, int]] = {}
    for n, row in _tsv(folder / "label.csv", ("query_id", "product_id", "label")):
        grade = WANDS_GRADES.get(row["label"].strip().lower())
        if grade is None:
            raise DatasetError(f"label.csv row {n}: label {row['label']!r} is not Exact, Partial or Irrelevant")
        judgements.setdefault(row["query_id"], {})[row["product_id"]] = grade
    return RelevanceSet(folder.name, products, queries, judgements)


def _tsv(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    if not path.is_file():
        raise DatasetError(f"{path} is missing")
    csv.field_size_limit(sys.maxsize)  # WANDS descriptions and features run long
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        missing = [c for c in required if c not in (reader.fieldnames or ())]
        if missing:
            raise DatasetError(f"{path.name} has no column {', '.join(missing)}")
        for n, row in enumerate(reader, start=2):
            yield n, {k: (v or "") for k, v in row.items() if k is not None}


def _wands_product(row: Mapping[str, str], line: int) -> ProductRecord:
    title = row["product_name"].strip()
    if not title:
        raise DatasetError(f"product.csv row {line}: product {row['product_id']!r} has no name")
    category = row.get("category hierarchy", "").strip() or row.get("product_class", "").strip()
    return ProductRecord(
        external_id=row["product_id"],
        title=title,
        description=_description(row.get("product_description", "")),
        category=" > ".join(p.strip() for p in category.split("/") if p.strip()),
        attributes=_features(row.get("product_features", "")),
    )


def _description(raw: str) -> str:
    """Return a description as text; some exports hold a JSON array of phrases."""
    text = raw.strip()
    if text.startswith("["):
        try:
            phrases = json.loads(text)
        except ValueError:
            return text
        if isinstance(phrases, list):
            return ", ".join(str(p) for p in phrases if p)
    return text


def _features(raw: str) -> dict[str, str]:
    """Return WANDS ``key:value|key:value`` features as attributes."""
    features: dict[str, str] = {}
    for pair in raw.split("|"):
        key, sep, value = pair.partition(":")
        if sep and key.strip() and value.strip():
            features[key.strip().lower()] = value.strip()
    return features


def load_jsonl(folder: Path) -> RelevanceSet:
    """Read a folder in the JSONL layout."""
    products = tuple(_jsonl_product(obj, n) for n, obj in _jsonl(folder / "products.jsonl"))
    queries: dict[str, str] = {}
    judgements: dict[str, dict[str, int]] = {}
    for n, obj in _jsonl(folder / "judgements.jsonl"):
        text, grade = obj.get("query"), obj.get("grade")
        if not isinstance(text, str) or not text.strip():
            raise DatasetError(f"judgements.jsonl line {n}: 'query' must be a non-empty string")
        if isinstance(grade, bool) or not isinstance(grade, int) or not 0 <= grade <= 2:
            raise DatasetError(f"judgements.jsonl line {n}: 'grade' must be 0, 1 or 2")
        query_id = str(obj.get("query_id") or text)
        queries.setdefault(query_id, text)
        judgements.setdefault(query_id, {})[str(obj.get("product_id"))] = grade
    return RelevanceSet(folder.name, products, queries, judgements)


def _jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    if not path.is_file():
        raise DatasetError(f"{path} is missing")
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as exc:
                raise DatasetError(f"{path.name} line {n}: not JSON ({exc})") from exc
            if not isinstance(obj, dict):
                raise DatasetError(f"{path.name} line {n}: expected an object")
            yield n, obj


def _jsonl_product(obj: Mapping[str, Any], line: int) -> ProductRecord:
    product_id, title = obj.get("id"), obj.get("title")
    if product_id is None or not isinstance(title, str) or not title.strip():
        raise DatasetError(f"products.jsonl line {line}: each product needs an 'id' and a 'title'")
    attributes = obj.get("attributes") or {}
    return ProductRecord(
        external_id=str(product_id),
        title=title.strip(),
        description=str(obj.get("description") or ""),
        brand=str(obj.get("brand") or ""),
        category=str(obj.get("category") or ""),
        tags=tuple(str(t) for t in obj.get("tags") or ()),
        attributes=attributes if isinstance(attributes, dict) else {},
    )
