"""A new SQLite store is created from `sqlite_head.sql`: the very schema the Alembic migrations leave."""

import sqlite3
from pathlib import Path

from robocore.store import Store, fresh, migrate
from robocore.store.connection import make_engine

MASTER = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid"


def _content(path: Path) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]], int]:
    """Every schema object (automatic indexes included), the Alembic revision and user_version."""
    db = sqlite3.connect(path)
    try:
        return (db.execute(MASTER).fetchall(), db.execute("SELECT version_num FROM alembic_version").fetchall(),
                db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()


def _replayed(path: Path) -> None:
    engine = make_engine(f"sqlite:///{path}")
    migrate.replay(engine)
    engine.dispose()


def test_schema_script_is_what_the_migrations_write(tmp_path: Path) -> None:
    """A migration added without `python -m robocore.store.fresh` makes this fail."""
    target = tmp_path / "head.sql"
    fresh.write_schema(target)
    assert target.read_text(encoding="utf-8") == fresh.SCHEMA.read_text(encoding="utf-8")


def test_new_store_equals_a_migrated_one(tmp_path: Path) -> None:
    """Tables, indexes, triggers (same SQL, same order) and the head revision: the store cannot tell."""
    _replayed(tmp_path / "migrated.db")
    Store(f"sqlite:///{tmp_path / 'new.db'}").close()
    migrated, created = _content(tmp_path / "migrated.db"), _content(tmp_path / "new.db")
    assert created == migrated
    assert created[1] == [(migrate.HEAD,)]
    assert any(kind == "trigger" for kind, *_ in created[0])  # the ledger_days triggers of 0011 came along


def test_new_store_keeps_the_ledger_days_triggers(tmp_path: Path) -> None:
    """The triggers work in a store created from the script, as they do after the migrations."""
    Store(f"sqlite:///{tmp_path / 'new.db'}").close()
    db = sqlite3.connect(tmp_path / "new.db")  # foreign keys off: a ledger line without its run
    try:
        db.execute("INSERT INTO ledger (entry_key, run_id, kind, robot, minutes, recorded_at) "
                   "VALUES ('k', 'r', 'item', 'robot', 2.5, '2026-03-04 10:00:00')")
        days = db.execute("SELECT day, robot, minutes, entries FROM ledger_days").fetchall()
    finally:
        db.close()
    assert days == [("2026-03-04", "robot", 2.5, 1)]


def test_a_database_with_tables_is_left_to_alembic(tmp_path: Path) -> None:
    """Only an empty database is created from the script: anything else is not touched by it."""
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE someone_elses (id INTEGER)")
    db.commit()
    db.close()
    engine = make_engine(f"sqlite:///{path}")
    assert fresh.create_sqlite(engine) is False
    engine.dispose()
    assert _content_names(path) == ["someone_elses"]


def test_a_second_creation_does_nothing(tmp_path: Path) -> None:
    """Two processes opening the same new store: the second finds the tables and keeps them."""
    url = f"sqlite:///{tmp_path / 'new.db'}"
    Store(url).close()
    engine = make_engine(url)
    assert fresh.create_sqlite(engine) is False
    engine.dispose()
    assert _content(tmp_path / "new.db")[1] == [(migrate.HEAD,)]


def test_statements_keep_a_trigger_whole() -> None:
    script = ("-- a comment\n\nCREATE TABLE t (a INTEGER);\n\nCREATE TRIGGER g AFTER INSERT ON t BEGIN "
              "INSERT INTO t VALUES (1); DELETE FROM t; END;\n")
    assert fresh.statements(script) == [
        "CREATE TABLE t (a INTEGER);",
        "CREATE TRIGGER g AFTER INSERT ON t BEGIN INSERT INTO t VALUES (1); DELETE FROM t; END;"]


def _content_names(path: Path) -> list[str]:
    db = sqlite3.connect(path)
    try:
        return [row[0] for row in db.execute("SELECT name FROM sqlite_master")]
    finally:
        db.close()
