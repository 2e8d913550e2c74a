"""The process pages' SQL: a process's minutes, items and runs summed over a period, per month, its recent
runs and its most frequent error messages, and the period's minutes of every process of the list.

Module functions over the store's engine (no Store mixin). Each figure is a GROUP BY in the database with
the overview's semantics (robocore.store.overview): minutes are the ledger's (recorded in the period),
items count when they finished (done, business or application error; skipped ones were not tried) and
belong to their run's process, runs count when they finished with a final status. The process's rows are
reached through its indexes: ix_ledger_process_recorded (process, recorded_at, minutes) for the ledger,
the runs of the process, then ix_items_run_status for their items.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, case, func, select

from robocore.statuses import ITEM_ATTEMPTED, ITEM_FAILED, RUN_FINAL, ItemStatus
from robocore.store.ledger import _within, month_key, month_label
from robocore.store.models import items as ITEMS
from robocore.store.models import ledger as LEDGER
from robocore.store.models import runs as RUNS
from robocore.store.processes import midnight_day, minutes_since, runs_credited

RECENT_RUNS = 20
TOP_MESSAGES = 10


@dataclass(frozen=True)
class Month:
    """A month of a process: minutes of the ledger, items done and refused (business or application error)."""

    month: str            # 'YYYY-MM'
    minutes: float
    items_done: int
    business_errors: int
    application_errors: int


@dataclass(frozen=True)
class RecentRun:
    """A run of the process with its items done and failed."""

    id: str
    robot: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    created_by: str | None
    items_done: int
    items_failed: int


def _month(engine: Engine, column: Any) -> ColumnElement[Any]:
    """The month of a timestamp: on SQLite its ISO text's first seven characters (as the overview groups)."""
    return func.substr(column, 1, 7) if engine.dialect.name == "sqlite" else month_key(column)


def _runs_of(name: str) -> Any:
    return select(RUNS.c.id).where(RUNS.c.process_name == name)


def minutes(engine: Engine, name: str, year: tuple[datetime, datetime]) -> tuple[float, float]:
    """The process's minutes since the start and within `year` [start, end): one scan of its index range."""
    at = LEDGER.c.recorded_at
    in_year = case(((at >= year[0]) & (at < year[1]), LEDGER.c.minutes), else_=0.0)
    query = select(func.coalesce(func.sum(LEDGER.c.minutes), 0.0), func.coalesce(func.sum(in_year), 0.0)).where(
        LEDGER.c.process_name == name)
    with engine.begin() as conn:
        total, year_total = conn.execute(query).one()
    return float(total), float(year_total)


def monthly(engine: Engine, name: str, start: datetime, end: datetime) -> list[Month]:
    """Per month of [start, end): the ledger's minutes, and the items done and failed that finished then."""
    ledger_month = _month(engine, LEDGER.c.recorded_at)
    ledger_q = _within(select(ledger_month, func.sum(LEDGER.c.minutes)).where(LEDGER.c.process_name == name)
                       .group_by(ledger_month), LEDGER.c.recorded_at, start, end)
    item_month = _month(engine, ITEMS.c.finished_at)
    attempted = sorted(s.value for s in ITEM_ATTEMPTED)
    items_q = _within(select(item_month, ITEMS.c.status, func.count())
                      .where(ITEMS.c.run_id.in_(_runs_of(name)), ITEMS.c.status.in_(attempted))
                      .group_by(item_month, ITEMS.c.status), ITEMS.c.finished_at, start, end)
    with engine.begin() as conn:
        spent = {month_label(k): float(m) for k, m in conn.execute(ledger_q)}
        items = {(month_label(key), str(status)): int(count) for key, status, count in conn.execute(items_q)}
    months = sorted(m for m in set(spent) | {m for m, _s in items} if m is not None)
    done, business, application = (s.value for s in (ItemStatus.DONE, ItemStatus.BUSINESS_ERROR,
                                                     ItemStatus.APPLICATION_ERROR))
    return [Month(m, spent.get(m, 0.0), items.get((m, done), 0), items.get((m, business), 0),
                  items.get((m, application), 0)) for m in months]


