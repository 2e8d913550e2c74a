"""Throw-away PostgreSQL databases for the benchmarks (on ROBOCORE_TEST_PG's server)."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

PG_ADMIN = os.environ.get("ROBOCORE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def scratch_database(prefix: str) -> str | None:
    """URL of a fresh database named after `prefix` and this process; None when PostgreSQL does not answer."""
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            pass
    except OSError:
        return None
    from sqlalchemy import create_engine, text

    name = f"{prefix}_{os.getpid()}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def drop_database(url: str) -> None:
    """Drop a database made by scratch_database, closing what still uses it."""
    from sqlalchemy import create_engine, text

    name = url.rsplit("/", 1)[1]
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def on_sqlite_and_postgresql(database: str, measure: Callable[[str, str, Path], None]) -> None:
    """measure("sqlite", url, tmp), then measure("postgresql", url, tmp) in a throw-away database when it answers."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        measure("sqlite", f"sqlite:///{Path(tmp) / 'robocore.db'}", Path(tmp))
        pg = scratch_database(database)
        if pg is None:
            print("\n[postgresql] skipped: nothing answers on 127.0.0.1:5432")
            return
        try:
            measure("postgresql", pg, Path(tmp))
        finally:
            drop_database(pg)
