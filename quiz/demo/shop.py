"""The demo merchant: created with its catalog and quiz when the database has none."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import current_app

from recommender import ProductRecord

from .. import merchants
from ..catalog.engine import index_store_for
from ..catalog.sync import rebuild_index, upsert_products
from ..platform.db import transaction
from ..quizzes.store import follow_catalog

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from ..models import Merchant

logger = logging.getLogger(__name__)

CATALOG = Path(__file__).parent / "catalog.json"
PARTNER_PAGE = Path(__file__).parents[1] / "content" / "partner_demo.html"
DEMO_NAME = "Trailhead Supply Co."
DEMO_CART = "https://demo.attune.test/cart/add?id={id}&quantity=1"


def demo_records(path: Path = CATALOG) -> list[ProductRecord]:
    """Return the demo catalog's products."""
    data = json.loads(path.read_text(encoding="utf-8"))
    currency = data.get("currency", "USD")
    return [_record(p, currency) for p in data["products"]]


def _record(p: dict[str, Any], currency: str) -> ProductRecord:
    return ProductRecord(
        external_id=p["id"],
        title=p["title"],
        description=p.get("description", ""),
        brand=p.get("brand", ""),
        category=p.get("category", ""),
        tags=tuple(p.get("tags", ())),
        price=p.get("price"),
        currency=p.get("currency", currency),
        url=p.get("url", ""),
        image_url=p.get("image_url", ""),
        available=p.get("available", True),
        attributes=p.get("attributes", {}),
    )


def load_demo(slug: str = "demo") -> merchants.NewMerchant | None:
    """Create the demo merchant and index its catalog when missing.

    Returns the new merchant with its one-time secrets, or None when the demo was already
    there (its index is rebuilt if the folder was lost).
    """
    with transaction():
        merchant = merchants.get_by_slug(slug)
        if merchant is not None:
            follow_catalog(merchant)  # an upgraded default quiz reaches an existing demo
            _allow_demo_partner(merchant)
            if merchant.active_index and (index_store_for(merchant.id).root / merchant.active_index).is_dir():
                return None
            rebuild_index(merchant)
            return None
        created = merchants.create(slug, DEMO_NAME)
        created.merchant.cart_url_pattern = DEMO_CART  # results show "Add to cart" as a shop with a cart would
        _allow_demo_partner(created.merchant)
        summary = upsert_products(created.merchant, demo_records())
        rebuild_index(created.merchant)
    logger.info("demo merchant %r created with %d products", slug, summary.created)
    return created


def _allow_demo_partner(merchant: Merchant) -> None:
    """Let the demo partner page (``flask demo partner``, started by ``make run``) embed the demo quiz."""
    origin = current_app.config["DEMO_PARTNER_ORIGIN"]
    if origin and origin not in (merchant.partner_origins or []):
        merchant.partner_origins = [*(merchant.partner_origins or []), origin]


def partner_site(attune_url: str, partner_url: str, slug: str = "demo") -> WSGIApplication:
    """Return a one-page WSGI site that embeds ``slug``'s quiz from ``attune_url``, as a partner would."""
    page = PARTNER_PAGE.read_text(encoding="utf-8")
    body = page.replace("{attune}", attune_url.rstrip("/")).replace("{partner}", partner_url).replace("{slug}", slug)

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        if environ.get("PATH_INFO", "/") != "/":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [body.encode("utf-8")]

    return app
