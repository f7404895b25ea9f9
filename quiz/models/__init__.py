"""SQLAlchemy models; import them from here."""

from .admin_login import AdminLogin
from .admin_user import AdminUser
from .base import Base, new_public_id, utcnow
from .catalog_import import CatalogImport, ImportMode, ImportStatus
from .consent import ConsentAction, ConsentRecord, LedgerViolation
from .experiment import ErasedExposures, Experiment, Exposure
from .explainer_version import ExplainerVersion
from .funnel import FunnelCount
from .intent_shift import IntentShift
from .journey import JOURNEY_KINDS, Journey, JourneySend, LifecycleSetting
from .merchant import ApiKey, Merchant
from .order import Order, OrderLine
from .product import Product
from .profile import Profile
from .profile_score import CHURN_BANDS, ProfileScore
from .quiz_definition import QuizDefinition
from .quiz_session import QuizSession
from .segment import Segment
from .shopper_event import ShopperEvent, TrackedOrder
from .webhook import Webhook, WebhookDelivery

__all__ = [
    "AdminLogin",
    "AdminUser",
    "CatalogImport",
    "ImportMode",
    "ImportStatus",
    "ApiKey",
    "Base",
    "ConsentAction",
    "ConsentRecord",
    "ErasedExposures",
    "Experiment",
    "ExplainerVersion",
    "Exposure",
    "FunnelCount",
    "IntentShift",
    "JOURNEY_KINDS",
    "Journey",
    "JourneySend",
    "LifecycleSetting",
    "LedgerViolation",
    "Merchant",
    "Order",
    "OrderLine",
    "Product",
    "Profile",
    "ProfileScore",
    "CHURN_BANDS",
    "QuizDefinition",
    "Segment",
    "ShopperEvent",
    "TrackedOrder",
    "Webhook",
    "WebhookDelivery",
    "QuizSession",
    "new_public_id",
    "utcnow",
]
