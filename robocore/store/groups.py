"""The services and labs pages' SQL: the overview's sums (robocore.store.overview) grouped by service or by lab.

A service is the one recorded with each ledger entry and run (as the overview's Scope and the reports
grouped by service), and a process record's own service for its stage and goal. A lab is the process
record's: the ledger is first summed per process (a narrow GROUP BY over ix_ledger_process_recorded), then
those few rows are joined to the records and summed per lab — a second GROUP BY in the same statement, so
the join reads one row per process and month rather than one per entry. Entries whose process has no
record, or a record without a lab, fall in the None group, as do entries recorded without a service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, case, func, or_, select

from robocore.statuses import ITEM_ATTEMPTED, RUN_FINAL
from robocore.store.ledger import _within, month_label
from robocore.store.models import items as ITEMS
from robocore.store.models import ledger as LEDGER
from robocore.store.models import processes as PROCESSES
from robocore.store.models import runs as RUNS
from robocore.store.overview import Scope, _scoped, month_of
from robocore.store.rows import ProcessStage

Group = str | None  # a service or lab name; None for the entries without one


class Dimension(StrEnum):
    """What the figures are grouped by."""

    SERVICE = "service"
    LAB = "lab"


@dataclass(frozen=True)
class GroupRecords:
    """A group's process records: how many in production, their annual goals summed, how many have one."""

    in_production: int
    goal_hours: float
    with_goal: int


def _ledger_sums(engine: Engine, dimension: Dimension, scope: Scope, start: datetime | None, end: datetime | None,
                 by_month: bool) -> Select[Any]:
    """(group[, month], minutes) of the ledger's entries recorded in [start, end)."""
    month: ColumnElement[Any] = month_of(engine, LEDGER.c.recorded_at)
    conditions = _scoped(LEDGER.c.process_name, LEDGER.c.service, scope)
    if dimension is Dimension.SERVICE:
        keys: list[Any] = [LEDGER.c.service, month] if by_month else [LEDGER.c.service]
        return _within(select(*keys, func.sum(LEDGER.c.minutes)).where(*conditions).group_by(*keys),
                       LEDGER.c.recorded_at, start, end)
    inner_keys: list[Any] = [LEDGER.c.process_name, month.label("month")] if by_month else [LEDGER.c.process_name]
    per_process = _within(select(*inner_keys, func.sum(LEDGER.c.minutes).label("minutes"))
                          .where(*conditions).group_by(*inner_keys), LEDGER.c.recorded_at, start, end).subquery()
    keys = [PROCESSES.c.lab, per_process.c.month] if by_month else [PROCESSES.c.lab]
    return (select(*keys, func.sum(per_process.c.minutes))
            .select_from(per_process.outerjoin(PROCESSES, PROCESSES.c.name == per_process.c.process_name))
            .group_by(*keys))


def monthly(engine: Engine, dimension: Dimension, scope: Scope, start: datetime,
            end: datetime) -> list[tuple[Group, str, float]]:
    """(group, 'YYYY-MM', minutes) of the ledger in [start, end): one GROUP BY (group, month)."""
    with engine.begin() as conn:
        rows = conn.execute(_ledger_sums(engine, dimension, scope, start, end, by_month=True)).all()
    return [(group, str(month_label(key)), float(total)) for group, key, total in rows]


def minutes(engine: Engine, dimension: Dimension, scope: Scope, start: datetime | None,
            end: datetime | None) -> dict[Group, float]:
    """Minutes saved per group, entries recorded in [start, end) (either bound optional)."""
    with engine.begin() as conn:
        rows = conn.execute(_ledger_sums(engine, dimension, scope, start, end, by_month=False)).all()
    return {group: float(total) for group, total in rows}


def _run_group(dimension: Dimension) -> tuple[Any, Any]:
    """The runs' group column and the FROM clause that reaches it (runs, joined to the records for a lab)."""
    if dimension is Dimension.SERVICE:
        return RUNS.c.service, RUNS
    return PROCESSES.c.lab, RUNS.outerjoin(PROCESSES, PROCESSES.c.name == RUNS.c.process_name)


def outcomes(engine: Engine, dimension: Dimension, scope: Scope, start: datetime, end: datetime
             ) -> tuple[dict[tuple[Group, str], int], dict[tuple[Group, str], int]]:
    """Attempted items and finished runs per (group, status) in the period [start, end).

    As robocore.store.overview's: items counted per run first, only in the runs open during the
    period, then summed per group of their run; runs counted when they finished.
    """
    group, runs_from = _run_group(dimension)
    attempted = sorted(s.value for s in ITEM_ATTEMPTED)
    open_runs = select(RUNS.c.id).where(RUNS.c.started_at < end,
                                        or_(RUNS.c.finished_at.is_(None), RUNS.c.finished_at >= start))
    per_run = _within(select(ITEMS.c.run_id, ITEMS.c.status, func.count().label("n"))
                      .where(ITEMS.c.status.in_(attempted), ITEMS.c.run_id.in_(open_runs))
                      .group_by(ITEMS.c.run_id, ITEMS.c.status), ITEMS.c.finished_at, start, end).subquery()
    items_q = (select(group, per_run.c.status, func.sum(per_run.c.n))
               .select_from(per_run.join(runs_from, RUNS.c.id == per_run.c.run_id))
               .where(*_scoped(RUNS.c.process_name, RUNS.c.service, scope))
               .group_by(group, per_run.c.status))
    runs_q = _within(select(group, RUNS.c.status, func.count()).select_from(runs_from)
                     .where(RUNS.c.status.in_(sorted(s.value for s in RUN_FINAL)),
                            *_scoped(RUNS.c.process_name, RUNS.c.service, scope))
                     .group_by(group, RUNS.c.status), RUNS.c.finished_at, start, end)
    with engine.begin() as conn:
        items = {(name, status): int(count) for name, status, count in conn.execute(items_q)}
        runs = {(name, status): int(count) for name, status, count in conn.execute(runs_q)}
    return items, runs


def records(engine: Engine, dimension: Dimension, scope: Scope) -> dict[Group, GroupRecords]:
    """Process records per group (their own service or lab): in production, and their annual goals."""
    group = PROCESSES.c.service if dimension is Dimension.SERVICE else PROCESSES.c.lab
    production = func.coalesce(func.sum(case((PROCESSES.c.stage == ProcessStage.PRODUCTION.value, 1), else_=0)), 0)
    query = (select(group, production, func.coalesce(func.sum(PROCESSES.c.goal_hours), 0.0),
                    func.count(PROCESSES.c.goal_hours))
             .where(*_scoped(PROCESSES.c.name, PROCESSES.c.service, scope)).group_by(group))
    with engine.begin() as conn:
        return {name: GroupRecords(int(n), float(goal), int(with_goal))
                for name, n, goal, with_goal in conn.execute(query)}
