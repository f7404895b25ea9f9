"""Nothing bought is shown again: what a profile bought leaves its recommendations for a while.

The merchant sets how long (``hide_bought_days``; 0 turns it off) and which categories are bought
again and again and stay in (``rebuy_categories``, chosen from the catalog's): see
``category_groups`` and ``change_settings``, which the admin's settings page calls.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from ..catalog import products
from ..models import Merchant, Order, OrderLine, Product, ShopperEvent, utcnow
from ..platform.db import get_session
from .events import profile_for_subject

MAX_HIDE_DAYS = 3650  # ten years
CATEGORY_SEPARATOR = ">"


class BoughtSettingsError(ValueError):
    """Settings that cannot be kept: a message per field (``hide_bought_days``, ``rebuy_categories``)."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(fields.values()))
        self.fields = fields


@dataclass(frozen=True)
class CategoryGroup:
    """A top-level category of the catalog and the full paths under it, for a list of choices."""

    name: str
    paths: tuple[str, ...]


def category_groups(merchant: Merchant) -> list[CategoryGroup]:
    """Return the categories a merchant can mark as bought again, grouped by their top level.

    The catalog's categories (a top level covers everything under it; a full path only itself),
    and any the merchant marked before that the catalog no longer has, so they can be unmarked.
    """
    paths: dict[str, set[str]] = {}
    for category in [*products.top_categories(merchant, limit=500), *(merchant.rebuy_categories or [])]:
        top = category.split(CATEGORY_SEPARATOR)[0].strip()
        if top:
            paths.setdefault(top, set())
            if category.strip() != top:
                paths[top].add(category)
    return [CategoryGroup(top, tuple(sorted(paths[top]))) for top in sorted(paths, key=str.casefold)]


def change_settings(merchant: Merchant, hide_bought_days: int | None, rebuy_categories: Iterable[str] | None) -> None:
    """Keep the given settings (None leaves one as it is); when one is not valid, keep none.

    ``hide_bought_days`` is a whole number of days from 0 (off) to ``MAX_HIDE_DAYS``;
    ``rebuy_categories`` are categories of the catalog (see ``category_groups``).

    Raises:
        BoughtSettingsError: a message per field that is not valid.
    """
    problems: dict[str, str] = {}
    if hide_bought_days is not None and not 0 <= hide_bought_days <= MAX_HIDE_DAYS:
        problems["hide_bought_days"] = f"Give a number of days from 0 (off) to {MAX_HIDE_DAYS}."
    chosen: list[str] = []
    if rebuy_categories is not None:
        known = {path for group in category_groups(merchant) for path in (group.name, *group.paths)}
        chosen = sorted({c.strip() for c in rebuy_categories if c and c.strip()}, key=str.casefold)
        unknown = [c for c in chosen if c not in known]
        if unknown:
            problems["rebuy_categories"] = (
                f"Not a category of your catalog: {', '.join(unknown)}. Choose from the catalog's categories."
            )
    if problems:
        raise BoughtSettingsError(problems)
    if hide_bought_days is not None:
        merchant.hide_bought_days = hide_bought_days
    if rebuy_categories is not None:
        merchant.rebuy_categories = chosen
    get_session().flush()


def hidden_products(merchant: Merchant, *, subject_id: str | None = None, profile_id: str | None = None) -> set[str]:
    """Return the product ids to leave out of the profile's recommendations.

    What its linked orders (not cancelled) and its own purchase events hold, within the merchant's
    ``hide_bought_days``; products in ``rebuy_categories`` (consumables) stay in. Nothing for a
    shopper without a stored profile: nothing is known about what they bought.
    """
    if merchant.hide_bought_days <= 0:
        return set()
    if profile_id is None and subject_id is not None:
        profile_id = profile_for_subject(merchant.id, subject_id)
    if profile_id is None:
        return set()
    bought = _bought(merchant, profile_id, utcnow() - dt.timedelta(days=merchant.hide_bought_days))
    return bought - _bought_again(merchant, bought)


def owned_products(merchant: Merchant, *, subject_id: str | None = None, profile_id: str | None = None) -> set[str]:
    """Return every product the profile bought, however long ago and in any category.

    What is still recommended of these (a consumable, or bought before the hiding period) is
    worded as bought before, never as something new the shopper might like.
    """
    if profile_id is None and subject_id is not None:
        profile_id = profile_for_subject(merchant.id, subject_id)
    return _bought(merchant, profile_id, None) if profile_id is not None else set()


def _bought(merchant: Merchant, profile_id: str, since: dt.datetime | None) -> set[str]:
    """Return the products in the profile's orders (not cancelled) and purchase events, since ``since``."""
    session = get_session()
    ordered = (
        sa.select(OrderLine.product_id)
        .join(Order, Order.id == OrderLine.order_pk)
        .where(Order.merchant_id == merchant.id, Order.profile_id == profile_id, Order.cancelled_at.is_(None))
    )
    purchases = sa.select(ShopperEvent).where(ShopperEvent.profile_id == profile_id, ShopperEvent.type == "purchase")
    if since is not None:
        ordered = ordered.where(Order.placed_at >= since)
        purchases = purchases.where(ShopperEvent.occurred_at >= since)
    bought = set(session.scalars(ordered))
    for event in session.scalars(purchases):
        bought.update(item["product_id"] for item in event.items or [])
        if event.product_id:
            bought.add(event.product_id)
    return bought


def _bought_again(merchant: Merchant, product_ids: set[str]) -> set[str]:
    """Return those of ``product_ids`` in a category the merchant marked as bought again (consumables)."""
    categories = [c for c in merchant.rebuy_categories or [] if c]
    if not categories or not product_ids:
        return set()
    rows = get_session().scalars(
        sa.select(Product.external_id).where(
            Product.merchant_id == merchant.id,
            Product.external_id.in_(product_ids),
            sa.or_(*(Product.category.startswith(c, autoescape=True) for c in categories)),
        )
    )
    return set(rows)
