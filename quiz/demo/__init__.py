"""The demo shop: its catalog (``catalog.json``), quiz and index, and a partner page embedding it."""

from .shop import load_demo, partner_site

__all__ = ["load_demo", "partner_site"]
