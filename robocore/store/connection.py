"""The SQLAlchemy engine of the store: SQLite in WAL mode, or a pooled PostgreSQL."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

from robocore.errors import StoreError

# What a caller catches to tell "the database failed" (unreachable, connection lost, driver error)
# without importing SQLAlchemy: the store's own StoreError and the DBAPI errors it lets through.
DATABASE_ERRORS: tuple[type[Exception], ...] = (StoreError, DBAPIError)


def _sqlite_pragmas(busy_ms: int) -> Any:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a killed process loses nothing committed
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()
    return on_connect


def timeouts() -> tuple[float, float]:
    """(ROBOCORE_DATABASE_TIMEOUT, ROBOCORE_STATEMENT_TIMEOUT) in seconds."""
    from robocore.settings import get_settings

    current = get_settings()
    return current.database_timeout, current.statement_timeout


def server_connect_args(url: URL, connect_s: float, statement_s: float) -> dict[str, Any]:
    """Driver arguments bounding the connection (and, on PostgreSQL, each statement) of a server database.

    libpq counts `connect_timeout` in whole seconds (at least 2); `statement_timeout` is set for the
    session, and a migration lifts it for its own transaction (`migrate.upgrade`).
    """
    backend = url.get_backend_name()
    if backend == "postgresql":
        return {"connect_timeout": max(2, math.ceil(connect_s)),
                "options": f"-c statement_timeout={max(1, round(statement_s * 1000))}"}
    if backend in ("mysql", "mariadb"):
        return {"connect_timeout": max(1, math.ceil(connect_s))}
    return {}


def make_engine(url: str) -> Engine:
    """An engine for SQLite (WAL) or PostgreSQL, every wait bounded by the database timeouts.

    Connect: ROBOCORE_DATABASE_TIMEOUT (also the longest wait for a pooled connection); a statement:
    ROBOCORE_STATEMENT_TIMEOUT (SQLite: the longest wait for a lock held by another process).
    """
    connect_s, statement_s = timeouts()
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": statement_s})
        event.listen(engine, "connect", _sqlite_pragmas(max(1, round(statement_s * 1000))))
        return engine
    # no pre-ping (one round trip per transaction); stale connections are recycled instead
    return create_engine(url, pool_pre_ping=False, pool_recycle=1800, pool_size=5, max_overflow=10,
                         pool_timeout=connect_s, connect_args=server_connect_args(make_url(url), connect_s,
                                                                                   statement_s))


def redact_url(url: str) -> str:
    """The database URL without its password (for error messages)."""
    return make_url(url).render_as_string(hide_password=True)
