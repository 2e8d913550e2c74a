"""Store queries the server needs (tokens, grants, filtered runs, totals), in SQLAlchemy Core."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from robocore.store import Store
from robocore.store.models import api_tokens as TOKENS
from robocore.store.models import grants as GRANTS
from robocore.store.models import items as ITEMS
from robocore.store.models import ledger as LEDGER
from robocore.store.models import runs as RUNS
from robocore.store.models import utcnow

_RUN_COLUMNS = (RUNS.c.id, RUNS.c.robot, RUNS.c.status, RUNS.c.trigger, RUNS.c.created_by, RUNS.c.queue,
                RUNS.c.process_name, RUNS.c.service, RUNS.c.started_at, RUNS.c.finished_at, RUNS.c.error,
                RUNS.c.cancel_requested, RUNS.c.inputs, RUNS.c.heartbeat_at)


class Conflict(Exception):
    """A row with the same unique name already exists."""


# ---- tokens -------------------------------------------------------------------------
def insert_token(store: Store, name: str, role: str, token_hash: str, lookup: str, groups: list[str]) -> None:
    """Record a token (only its hash); a duplicate name is a Conflict."""
    try:
        with store.engine.begin() as conn:
            conn.execute(insert(TOKENS).values(name=name, role=role, token_hash=token_hash, lookup=lookup,
                                               groups=groups, created_at=utcnow()))
    except IntegrityError:
        raise Conflict(name) from None


def token_by_lookup(store: Store, lookup: str) -> dict[str, Any] | None:
    with store.engine.begin() as conn:
        row = conn.execute(select(TOKENS).where(TOKENS.c.lookup == lookup)).mappings().first()
    return dict(row) if row else None


def token_by_name(store: Store, name: str) -> dict[str, Any] | None:
    with store.engine.begin() as conn:
        row = conn.execute(select(TOKENS).where(TOKENS.c.name == name)).mappings().first()
    return dict(row) if row else None


def list_tokens(store: Store) -> list[dict[str, Any]]:
    """Every token without its hash, oldest first."""
    cols = [c for c in TOKENS.c if c.name != "token_hash"]
    with store.engine.begin() as conn:
        return [dict(r) for r in conn.execute(select(*cols).order_by(TOKENS.c.id)).mappings()]


def revoke_token(store: Store, name: str) -> bool:
    """Mark a token revoked; False when no live token has that name."""
    with store.engine.begin() as conn:
        result = conn.execute(update(TOKENS).where(TOKENS.c.name == name, TOKENS.c.revoked_at.is_(None))
                              .values(revoked_at=utcnow()))
    return result.rowcount == 1


def touch_token(store: Store, token_id: int) -> None:
    with store.engine.begin() as conn:
        conn.execute(update(TOKENS).where(TOKENS.c.id == token_id).values(last_used_at=utcnow()))


# ---- grants -------------------------------------------------------------------------
def add_grant(store: Store, robot: str, group: str) -> bool:
    """Let a group see and launch a robot; False when it already could."""
    try:
        with store.engine.begin() as conn:
            conn.execute(insert(GRANTS).values(robot=robot, group_name=group))
        return True
    except IntegrityError:
        return False


def remove_grant(store: Store, robot: str, group: str) -> bool:
    with store.engine.begin() as conn:
        result = conn.execute(delete(GRANTS).where(GRANTS.c.robot == robot, GRANTS.c.group_name == group))
    return result.rowcount == 1


def list_grants(store: Store) -> list[dict[str, str]]:
    query = select(GRANTS.c.robot, GRANTS.c.group_name).order_by(GRANTS.c.robot, GRANTS.c.group_name)
    with store.engine.begin() as conn:
        return [{"robot": r, "group": g} for r, g in conn.execute(query).all()]


def granted_robots(store: Store, groups: list[str]) -> set[str]:
    """Robots any of these groups may use."""
    if not groups:
        return set()
    query = select(GRANTS.c.robot).where(GRANTS.c.group_name.in_(groups))
    with store.engine.begin() as conn:
        return set(conn.execute(query).scalars())


# ---- runs ---------------------------------------------------------------------------
def get_run(store: Store, run_id: str) -> dict[str, Any] | None:
    """A run by its exact id (the CLI's prefix matching is not offered over the network)."""
    with store.engine.begin() as conn:
        row = conn.execute(select(*_RUN_COLUMNS).where(RUNS.c.id == run_id)).mappings().first()
    return dict(row) if row else None


def list_runs(store: Store, *, created_by: str | None = None, robot: str | None = None,
              status: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Most recent runs first, optionally of one creator, robot or status."""
    query = select(*_RUN_COLUMNS).order_by(RUNS.c.started_at.desc(), RUNS.c.id).limit(limit)
    if created_by is not None:
        query = query.where(RUNS.c.created_by == created_by)
    if robot:
        query = query.where(RUNS.c.robot == robot)
    if status:
        query = query.where(RUNS.c.status == status)
    with store.engine.begin() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def count_runs(store: Store, **where: str) -> int:
    query = select(func.count()).select_from(RUNS)
    for column, value in where.items():
        query = query.where(RUNS.c[column] == value)
    with store.engine.begin() as conn:
        return int(conn.execute(query).scalar_one())


# ---- totals (metrics) ---------------------------------------------------------------
def runs_by_status(store: Store) -> dict[str, int]:
    with store.engine.begin() as conn:
        rows = conn.execute(select(RUNS.c.status, func.count()).group_by(RUNS.c.status)).all()
    return {s: int(n) for s, n in rows}


def items_by_status(store: Store) -> dict[str, int]:
    with store.engine.begin() as conn:
        rows = conn.execute(select(ITEMS.c.status, func.count()).group_by(ITEMS.c.status)).all()
    return {s: int(n) for s, n in rows}


def minutes_saved(store: Store) -> float:
    with store.engine.begin() as conn:
        return float(conn.execute(select(func.coalesce(func.sum(LEDGER.c.minutes), 0.0))).scalar_one())


def ping(store: Store) -> None:
    """Raise when the database does not answer."""
    with store.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
