"""Merchants and what belongs to each: the registry (``registry``), admin accounts, API keys,
partner origins of the widget, and webhook subscriptions with their deliveries.

Callers use the registry through the package: ``from quiz import merchants; merchants.get_by_slug(slug)``.
"""

from .registry import MerchantError, NewMerchant, create, get_by_slug, get_or_404

__all__ = ["MerchantError", "NewMerchant", "create", "get_by_slug", "get_or_404"]
