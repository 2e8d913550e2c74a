"""The overview's figures as the store summed them before migration 0011, for bench_overview.py to time in the
same run: the hours per process and month, of the year and since the start summed from the raw `ledger`, the
items grouped per run and status then per process, the four queries at once on their own connections.
The page is then assembled by the same code as at head (`overview_data.assemble`)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select

from robocore.statuses import ITEM_ATTEMPTED, RUN_FINAL
from robocore.store import Store
from robocore.store.ledger import _within, month_label
from robocore.store.models import items as ITEMS
from robocore.store.models import ledger as LEDGER
from robocore.store.models import runs as RUNS
from robocore.store.overview import Scope, _scoped, month_of
from robocore.web.overview_data import Filters, Overview, Sums, assemble

Counts = dict[tuple[str | None, str], int]


def _midnight(day: date | None) -> datetime | None:
    return datetime.combine(day, datetime.min.time()) if day else None


def minutes(store: Store, scope: Scope, start: datetime | None, end: datetime | None) -> float:
    query = select(func.coalesce(func.sum(LEDGER.c.minutes), 0.0)).where(
        *_scoped(LEDGER.c.process_name, LEDGER.c.service, scope))
    with store.engine.begin() as conn:
        return float(conn.execute(_within(query, LEDGER.c.recorded_at, start, end)).scalar_one())


def outcomes(store: Store, scope: Scope, start: datetime, end: datetime) -> tuple[Counts, Counts]:
    attempted = sorted(s.value for s in ITEM_ATTEMPTED)
    open_runs = select(RUNS.c.id).where(RUNS.c.started_at < end,
                                        or_(RUNS.c.finished_at.is_(None), RUNS.c.finished_at >= start))
    per_run = _within(select(ITEMS.c.run_id, ITEMS.c.status, func.count().label("n"))
                      .where(ITEMS.c.status.in_(attempted), ITEMS.c.run_id.in_(open_runs))
                      .group_by(ITEMS.c.run_id, ITEMS.c.status), ITEMS.c.finished_at, start, end).subquery()
    items_q = (select(RUNS.c.process_name, per_run.c.status, func.sum(per_run.c.n))
               .select_from(per_run.join(RUNS, RUNS.c.id == per_run.c.run_id))
               .where(*_scoped(RUNS.c.process_name, RUNS.c.service, scope))
               .group_by(RUNS.c.process_name, per_run.c.status))
    runs_q = _within(select(RUNS.c.process_name, RUNS.c.status, func.count())
                     .where(RUNS.c.status.in_(sorted(s.value for s in RUN_FINAL)),
                            *_scoped(RUNS.c.process_name, RUNS.c.service, scope))
                     .group_by(RUNS.c.process_name, RUNS.c.status), RUNS.c.finished_at, start, end)
    with store.engine.begin() as conn:
        items = {(name, status): int(count) for name, status, count in conn.execute(items_q)}
        runs = {(name, status): int(count) for name, status, count in conn.execute(runs_q)}
    return items, runs


def monthly(store: Store, scope: Scope, start: datetime | None,
            end: datetime | None) -> list[tuple[str | None, str, float]]:
    month: Any = month_of(store.engine, LEDGER.c.recorded_at)
    query = _within(select(LEDGER.c.process_name, month, func.sum(LEDGER.c.minutes))
                    .where(*_scoped(LEDGER.c.process_name, LEDGER.c.service, scope))
                    .group_by(LEDGER.c.process_name, month), LEDGER.c.recorded_at, start, end)
    with store.engine.begin() as conn:
        return [(name, str(month_label(key)), float(total)) for name, key, total in conn.execute(query)]


def overview(store: Store, filters: Filters, today: date, annual_hours: float) -> Overview:
    """The page's figures as they were summed before 0011."""
    scope = filters.scope
    start, end = _midnight(filters.start), _midnight(filters.end)
    assert start is not None and end is not None
    year_start, tomorrow = _midnight(date(today.year, 1, 1)), _midnight(today + timedelta(days=1))
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="overview") as pool:
        monthly_f = pool.submit(monthly, store, scope, start, end)
        outcomes_f = pool.submit(outcomes, store, scope, start, end)
        year_f = pool.submit(minutes, store, scope, year_start, tomorrow)
        since_f = pool.submit(minutes, store, scope, None, None)
        records = store.overview_records(scope)
        by_month, (items, runs) = monthly_f.result(), outcomes_f.result()
        year, since = year_f.result(), since_f.result()
    return assemble(filters, today, annual_hours, Sums(by_month, items, runs, year, since, records))
