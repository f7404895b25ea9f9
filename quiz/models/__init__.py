"""SQLAlchemy models; import them from here."""

from .base import Base, new_public_id, utcnow
from .consent import ConsentAction, ConsentRecord, LedgerViolation
from .merchant import ApiKey, Merchant
from .product import Product
from .profile import Profile
from .quiz_definition import QuizDefinition

__all__ = [
    "ApiKey",
    "Base",
    "ConsentAction",
    "ConsentRecord",
    "LedgerViolation",
    "Merchant",
    "Product",
    "Profile",
    "QuizDefinition",
    "new_public_id",
    "utcnow",
]
