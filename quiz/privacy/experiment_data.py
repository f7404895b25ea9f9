"""A shopper's A/B test exposures: what they bought after one, and what erasure leaves of them.

An exposure holds the shopper's pseudonymous subject id, so erasure does not leave it behind. It
cannot simply go either: a merchant reading a test's results after an erasure would see its
shoppers, finishes and orders shrink for no reason they can see, and a two-proportion result
would change its denominators silently. So erasure first adds the exposure to its variant's
anonymous counts (``ErasedExposures``: how many, finished, ordered, revenue as a sum and a sum of
squares; no subject, no time), then deletes it. The results read the counts beside the exposures
and say the same after an erasure as before.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..models import ErasedExposures, Experiment, Exposure, Order, Profile
from ..platform.db import get_session

CENTS = Decimal("0.01")
SQUARED_CENTS = Decimal("0.0001")


def bought_after(*conditions: sa.ColumnElement[bool]) -> dict[int, Decimal]:
    """Return, by exposure id, the total of the orders each exposure's shopper placed after it.

    The exposures are those matching ``conditions``; an order counts when it is linked to the
    shopper's profile, placed at or after the exposure and not cancelled. An exposure without
    such an order is left out (no conversion).
    """
    rows = get_session().execute(
        sa.select(Exposure.id, Order.total)
        .join(Profile, sa.and_(Profile.merchant_id == Exposure.merchant_id, Profile.subject_id == Exposure.subject_id))
        .join(Order, Order.profile_id == Profile.id)
        .where(*conditions, Order.cancelled_at.is_(None))
        .where(Order.placed_at >= Exposure.exposed_at)
    )
    bought: dict[int, Decimal] = defaultdict(Decimal)
    for exposure_id, total in rows:
        bought[exposure_id] += total
    return dict(bought)


def erased_counts(experiment_id: str) -> list[ErasedExposures]:
    """Return the anonymous counts of the experiment's erased shoppers, one row per variant that has any."""
    return list(get_session().scalars(sa.select(ErasedExposures).where(ErasedExposures.experiment_id == experiment_id)))


def forget_exposures(merchant_id: int, subject_id: str) -> int:
    """Fold the subject's exposures into their variants' anonymous counts and delete them; return how many.

    Call it before the profile is deleted: what the shopper bought is read through it.
    """
    return fold_exposures(Exposure.merchant_id == merchant_id, Exposure.subject_id == subject_id)


def fold_exposures(*conditions: sa.ColumnElement[bool]) -> int:
    """Add the exposures matching ``conditions`` to their variants' anonymous counts, delete them; return how many.

    Erasure folds one subject's exposures; retention folds those older than the merchant's period.
    Call it before the shoppers' profiles go and their orders are unlinked: what they bought is
    read through them.
    """
    folded = _store_counts(conditions, exposures_too=True)
    if folded:
        get_session().execute(sa.delete(Exposure).where(*conditions))
    return folded


def keep_conversions(*conditions: sa.ColumnElement[bool]) -> int:
    """Add what the shoppers of the exposures matching ``conditions`` bought to the anonymous counts.

    For profiles about to go while their exposures stay (``profile`` withdrawn, a profile expired):
    their orders are read through the profile, so without this the test would lose those
    conversions. The exposures themselves are counted as before (the rows remain); only the
    conversions and revenue move to the counts. Call it before the profiles are deleted. Returns
    how many exposures matched.
    """
    return _store_counts(conditions, exposures_too=False)


def _store_counts(conditions: tuple[sa.ColumnElement[bool], ...], *, exposures_too: bool) -> int:
    """Add the matching exposures' purchases (and, if ``exposures_too``, the exposures) to the counts."""
    session = get_session()
    exposures = session.execute(
        sa.select(Exposure.id, Exposure.experiment_id, Exposure.variant, Exposure.completed_at).where(*conditions)
    ).all()
    if not exposures:
        return 0
    bought = bought_after(*conditions)
    counts: dict[tuple[str, str], _Counts] = defaultdict(_Counts)
    for exposure_id, experiment_id, variant, completed_at in exposures:
        variant_counts = counts[experiment_id, variant]
        if exposures_too:
            variant_counts.exposed(finished=completed_at is not None)
        if exposure_id in bought:
            variant_counts.bought(bought[exposure_id])
    for (experiment_id, variant), added in counts.items():
        if added != _Counts():
            session.execute(_add(experiment_id, variant, added))
    return len(exposures)


@dataclass
class _Counts:
    """One variant's share of the exposures being folded, as ``ErasedExposures`` adds it up."""

    exposures: int = 0
    completions: int = 0
    conversions: int = 0
    revenue: Decimal = Decimal(0)
    revenue_squares: Decimal = Decimal(0)

    def exposed(self, finished: bool) -> None:
        """Count one exposure, and whether its shopper finished the quiz."""
        self.exposures += 1
        self.completions += int(finished)

    def bought(self, total: Decimal) -> None:
        """Count one exposure's shopper as converted, with what they bought after it."""
        revenue = total.quantize(CENTS)
        self.conversions += 1
        self.revenue += revenue
        self.revenue_squares += (revenue * revenue).quantize(SQUARED_CENTS)


def _add(experiment_id: str, variant: str, added: _Counts) -> sa.Insert:
    """Return an upsert adding ``added`` to the variant's counts (created with them if first)."""
    insert = postgresql_insert if get_session().get_bind().dialect.name == "postgresql" else sqlite_insert
    table = ErasedExposures.__table__
    values = asdict(added)
    statement = insert(table).values(experiment_id=experiment_id, variant=variant, **values)
    return statement.on_conflict_do_update(
        index_elements=[table.c.experiment_id, table.c.variant],
        set_={name: table.c[name] + value for name, value in values.items()},
    )


def subject_exposures(merchant_id: int, subject_id: str) -> list[dict[str, str | None]]:
    """Return the A/B tests a subject took part in: the test, the version shown, when, and when finished.

    For the shopper's right of access (the privacy page and the JSON download): an exposure is
    stored against the pseudonymous subject, with or without a profile.
    """
    rows = get_session().execute(
        sa.select(Experiment.name, Exposure.variant, Exposure.exposed_at, Exposure.completed_at)
        .join(Experiment, Experiment.id == Exposure.experiment_id)
        .where(Exposure.merchant_id == merchant_id, Exposure.subject_id == subject_id)
        .order_by(Exposure.exposed_at, Exposure.id)
    )
    return [
        {
            "test": name,
            "variant": variant,
            "shown_at": shown.isoformat(),
            "finished_at": finished.isoformat() if finished else None,
        }
        for name, variant, shown, finished in rows
    ]
