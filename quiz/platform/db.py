"""The one session pattern: an engine per app, a SQLAlchemy session per app context."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

EXTENSION = "attune.db"
SQLITE_CONNECTIONS = 15  # per process: enough for two cores, few enough that writers rarely wait


def create_db_engine(url: str, pool_timeout: float | None = None) -> Engine:
    """Create an engine tuned for the URL's backend (SQLite gets WAL and a busy timeout).

    ``pool_timeout`` bounds the wait for a free connection (admission control: the app passes
    ``ADMISSION_WAIT_SECONDS``, and a request past it is answered 503 "busy" at once); None keeps
    the backends' own defaults below.
    """
    if url.startswith("sqlite"):
        # At most SQLITE_CONNECTIONS requests at the database at once; the rest of a burst queue for
        # a connection, in order, for up to a minute. Measured (docs/reliability.md): a connection
        # per serving thread let 200 shoppers' writers thrash SQLite's lock, whose busy handler
        # polls unfairly, until writers waited out the busy timeout; a 30 s pool wait refused some.
        engine = sa.create_engine(
            url,
            connect_args={"timeout": 15, "check_same_thread": False},
            pool_size=SQLITE_CONNECTIONS,
            max_overflow=0,
            pool_timeout=60 if pool_timeout is None else pool_timeout,
        )
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    bound = {} if pool_timeout is None else {"pool_timeout": pool_timeout}
    return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, **bound)


def is_unavailable(exc: BaseException) -> bool:
    """Return whether ``exc`` says the database could not be used just now (an outage, not a bug).

    Connection refused or reset, SQLite locked past its busy timeout, a pool checkout that timed
    out, or any DBAPI error that invalidated its connection; integrity or syntax errors are bugs.
    """
    if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError | sa.exc.TimeoutError):
        return True
    return isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def init_app(app: Flask) -> None:
    """Bind an engine and session factory to ``app``; close the session after each context."""
    engine = create_db_engine(app.config["DATABASE_URL"], float(app.config["ADMISSION_WAIT_SECONDS"]))
    app.extensions[EXTENSION] = sessionmaker(bind=engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def get_session() -> Session:
    """Return this app context's session, opening it on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions[EXTENSION]()
    return g.db_session


def get_engine() -> Engine:
    """Return the app's engine."""
    engine = current_app.extensions[EXTENSION].kw["bind"]
    assert isinstance(engine, Engine)
    return engine


@contextmanager
def transaction() -> Iterator[Session]:
    """Run a block in one short write transaction: commit on success, roll back on error."""
    session = get_session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        try:
            session.close()
        except sa.exc.DBAPIError:  # the connection died after the answer was made: drop it, keep the answer
            session.invalidate()
