"""The embedded default's SQLite engine never makes a request wait for a pooled connection."""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa

from quiz.db import create_db_engine

THREADS = 40  # more than any fixed pool would hold: a burst of shoppers on the development server


def test_every_thread_gets_a_connection_at_once(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'burst.sqlite3'}")
    all_holding = threading.Barrier(THREADS, timeout=20)
    errors: list[BaseException] = []

    def shopper() -> None:
        try:
            with engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
                all_holding.wait()  # every thread holds its connection at the same moment
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=shopper) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    engine.dispose()
    assert not errors, errors[:3]
