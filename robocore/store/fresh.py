"""A new SQLite store created at the head revision in one transaction, without replaying the migrations.

`sqlite_head.sql` is the schema the Alembic migrations leave in an empty SQLite database (every
table, index and trigger, in creation order, the `alembic_version` row included), written by
`python -m robocore.store.fresh` after a migration is added; tests/unit/test_fresh_store.py checks
that it is still what the migrations produce. Replaying twelve migrations (and importing Alembic)
costs a `robo run` on a new home about 0.1–0.2 s; this script costs a few milliseconds.

Only an empty SQLite database is created this way: any other store (PostgreSQL, an older SQLite
store) goes through Alembic (`migrate.upgrade`).
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from pathlib import Path

from sqlalchemy import Engine

SCHEMA = Path(__file__).parent / "sqlite_head.sql"
# what `dump` reads: the objects a migration creates (SQLite's automatic indexes have no SQL)
OBJECTS = "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"


def statements(text: str) -> list[str]:
    """The SQL statements of a script, a trigger's `BEGIN … END` kept whole (comment lines skipped)."""
    found, current = [], ""
    for line in text.splitlines(keepends=True):
        if not current and (not line.strip() or line.startswith("--")):
            continue
        current += line
        if sqlite3.complete_statement(current):
            found.append(current.strip())
            current = ""
    if current.strip():
        raise ValueError(f"{SCHEMA.name}: incomplete statement at the end: {current.strip()[:80]!r}")
    return found


def dump(connection: sqlite3.Connection) -> str:
    """The schema script of a store: each object's SQL as SQLite keeps it, then its Alembic revision."""
    objects = [row[0] for row in connection.execute(OBJECTS)]
    revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    lines = ["-- Written by `python -m robocore.store.fresh` from the Alembic migrations: do not edit.", ""]
    lines += [f"{sql};\n" for sql in objects]
    lines.append(f"INSERT INTO alembic_version (version_num) VALUES ('{revision}');")
    return "\n".join(lines) + "\n"


def create_sqlite(engine: Engine) -> bool:
    """Create the head schema in an empty SQLite database; False (nothing done) when it has any table.

    One `BEGIN IMMEDIATE` transaction: a second process creating the same store waits for the first,
    then finds the tables and leaves them (its `migrate.upgrade` sees the head revision).
    """
    raw = engine.raw_connection()
    try:
        db = raw.driver_connection
        assert isinstance(db, sqlite3.Connection)
        level = db.isolation_level
        db.isolation_level = None  # transactions driven here, DDL included
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                if db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                    db.execute("ROLLBACK")
                    return False
                for statement in statements(SCHEMA.read_text(encoding="utf-8")):
                    db.execute(statement)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        finally:
            db.isolation_level = level
    finally:
        raw.close()
    return True


def write_schema(target: Path = SCHEMA) -> None:
    """Migrate an empty SQLite database with Alembic and write its schema script to `target`."""
    from robocore.store import migrate
    from robocore.store.connection import make_engine

    with tempfile.TemporaryDirectory(prefix="robocore-schema-") as folder:
        path = Path(folder) / "store.db"
        engine = make_engine(f"sqlite:///{path}")
        migrate.replay(engine)
        engine.dispose()
        db = sqlite3.connect(path)
        try:
            target.write_text(dump(db), encoding="utf-8")
        finally:
            db.close()


if __name__ == "__main__":
    write_schema(Path(sys.argv[1]) if len(sys.argv) > 1 else SCHEMA)
