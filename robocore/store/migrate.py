"""Apply Alembic migrations automatically, skipping Alembic entirely when already at head."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, inspect, text

HEAD = "0012"
MIGRATIONS = Path(__file__).parent / "migrations"


def _alembic_config(connection: object) -> object:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def compared(dialect: str) -> Callable[..., bool]:
    """Autogenerate's filter: what the models declare for this dialect, not APScheduler's table."""
    def include(obj: object, name: str | None, type_: str, *_: object) -> bool:
        if type_ == "table" and name == "apscheduler_jobs":  # APScheduler keeps its own table here
            return False
        only = getattr(obj, "_ddl_if", None)  # an object declared for one dialect (ix_ledger_month: SQLite)
        return only is None or only.dialect in (None, dialect)
    return include


def current_revision(engine: Engine) -> str | None:
    """The store's Alembic revision, None for an empty database."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> None:
    """Bring the store to the head revision (a no-op costing one query when it is there).

    A new SQLite store is created at head from the migrations' schema script (robocore.store.fresh);
    any other goes through the Alembic migrations.
    """
    revision = current_revision(engine)
    if revision == HEAD:
        return
    if revision is None and engine.dialect.name == "sqlite":
        from robocore.store import fresh

        if fresh.create_sqlite(engine):
            return
    replay(engine)


def replay(engine: Engine) -> None:
    """Apply the Alembic migrations up to head (on PostgreSQL, one process at a time)."""
    from alembic import command

    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # two processes starting at once must not both create the tables
            conn.execute(text("SET LOCAL statement_timeout = 0"))  # a long migration is not a stuck statement
            conn.execute(text("SELECT pg_advisory_xact_lock(7212001)"))
        command.upgrade(_alembic_config(conn), "head")  # type: ignore[arg-type]


def autogenerate(engine: Engine, message: str, rev_id: str) -> None:
    """Developer helper: write a new migration from the models' differences."""
    from alembic import command

    with engine.begin() as conn:
        command.revision(_alembic_config(conn), message=message, autogenerate=True,  # type: ignore[arg-type]
                         rev_id=rev_id)
