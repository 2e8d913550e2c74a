"""Scheduler leadership: one leader per database (PostgreSQL advisory lock, MySQL GET_LOCK, a file lock for SQLite)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, Engine, text

log = logging.getLogger("robocore.scheduling")

# pg_try_advisory_lock key: the first 8 bytes of sha256("robocore.scheduler"), as a signed bigint
LOCK_KEY = 0x2D3B5F1A61C7E904
MYSQL_LOCK_NAME = "robocore.scheduler"


class LeaderLock(Protocol):
    """A non-blocking, process-wide leadership lock."""

    def acquire(self) -> bool:
        """Take the lock if free; True when this process is (still) the leader."""

    def alive(self) -> bool:
        """Whether the lock is still held (the connection holding it did not die)."""

    def release(self) -> None:
        """Give the lock up (idempotent)."""


class PostgresLock:
    """Session-level `pg_try_advisory_lock` on a dedicated connection, held while leader."""

    def __init__(self, engine: Engine, key: int = LOCK_KEY) -> None:
        self.engine, self.key = engine, key
        self.conn: Connection | None = None

    def acquire(self) -> bool:
        """Take the advisory lock if free; True when this process is (still) the leader."""
        if self.conn is not None:
            return self.alive()
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar())
        except Exception:
            conn.close()
            raise
        if got:
            self.conn = conn
        else:
            conn.close()
        return got

    def alive(self) -> bool:
        """Whether the session holding the lock still answers."""
        if self.conn is None:
            return False
        try:
            self.conn.execute(text("SELECT 1"))
            return True
        except Exception as exc:  # the session died: the database released the lock
            log.warning("connexion du verrou perdue / leader connection lost: %s", exc)
            self._drop()
            return False

    def release(self) -> None:
        """Unlock and drop the dedicated session (idempotent)."""
        if self.conn is None:
            return
        try:
            self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
        except Exception:  # closing the session releases it anyway
            pass
        self._drop()

    def _drop(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                conn.invalidate()  # never hand a session holding the lock back to the pool
                conn.close()
            except Exception:
                pass


class MysqlLock(PostgresLock):
    """MariaDB/MySQL `GET_LOCK(name, 0)` on a dedicated connection."""

    def acquire(self) -> bool:
        """Take the named lock if free; True when this process is (still) the leader."""
        if self.conn is not None:
            return self.alive()
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        got = conn.execute(text("SELECT GET_LOCK(:n, 0)"), {"n": MYSQL_LOCK_NAME}).scalar() == 1
        if got:
            self.conn = conn
        else:
            conn.close()
        return got

    def release(self) -> None:
        """Release the named lock and drop the dedicated session (idempotent)."""
        if self.conn is not None:
            try:
                self.conn.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": MYSQL_LOCK_NAME})
            except Exception:
                pass
        self._drop()


class FileLeaderLock:
    """A `filelock` next to the SQLite database file (released by the OS when the process dies)."""

    def __init__(self, path: Path) -> None:
        from filelock import FileLock

        self.path = path
        self.lock = FileLock(str(path), thread_local=False)

    def acquire(self) -> bool:
        """Take the file lock if free; True when this process is (still) the leader."""
        from filelock import Timeout

        if self.lock.is_locked:
            return True
        try:
            self.lock.acquire(timeout=0)
            return True
        except Timeout:
            return False

    def alive(self) -> bool:
        """Whether this process still holds the file lock."""
        return self.lock.is_locked

    def release(self) -> None:
        """Release the file lock (idempotent)."""
        if self.lock.is_locked:
            self.lock.release(force=True)


def leader_lock(engine: Engine) -> LeaderLock:
    """The right lock for the store's database."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        return PostgresLock(engine)
    if url.get_backend_name() in ("mysql", "mariadb"):
        return MysqlLock(engine)
    if url.get_backend_name() == "sqlite":
        db = url.database
        if not db or db == ":memory:":
            from robocore import settings

            return FileLeaderLock(settings.home() / "scheduler.lock")
        return FileLeaderLock(Path(db).with_name(Path(db).name + ".scheduler.lock"))
    raise ValueError(f"base non prise en charge pour le planificateur / unsupported database: {url.get_backend_name()}")


class LeaderLocksMixin:
    """The Store's scheduler leadership lock."""

    engine: Engine

    def leader_lock(self) -> LeaderLock:
        """A new (not yet taken) scheduler leadership lock on this database."""
        return leader_lock(self.engine)
