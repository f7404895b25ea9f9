"""Soak run of the lifecycle: N profiles with orders on PostgreSQL, scores then journeys, twice.

Run: `.venv/bin/python bench/journeys_soak.py [--profiles 10000] [--database-url URL]` (default:
PostgreSQL at 127.0.0.1:5432, db `test`, in a schema of its own that is dropped afterwards).

The demo shop is loaded into a throwaway instance; N consenting profiles (email allowed and
confirmed, finished 0 to 10 days ago) are bulk-inserted, 60% of them with 1 to 6 orders over the
last 300 days. `no_order_picks` (delay 48 h) and `win_back` are switched on, with no quiet hours.
Then, timed: `scores.compute` (the nightly scores) and `runner.run` (the journeys; mail to the
outbox), and a second journeys run right after, which must send nothing new. Printed: each
stage's seconds, seconds per 1,000 profiles, the peak resident memory of the process, and the
decisions by outcome. The ratio of the second run to the first shows what "nothing to do" costs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import time
import uuid

from _common import demo_app, machine_summary, throwaway_instance

ANSWERS = {
    "first_name": "Ada",
    "age_band": "25-34",
    "gender": "prefer_not",
    "country": "GB",
    "intent": "myself",
    "looking_for": "lightweight waterproof jacket for hiking",
    "timing": "this_month",
    "categories": ["any"],
    "styles": ["technical"],
    "budget": [0, 1000],
    "shopping_style": "no_preference",
    "channels": ["email"],
}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _populate(merchant_id: int, count: int, seed: int = 7) -> None:
    """Bulk-insert ``count`` profiles with their consent decisions and orders."""
    import sqlalchemy as sa

    from quiz.models import ConsentRecord, Order, Profile
    from quiz.platform.db import get_session

    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    session = get_session()
    purposes = {"recommendations": True, "profile": True, "email": True, "sms": False}
    for start in range(0, count, 1000):
        batch = range(start, min(start + 1000, count))
        subjects = [uuid.uuid4().hex for _ in batch]
        consent_ids = session.scalars(
            sa.insert(ConsentRecord).returning(ConsentRecord.id),
            [
                {
                    "merchant_id": merchant_id,
                    "subject_id": s,
                    "action": "grant",
                    "purposes": purposes,
                    "explainer_version": "bench",
                    "text_sha256": "0" * 64,
                    "locale": "en",
                    "source": "bench",
                    "created_at": now,
                }
                for s in subjects
            ],
        ).all()
        profiles = [
            {
                "id": uuid.uuid4().hex,
                "merchant_id": merchant_id,
                "subject_id": s,
                "email": f"{s[:12]}@example.com",
                "email_confirmed_at": now,
                "answers": ANSWERS,
                "hidden_fields": {},
                "quiz_version": 1,
                "consent_record_id": c,
                "created_at": now,
                "last_seen_at": now - dt.timedelta(days=rng.uniform(0, 10)),
                "expires_at": now + dt.timedelta(days=365),
            }
            for s, c in zip(subjects, consent_ids, strict=True)
        ]
        session.execute(sa.insert(Profile), profiles)
        orders = []
        for profile in profiles:
            if rng.random() < 0.6:
                for n in range(rng.randint(1, 6)):
                    orders.append(
                        {
                            "merchant_id": merchant_id,
                            "order_id": f"{profile['id'][:16]}-{n}",
                            "placed_at": now - dt.timedelta(days=rng.uniform(11, 300)),
                            "currency": "USD",
                            "total": round(rng.uniform(20, 400), 2),
                            "profile_id": profile["id"],
                            "linked_by": "profile_id",
                            "source": "bench",
                            "created_at": now,
                            "updated_at": now,
                        }
                    )
        if orders:
            session.execute(sa.insert(Order), orders)
        session.commit()


def main() -> None:
    """Run the soak and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=10_000)
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()

    import sqlalchemy as sa

    schema = f"soak_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(args.database_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    url = f"{args.database_url}?options=-csearch_path%3D{schema}"
    try:
        with throwaway_instance("attune-soak-") as instance:
            app = demo_app(instance, DATABASE_URL=url, PUBLIC_URL="http://localhost")
            _run(app, args.profiles)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _run(app, count: int) -> None:  # noqa: ANN001 (a Flask app)
    from quiz import merchants
    from quiz.lifecycle import journeys, scores
    from quiz.lifecycle.runner import run
    from quiz.models import LifecycleSetting
    from quiz.platform.db import get_engine, get_session, transaction

    print(machine_summary())
    with app.app_context():
        merchant = merchants.get_by_slug("demo")
        started = time.perf_counter()
        _populate(merchant.id, count)
        print(f"populate: {count} profiles in {time.perf_counter() - started:.1f} s")
        with transaction():
            journeys.configure(merchant, "no_order_picks", enabled=True, delay_hours=48)
            journeys.configure(merchant, "win_back", enabled=True, threshold=0.7)
            get_session().add(LifecycleSetting(merchant_id=merchant.id, quiet_start=0, quiet_end=0))
        started = time.perf_counter()
        computed = scores.compute_all([merchant])[0]
        scored = time.perf_counter() - started
        print(
            f"scores: {scored:.1f} s ({scored / count * 1000:.2f} s per 1,000 profiles), "
            f"{computed.with_orders} from orders, {computed.without_orders} without, model {computed.model_version}"
        )
        with app.test_request_context(base_url="http://localhost"):
            timings = []
            for label in ("first", "second"):
                started = time.perf_counter()
                decisions = run(merchants.get_by_slug("demo"))
                timings.append(time.perf_counter() - started)
                outcomes: dict[str, int] = {}
                for decision in decisions:
                    outcomes[decision.status] = outcomes.get(decision.status, 0) + 1
                print(f"journeys {label} run: {timings[-1]:.1f} s, {dict(sorted(outcomes.items()))}")
        print(f"second run / first run: {timings[1] / timings[0]:.2f}; peak RSS {_peak_mb():.0f} MB")
        get_engine().dispose()


if __name__ == "__main__":
    main()
