"""The SQLAlchemy engine of the store: SQLite in WAL mode, or a pooled PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from robocore.errors import StoreError

# What a caller catches to tell "the database failed" (unreachable, connection lost, driver error)
# without importing SQLAlchemy: the store's own StoreError and the DBAPI errors it lets through.
DATABASE_ERRORS: tuple[type[Exception], ...] = (StoreError, DBAPIError)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a killed process loses nothing committed
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def make_engine(url: str) -> Engine:
    """An engine for SQLite (WAL) or PostgreSQL."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # no pre-ping (one round trip per transaction); stale connections are recycled instead
    return create_engine(url, pool_pre_ping=False, pool_recycle=1800, pool_size=5, max_overflow=10)


def redact_url(url: str) -> str:
    """The database URL without its password (for error messages)."""
    return make_url(url).render_as_string(hide_password=True)
