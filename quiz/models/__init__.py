"""SQLAlchemy models; import them from here."""

from .admin_user import AdminUser
from .base import Base, new_public_id, utcnow
from .catalog_import import CatalogImport, ImportMode, ImportStatus
from .consent import ConsentAction, ConsentRecord, LedgerViolation
from .explainer_version import ExplainerVersion
from .funnel import FunnelCount
from .intent_shift import IntentShift
from .merchant import ApiKey, Merchant
from .product import Product
from .profile import Profile
from .quiz_definition import QuizDefinition
from .quiz_session import QuizSession
from .segment import Segment
from .webhook import Webhook, WebhookDelivery

__all__ = [
    "AdminUser",
    "CatalogImport",
    "ImportMode",
    "ImportStatus",
    "ApiKey",
    "Base",
    "ConsentAction",
    "ConsentRecord",
    "ExplainerVersion",
    "FunnelCount",
    "IntentShift",
    "LedgerViolation",
    "Merchant",
    "Product",
    "Profile",
    "QuizDefinition",
    "Segment",
    "Webhook",
    "WebhookDelivery",
    "QuizSession",
    "new_public_id",
    "utcnow",
]
