"""Rule segments: named sets of conditions on stored profiles, all of which a member meets.

Rules (see docs/segments.md)::

    {kind: answer, question: country, values: [DE, AT]}      # the answer is (or includes) one of these
    {kind: budget, min: 50, max: 200}                        # the budget range overlaps this one
    {kind: consent, purpose: email}                          # the purpose is allowed now
    {kind: last_seen, within_days: 30}                       # seen in the last N days
    {kind: intent_shift}                                     # their intent shifted at least once
    {kind: cluster, centroid: [...]}                         # in the taste cluster nearest this centre
    {kind: score, score: propensity_90d, min: 0.6}           # a stored score in the range (docs/scores.md)
    {kind: score, score: churn_risk, band: high}             # churn risk in this band
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..models import CHURN_BANDS, IntentShift, Merchant, Profile, ProfileScore, Segment, utcnow
from ..platform.db import get_session
from ..platform.whole_numbers import WholeNumber
from ..privacy.explainer import PURPOSES
from ..privacy.profiles import live_with_consent
from ..quizzes.schema import Quiz, flatten_errors
from ..quizzes.store import live_quiz
from .clusters import MAX_CLUSTERS, assignments

KINDS = ("answer", "budget", "consent", "last_seen", "intent_shift", "cluster", "score")
# The stored scores a rule can test (quiz/lifecycle/scores.py computes them).
SCORES = ("propensity_90d", "churn_risk", "expected_spend_12m")
MAX_RULES = 20


class RuleSchema(Schema):
    """One condition."""

    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    question = fields.String(validate=validate.Length(1, 64))
    values = fields.List(fields.Raw(), validate=validate.Length(1, 100))
    min = fields.Float(allow_none=True)
    max = fields.Float(allow_none=True)
    purpose = fields.String(validate=validate.OneOf(PURPOSES))
    within_days = WholeNumber(validate=validate.Range(1, 3650))
    # its number when saved (a label)
    cluster = WholeNumber(validate=validate.Range(0, MAX_CLUSTERS - 1))
    centroid = fields.List(fields.Float(), validate=validate.Length(1, 4096))
    score = fields.String(validate=validate.OneOf(SCORES))
    band = fields.String(validate=validate.OneOf(CHURN_BANDS))

    @validates_schema
    def check_kind(self, data: dict[str, Any], **_: Any) -> None:
        kind = data.get("kind")
        needs = {
            "answer": ("question", "values"),
            "consent": ("purpose",),
            "last_seen": ("within_days",),
            "cluster": ("centroid",),
            "score": ("score",),
        }
        missing = [name for name in needs.get(str(kind), ()) if name not in data]
        if missing:
            raise ValidationError({name: [f"A {kind} rule needs {name}."] for name in missing})
        if kind == "budget" and data.get("min") is None and data.get("max") is None:
            raise ValidationError("A budget rule needs min, max or both.", "max")
        if kind == "score":
            if data.get("band") is not None and data.get("score") != "churn_risk":
                raise ValidationError("Only churn_risk has bands (low, medium, high).", "band")
            if data.get("band") is None and data.get("min") is None and data.get("max") is None:
                raise ValidationError("A score rule needs min, max or (for churn_risk) a band.", "min")


class SegmentSchema(Schema):
    """A segment as merchants write it."""

    name = fields.String(required=True, validate=validate.Length(1, 120))
    rules = fields.List(fields.Nested(RuleSchema), load_default=list, validate=validate.Length(max=MAX_RULES))


@dataclass(frozen=True)
class Member:
    """What the rules look at for one profile."""

    profile: Profile
    purposes: Mapping[str, bool]
    shifted: bool
    cluster: int | None = None
    score: ProfileScore | None = None


def clean(data: Any, quiz: Quiz) -> dict[str, Any]:
    """Return a checked segment definition; raise ValidationError with dotted paths.

    Answer rules must name a question of the live quiz (and, for choice questions, its values).
    """
    try:
        loaded: dict[str, Any] = SegmentSchema().load(data)
    except ValidationError as exc:
        raise ValidationError(flatten_errors(exc.messages)) from exc
    errors: dict[str, list[str]] = {}
    for i, rule in enumerate(loaded["rules"]):
        if rule["kind"] != "answer":
            continue
        question = quiz.question(rule["question"])
        if question is None:
            errors[f"rules[{i}].question"] = [f"{rule['question']!r} is not a question of your quiz."]
        elif question.options:
            unknown = [v for v in rule["values"] if question.option(str(v)) is None]
            if unknown:
                errors[f"rules[{i}].values"] = [f"{unknown[0]!r} is not an option of {question.id!r}."]
    if errors:
        raise ValidationError(errors)
    return loaded


def members(merchant: Merchant, rules: Sequence[Mapping[str, Any]]) -> list[Profile]:
    """Return the merchant's profiles that meet every rule, most recently seen first."""
    now = utcnow()
    quiz = live_quiz(merchant)
    budget_ids = [q.id for q in quiz.questions() if q.role == "budget"]
    by_cluster: Mapping[str, int] = {}
    if any(r["kind"] == "cluster" for r in rules):
        by_cluster, centroids, _ = assignments(merchant)
        rules = [_resolved(r, centroids) for r in rules]
    scores: Mapping[str, ProfileScore] = {}
    if any(r["kind"] == "score" for r in rules):
        found = get_session().scalars(sa.select(ProfileScore).where(ProfileScore.merchant_id == merchant.id))
        scores = {s.profile_id: s for s in found}
    return [
        m.profile
        for m in _candidates(merchant, by_cluster, scores)
        if all(_meets(m, r, now, budget_ids) for r in rules)
    ]