def runs_by_status(engine: Engine, name: str, start: datetime, end: datetime) -> dict[str, int]:
    """Runs of the process that finished in [start, end), per final status."""
    query = _within(select(RUNS.c.status, func.count())
                    .where(RUNS.c.process_name == name, RUNS.c.status.in_(sorted(s.value for s in RUN_FINAL)))
                    .group_by(RUNS.c.status), RUNS.c.finished_at, start, end)
    with engine.begin() as conn:
        return {str(status): int(count) for status, count in conn.execute(query)}


def error_messages(engine: Engine, name: str, start: datetime, end: datetime,
                   limit: int = TOP_MESSAGES) -> list[tuple[str, str | None, int]]:
    """The most frequent (status, message, count) of the items that failed in [start, end), most first."""
    failed = sorted(s.value for s in ITEM_FAILED)
    count = func.count().label("n")
    query = _within(select(ITEMS.c.status, ITEMS.c.error, count)
                    .where(ITEMS.c.run_id.in_(_runs_of(name)), ITEMS.c.status.in_(failed))
                    .group_by(ITEMS.c.status, ITEMS.c.error), ITEMS.c.finished_at, start, end)
    query = query.order_by(count.desc(), ITEMS.c.status, ITEMS.c.error).limit(limit)
    with engine.begin() as conn:
        return [(str(status), error, int(n)) for status, error, n in conn.execute(query)]


def recent_runs(engine: Engine, name: str, start: datetime, end: datetime,
                limit: int = RECENT_RUNS) -> list[RecentRun]:
    """The latest runs of the process started in [start, end), with their items done and failed."""
    runs_q = _within(select(RUNS.c.id, RUNS.c.robot, RUNS.c.status, RUNS.c.started_at, RUNS.c.finished_at,
                            RUNS.c.created_by).where(RUNS.c.process_name == name), RUNS.c.started_at, start, end)
    runs_q = runs_q.order_by(RUNS.c.started_at.desc(), RUNS.c.id.desc()).limit(limit)
    with engine.begin() as conn:
        rows = conn.execute(runs_q).all()
        ids = [row.id for row in rows]
        counts: dict[tuple[str, str], int] = {}
        if ids:
            failed = sorted(s.value for s in ITEM_FAILED)
            items_q = (select(ITEMS.c.run_id, ITEMS.c.status, func.count())
                       .where(ITEMS.c.run_id.in_(ids), ITEMS.c.status.in_(["done", *failed]))
                       .group_by(ITEMS.c.run_id, ITEMS.c.status))
            counts = {(run, status): int(n) for run, status, n in conn.execute(items_q)}
    failed_statuses = [s.value for s in ITEM_FAILED]
    return [RecentRun(r.id, r.robot, r.status, r.started_at, r.finished_at, r.created_by,
                      counts.get((r.id, "done"), 0), sum(counts.get((r.id, s), 0) for s in failed_statuses))
            for r in rows]


@dataclass(frozen=True)
class ListSums:
    """A process's minutes in the page's period, this year, over the last 12 months, and its runs credited
    with fixed minutes over the last 12 months (as robocore.store.processes.ProcessSums counts them)."""

    minutes_period: float
    minutes_year: float
    minutes_12_months: float
    runs_12_months: int


def list_sums(engine: Engine, names: Collection[str], period: tuple[datetime, datetime], year_start: datetime,
              twelve_months_ago: datetime) -> dict[str, ListSums]:
    """Each named process's sums for the list (bounds: UTC midnights): one GROUP BY over `ledger_days` for every
    process and period, and its runs credited over 12 months from their partial index (`runs_credited`)."""
    if not names:
        return {}
    windows = [(midnight_day(period[0]), midnight_day(period[1])), (midnight_day(year_start), None),
               (midnight_day(twelve_months_ago), None)]
    with engine.begin() as conn:
        runs = runs_credited(conn, names, twelve_months_ago)
        summed = minutes_since(conn, names, windows)
    listed = {}
    for name in sorted({*summed, *runs}):
        in_period, this_year, in_12_months = summed.get(name, (0.0, 0.0, 0.0))
        listed[name] = ListSums(in_period, this_year, in_12_months, runs.get(name, 0))
    return listed
