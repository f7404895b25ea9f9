"""Links that bring a shopper back to a stored run ("Take the quiz again", a resume link).

Such a link is a key to a subject. A browser that is not yet that subject sees only what the
link's owner allowed to be kept (when it was saved, and the first name a profile holds), makes
its own consent decision, and is bound to the subject only by that decision: see
docs/returning-shoppers.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..models import Merchant
from ..privacy import profiles
from ..privacy.consent import ConsentState
from ..privacy.explainer import Explainer


@dataclass(frozen=True)
class SavedRun:
    """What a stranger's browser may be told about the run a link opens."""

    saved_at: dt.datetime | None  # when it was saved (a saved quiz) or last kept (a profile)
    first_name: str | None  # only from a profile, which exists only with `profile` consent


def describe(merchant: Merchant, subject_id: str, saved_at: dt.datetime | None = None) -> SavedRun:
    """Return what the link's confirm page shows about the subject's run.

    ``saved_at`` is the saved quiz's time for a resume link; otherwise the profile's last visit.
    """
    profile = profiles.get_profile(merchant.id, subject_id)
    when = saved_at or (profile.last_seen_at if profile is not None else None)
    return SavedRun(when, profile.first_name if profile is not None else None)


def decide(
    merchant: Merchant,
    subject_id: str,
    purposes: Mapping[str, bool],
    explainer: Explainer,
    *,
    source: str,
    origin: str | None = None,
    notice_layers: Mapping[str, Any] | None = None,
) -> ConsentState:
    """Record the returning shopper's own decision for the subject they continue (on the notice's page,
    whose ``notice_layers`` are stored with it).

    It replaces the decision the run was saved under (a "grant" on the text they read now), with
    what a refusal implies: refusing `profile` deletes the stored profile. Raises
    :class:`quiz.privacy.consent.ConsentEnded` when the subject's data was erased meanwhile.
    """
    return profiles.change_consents(
        merchant,
        subject_id,
        purposes,
        explainer,
        source=source,
        action="grant",
        origin=origin,
        notice_layers=notice_layers,
    )
