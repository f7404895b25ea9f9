"""A merchant's add-to-cart address: the pattern they give, checked, and the link it makes per product.

The pattern is an https address with ``{id}`` (or ``{sku}``, the same value) where the product's
id goes, the id the catalog gives it: ``https://shop.example/cart/add?id={id}&quantity=1`` (Shopify),
``https://shop.example/?add-to-cart={id}`` (WooCommerce). Without a pattern the results offer
"View in shop" only.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from ..models import Merchant
from .partners import check_host

MAX_LENGTH = 2000
PLACEHOLDERS = ("{id}", "{sku}")
BRACES = re.compile(r"\{[^{}]*\}")


class CartPatternError(ValueError):
    """The cart address pattern is not usable; the message says why, in words a merchant reads."""


def clean_pattern(text: str | None) -> str | None:
    """Return the pattern to store (None for blank: no cart links), or raise :class:`CartPatternError`."""
    value = (text or "").strip()
    if not value:
        return None
    if len(value) > MAX_LENGTH:
        raise CartPatternError(f"Keep the address under {MAX_LENGTH} characters.")
    if any(c.isspace() for c in value):
        raise CartPatternError("The address has a space in it; give it as one line with no spaces.")
    found = BRACES.findall(value)
    unknown = sorted({p for p in found if p not in PLACEHOLDERS})
    if unknown:
        raise CartPatternError(f"Only {{id}} or {{sku}} can stand for the product; {', '.join(unknown)} cannot.")
    if "{" in BRACES.sub("", value) or "}" in BRACES.sub("", value):
        raise CartPatternError("A brace is left open; write the placeholder as {id} or {sku}.")
    if not found:
        raise CartPatternError(
            "Put {id} (or {sku}) where the product's id goes, as in https://shop.example/cart/add?id={id}."
        )
    parts = urlsplit(BRACES.sub("x", value))
    if parts.scheme != "https" or not parts.hostname:
        raise CartPatternError("Give an https:// address of your shop, as in https://shop.example/cart/add?id={id}.")
    if parts.username or parts.password:
        raise CartPatternError("The address must not carry a user name or password.")
    if "{" in (urlsplit(value).netloc or ""):
        raise CartPatternError("The product id goes in the path or the query, not in the host name.")
    try:
        check_host(parts.hostname, value)
        parts.port  # noqa: B018 - raises for an invalid port
    except ValueError as exc:
        raise CartPatternError(f"The shop's host name or port is not valid: {exc}") from exc
    return value


def set_pattern(merchant: Merchant, text: str | None) -> str | None:
    """Check and store a merchant's cart pattern (blank removes it); return what is stored."""
    merchant.cart_url_pattern = clean_pattern(text)
    return merchant.cart_url_pattern


def cart_url(merchant: Merchant, product_id: str) -> str | None:
    """Return the address that puts ``product_id`` in the merchant's cart, or None without a pattern."""
    if not merchant.cart_url_pattern:
        return None
    quoted = quote(product_id, safe="")
    url = merchant.cart_url_pattern
    for placeholder in PLACEHOLDERS:
        url = url.replace(placeholder, quoted)
    return url
