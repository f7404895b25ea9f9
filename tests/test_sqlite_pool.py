"""The embedded default's SQLite engine queues a burst of requests for its connections, refusing none."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import sqlalchemy as sa

from quiz.platform.db import SQLITE_CONNECTIONS, create_db_engine

THREADS = 3 * SQLITE_CONNECTIONS  # a burst of shoppers on the development server: a thread each


def test_a_burst_beyond_the_pool_waits_its_turn_and_is_served(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'burst.sqlite3'}")
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE visit (id INTEGER PRIMARY KEY)"))
    lock = threading.Lock()
    holding, most_holding, errors = 0, 0, []

    def shopper() -> None:
        nonlocal holding, most_holding
        try:
            with engine.begin() as connection:
                with lock:
                    holding += 1
                    most_holding = max(most_holding, holding)
                connection.execute(sa.text("INSERT INTO visit DEFAULT VALUES"))
                time.sleep(0.05)  # a request's work, connection held
                with lock:
                    holding -= 1
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=shopper) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with engine.connect() as connection:
        stored = connection.scalar(sa.text("SELECT count(*) FROM visit"))
    engine.dispose()
    assert not errors, errors[:3]
    assert stored == THREADS, "every request of the burst was served"
    assert most_holding <= SQLITE_CONNECTIONS, "the burst queued for connections instead of piling onto SQLite"
