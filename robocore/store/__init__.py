"""The durable store (SQLAlchemy 2 + Alembic): SQLite by default, PostgreSQL at scale."""

from robocore.store.repository import NewRun, Store

__all__ = ["NewRun", "Store"]