def _resolved(rule: Mapping[str, Any], centroids: np.ndarray | None) -> Mapping[str, Any]:
    """Return a cluster rule pointing at today's cluster nearest its saved centre (None: no such cluster).

    Clusters are formed again as profiles change and their numbers move; the centre a segment
    was saved with finds the same group of tastes.
    """
    if rule["kind"] != "cluster":
        return rule
    saved = np.asarray(rule["centroid"], dtype=np.float32)
    if centroids is None or centroids.shape[1] != len(saved):
        return {**rule, "index": None}
    return {**rule, "index": int(np.argmax(centroids @ saved))}


def _candidates(
    merchant: Merchant, by_cluster: Mapping[str, int], scores: Mapping[str, ProfileScore]
) -> Iterable[Member]:
    session = get_session()
    shifted = set(session.scalars(sa.select(IntentShift.profile_id).where(IntentShift.merchant_id == merchant.id)))
    rows = session.execute(live_with_consent(merchant).order_by(Profile.last_seen_at.desc()))
    for profile, consent in rows:
        yield Member(
            profile, consent.purposes or {}, profile.id in shifted, by_cluster.get(profile.id), scores.get(profile.id)
        )


def _meets(member: Member, rule: Mapping[str, Any], now: dt.datetime, budget_ids: Sequence[str]) -> bool:
    kind = rule["kind"]
    answers = member.profile.answers or {}
    if kind == "answer":
        given = answers.get(rule["question"])
        given_values = {str(v) for v in (given if isinstance(given, list) else [given])}
        return bool(given_values & {str(v) for v in rule["values"]})
    if kind == "budget":
        return any(_overlaps(answers.get(qid), rule.get("min"), rule.get("max")) for qid in budget_ids)
    if kind == "consent":
        return bool(member.purposes.get(rule["purpose"]))
    if kind == "last_seen":
        seen = member.profile.last_seen_at
        if seen.tzinfo is None:
            seen = seen.replace(tzinfo=dt.UTC)
        return now - seen <= dt.timedelta(days=rule["within_days"])
    if kind == "cluster":
        return rule.get("index") is not None and member.cluster == rule["index"]
    if kind == "score":
        return _score_meets(member.score, rule)
    return member.shifted  # intent_shift


def _score_meets(score: ProfileScore | None, rule: Mapping[str, Any]) -> bool:
    """Return whether a stored score is in the rule's range or band; a profile without it never is."""
    if score is None or score.basis != "orders":
        return False
    if rule.get("band") is not None:
        return score.churn_band == rule["band"]
    value = getattr(score, rule["score"])
    if value is None:
        return False
    value = float(value)
    low, high = rule.get("min"), rule.get("max")
    return (low is None or value >= low) and (high is None or value <= high)


def _overlaps(answer: Any, low: float | None, high: float | None) -> bool:
    """Return whether a budget answer [a, b] overlaps the range [low, high] (either end open)."""
    if not (isinstance(answer, list) and len(answer) == 2):
        return False
    try:
        a, b = float(answer[0]), float(answer[1])
    except (TypeError, ValueError):
        return False  # an answer to an older quiz: not a budget we can compare
    return (high is None or a <= high) and (low is None or b >= low)


def list_segments(merchant: Merchant) -> list[Segment]:
    """Return the merchant's saved segments by name."""
    return list(
        get_session().scalars(sa.select(Segment).where(Segment.merchant_id == merchant.id).order_by(Segment.name))
    )


def get(merchant: Merchant, segment_id: str) -> Segment | None:
    """Return one of the merchant's segments (None for another merchant's)."""
    return get_session().scalar(sa.select(Segment).where(Segment.id == segment_id, Segment.merchant_id == merchant.id))


def save(merchant: Merchant, data: Any, segment: Segment | None = None) -> Segment:
    """Create (or replace) a segment from a raw definition; call inside a transaction.

    Raises:
        ValidationError: with dotted paths; nothing is stored.
    """
    loaded = clean(data, live_quiz(merchant))
    session = get_session()
    taken = session.scalar(
        sa.select(Segment.id).where(Segment.merchant_id == merchant.id, Segment.name == loaded["name"])
    )
    if taken and (segment is None or taken != segment.id):
        raise ValidationError({"name": [f"You already have a segment called {loaded['name']!r}."]})
    if segment is None:
        segment = Segment(merchant_id=merchant.id, name=loaded["name"], rules=loaded["rules"])
        session.add(segment)
    else:
        segment.name, segment.rules, segment.updated_at = loaded["name"], loaded["rules"], utcnow()
    session.flush()
    return segment


def delete(segment: Segment) -> None:
    """Delete a segment (call inside a transaction); its profiles stay."""
    get_session().delete(segment)


def as_dict(segment: Segment, count: int | None = None) -> dict[str, Any]:
    """Return a segment as the API shows it."""
    data: dict[str, Any] = {"id": segment.id, "name": segment.name, "rules": segment.rules}
    if count is not None:
        data["count"] = count
    return data
