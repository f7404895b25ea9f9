"""The first-run checklist on a new merchant's overview: what is done on the way to a first shopper.

Each step's status is read live from what the merchant's data shows, never ticked by hand, except
"quiz reviewed", which the merchant confirms (or does by publishing a quiz of their own).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ..models import CatalogImport, FunnelCount, Merchant, Product, QuizDefinition, utcnow
from ..platform.db import get_session, transaction


@dataclass(frozen=True)
class Step:
    """One checklist item: what to do, whether it is done, and where to do it (an admin endpoint)."""

    key: str
    title: str
    done: bool
    hint: str
    endpoint: str


def checklist(merchant: Merchant) -> list[Step]:
    """Return the merchant's first-run steps in the order they are usually done."""
    session = get_session()
    imported = session.scalar(
        sa.select(sa.func.count())
        .select_from(CatalogImport)
        .where(CatalogImport.merchant_id == merchant.id, CatalogImport.status == "done")
    ) or session.scalar(sa.select(sa.func.count()).select_from(Product).where(Product.merchant_id == merchant.id))
    own_quiz = session.scalar(
        sa.select(sa.func.count())
        .select_from(QuizDefinition)
        .where(QuizDefinition.merchant_id == merchant.id, QuizDefinition.origin == "merchant")
    )
    finished = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(FunnelCount.count), 0)).where(
            FunnelCount.merchant_id == merchant.id, FunnelCount.event == "complete"
        )
    )
    return [
        Step("catalog", "Catalog imported", bool(imported), "Upload your product export.", "admin.import_list"),
        Step(
            "quiz",
            "Quiz reviewed",
            bool(own_quiz) or merchant.quiz_reviewed_at is not None,
            "Read the quiz Attune built from your catalog and change what you like.",
            "admin.quiz_editor",
        ),
        Step(
            "partners",
            "Partner sites allowed",
            bool(merchant.partner_origins),
            "Name the sites that may show the quiz widget.",
            "admin.widget_settings",
        ),
        Step(
            "snippet",
            "Snippet embedded",
            merchant.widget_seen_at is not None,
            "Paste the widget snippet into your shop; this ticks when the widget first loads there.",
            "admin.widget_settings",
        ),
        Step(
            "shopper",
            "First shopper finished",
            bool(finished),
            "Ticks when the first shopper completes the quiz.",
            "admin.funnel_report",
        ),
    ]


def is_complete(steps: list[Step]) -> bool:
    """Return whether every step is done (the overview then no longer shows the checklist)."""
    return all(step.done for step in steps)


def mark_quiz_reviewed(merchant: Merchant) -> None:
    """Record that the merchant has looked over the quiz (in the caller's transaction)."""
    if merchant.quiz_reviewed_at is None:
        merchant.quiz_reviewed_at = utcnow()


def note_widget_load(merchant: Merchant) -> None:
    """Record the first widget load from a partner site, once; later loads cost one attribute read."""
    if merchant.widget_seen_at is not None:
        return
    with transaction() as session:
        session.execute(
            sa.update(Merchant)
            .where(Merchant.id == merchant.id, Merchant.widget_seen_at.is_(None))
            .values(widget_seen_at=utcnow())
        )
