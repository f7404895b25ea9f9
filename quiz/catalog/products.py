"""Reading a merchant's products."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from ..models import Merchant, Product
from ..platform.db import get_session

MAX_QUERY_WORDS = 8


def page(merchant: Merchant, limit: int, offset: int) -> tuple[list[Product], int]:
    """Return one page of the merchant's products (by id) and their total count."""
    session = get_session()
    scope = Product.merchant_id == merchant.id
    total = session.scalar(sa.select(sa.func.count()).select_from(Product).where(scope)) or 0
    rows = session.scalars(sa.select(Product).where(scope).order_by(Product.id).limit(limit).offset(offset))
    return list(rows), total


@dataclass(frozen=True)
class ProductFilter:
    """What the admin's product list is narrowed to: words of the title, a category, availability."""

    query: str = ""
    category: str = ""
    available: bool | None = None


def search(merchant: Merchant, where: ProductFilter, limit: int, offset: int) -> tuple[list[Product], int]:
    """Return one page of the merchant's products matching ``where``, newest import first, and their count.

    The title must contain every word of the query (case-insensitive); a category matches itself
    and everything below it ("Clothing" finds "Clothing > Hoodies").
    """
    conditions = [Product.merchant_id == merchant.id]
    for word in where.query.split()[:MAX_QUERY_WORDS]:
        conditions.append(Product.title.ilike(f"%{_escape_like(word)}%", escape="\\"))
    if where.category:
        below = f"{_escape_like(where.category)} > %"
        conditions.append(sa.or_(Product.category == where.category, Product.category.like(below, escape="\\")))
    if where.available is not None:
        conditions.append(Product.available.is_(where.available))
    session = get_session()
    total = session.scalar(sa.select(sa.func.count()).select_from(Product).where(*conditions)) or 0
    rows = session.scalars(
        sa.select(Product)
        .where(*conditions)
        .order_by(Product.updated_at.desc(), Product.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total


def top_categories(merchant: Merchant, limit: int = 200) -> list[str]:
    """Return the merchant's product categories (full paths), alphabetically, for a filter's choices."""
    rows = get_session().scalars(
        sa.select(Product.category)
        .where(Product.merchant_id == merchant.id, Product.category != "")
        .distinct()
        .order_by(Product.category)
        .limit(limit)
    )
    return list(rows)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def by_external_id(merchant: Merchant, external_id: str) -> Product | None:
    """Return one of the merchant's products by the merchant's own id."""
    return get_session().scalar(
        sa.select(Product).where(Product.merchant_id == merchant.id, Product.external_id == external_id)
    )


def titles(merchant: Merchant, external_ids: Iterable[str]) -> dict[str, str]:
    """Return the titles of those of ``external_ids`` still in the merchant's catalog, by id."""
    wanted = sorted({i for i in external_ids if i})
    if not wanted:
        return {}
    rows = get_session().execute(
        sa.select(Product.external_id, Product.title).where(
            Product.merchant_id == merchant.id, Product.external_id.in_(wanted)
        )
    )
    return {external_id: title for external_id, title in rows}
