"""Reading a merchant's products."""

from __future__ import annotations

import sqlalchemy as sa

from .db import get_session
from .models import Merchant, Product


def page(merchant: Merchant, limit: int, offset: int) -> tuple[list[Product], int]:
    """Return one page of the merchant's products (by id) and their total count."""
    session = get_session()
    scope = Product.merchant_id == merchant.id
    total = session.scalar(sa.select(sa.func.count()).select_from(Product).where(scope)) or 0
    rows = session.scalars(sa.select(Product).where(scope).order_by(Product.id).limit(limit).offset(offset))
    return list(rows), total


def by_external_id(merchant: Merchant, external_id: str) -> Product | None:
    """Return one of the merchant's products by the merchant's own id."""
    return get_session().scalar(
        sa.select(Product).where(Product.merchant_id == merchant.id, Product.external_id == external_id)
    )
