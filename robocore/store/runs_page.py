"""The runs pages' SQL: a page of runs kept by the list's filters with their item counts and minutes saved,
the names the filters offer, and one run's figures (ledger per kind, first activity, errors grouped by
message, a page of its items).

Module functions over the store's engine (no Store mixin), read-only. Every figure is SQL: the page's runs
in one query, their item counts in one GROUP BY (run, status), their minutes saved in one GROUP BY run over
the ledger; a run's ledger minutes per kind and its failed items per (status, message) likewise. Nothing
loads a run's items to count them in Python. Values come back as stored: masking secrets and converting
times to the pages' zone is the caller's (robocore.web.runs_data).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Engine, func, select

from robocore.statuses import ITEM_FAILED
from robocore.store.items import item_of
from robocore.store.models import items as ITEMS
from robocore.store.models import ledger as LEDGER
from robocore.store.models import processes as PROCESSES
from robocore.store.models import robot_versions as VERSIONS
from robocore.store.models import runs as RUNS
from robocore.store.models import step_events as EVENTS
from robocore.store.rows import Item, Run
from robocore.store.runs import run_of


@dataclass(frozen=True)
class RunSelection:
    """Which runs a list keeps: equal to each name given, started in [started_from, started_before) (naive UTC)."""

    robot: str | None = None
    process: str | None = None
    service: str | None = None
    status: str | None = None
    author: str | None = None
    started_from: datetime | None = None
    started_before: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """The WHERE conditions of this selection on the runs table."""
        found: list[ColumnElement[bool]] = []
        for column, value in ((RUNS.c.robot, self.robot), (RUNS.c.process_name, self.process),
                              (RUNS.c.service, self.service), (RUNS.c.status, self.status),
                              (RUNS.c.created_by, self.author)):
            if value is not None:
                found.append(column == value)
        if self.started_from is not None:
            found.append(RUNS.c.started_at >= self.started_from)
        if self.started_before is not None:
            found.append(RUNS.c.started_at < self.started_before)
        return found


@dataclass(frozen=True)
class FilterChoices:
    """The distinct names a runs list's filters offer, sorted, at most `limit` each."""

    robots: list[str]
    processes: list[str]
    services: list[str]
    authors: list[str]


@dataclass(frozen=True)
class ErrorCount:
    """How many failed items of a run share one status and one message (as stored: not masked)."""

    status: str
    error: str | None
    count: int


@dataclass(frozen=True)
class RunFigures:
    """A run's figures besides its item counts: its version's digest, the ledger's entries and minutes per kind
    ('item', 'run'), and its first activity (earliest item start or step event; naive UTC, None if none)."""

    version_sha256: str | None
    ledger: dict[str, tuple[int, float]]
    first_activity: datetime | None


def runs(engine: Engine, selection: RunSelection, limit: int, offset: int) -> tuple[list[Run], int]:
    """The runs `selection` keeps, newest first, `limit` of them from `offset`, and how many it keeps in all
    (two queries, one transaction)."""
    conditions = selection.conditions()
    query = (select(RUNS).where(*conditions).order_by(RUNS.c.started_at.desc(), RUNS.c.id.desc())
             .limit(limit).offset(offset))
    with engine.begin() as conn:
        found = [run_of(row) for row in conn.execute(query).mappings()]
        total = int(conn.execute(select(func.count()).select_from(RUNS).where(*conditions)).scalar_one())
    return found, total


def item_counts_by_run(engine: Engine, ids: Sequence[str]) -> dict[str, dict[str, int]]:
    """Per run of `ids`: how many of its items are in each status (runs without items are absent)."""
    query = (select(ITEMS.c.run_id, ITEMS.c.status, func.count()).where(ITEMS.c.run_id.in_(ids))
             .group_by(ITEMS.c.run_id, ITEMS.c.status))
    found: dict[str, dict[str, int]] = {}
    with engine.begin() as conn:
        for run_id, status, count in conn.execute(query):
            found.setdefault(run_id, {})[status] = int(count)
    return found


def minutes_by_run(engine: Engine, ids: Sequence[str]) -> dict[str, float]:
    """Per run of `ids`: the minutes the ledger credits it with (runs without entries are absent)."""
    query = (select(LEDGER.c.run_id, func.sum(LEDGER.c.minutes)).where(LEDGER.c.run_id.in_(ids))
             .group_by(LEDGER.c.run_id))
    with engine.begin() as conn:
        return {run_id: float(total or 0.0) for run_id, total in conn.execute(query)}


def filter_choices(engine: Engine, recent_runs: int, limit: int) -> FilterChoices:
    """The names offered in the filters, from small tables: robots (their recorded versions), process records'
    names and services, and the authors of the latest `recent_runs` runs (the runs table is never scanned whole)."""
    recent = select(RUNS.c.created_by).order_by(RUNS.c.started_at.desc()).limit(recent_runs).subquery()
    queries = {"robots": select(VERSIONS.c.robot), "processes": select(PROCESSES.c.name),
               "services": select(PROCESSES.c.service), "authors": select(recent.c.created_by)}
    found: dict[str, list[str]] = {}
    with engine.begin() as conn:
        for key, query in queries.items():
            column = query.selected_columns[0]
            rows = conn.execute(query.where(column.is_not(None)).distinct().order_by(column).limit(limit))
            found[key] = [str(name) for name in rows.scalars()]
    return FilterChoices(**found)


def error_counts(engine: Engine, run_id: str, limit: int) -> list[ErrorCount]:
    """The run's failed items grouped by (status, message), the largest groups first, at most `limit`."""
    failed = sorted(s.value for s in ITEM_FAILED)
    count = func.count()
    query = (select(ITEMS.c.status, ITEMS.c.error, count).where(ITEMS.c.run_id == run_id, ITEMS.c.status.in_(failed))
             .group_by(ITEMS.c.status, ITEMS.c.error).order_by(count.desc(), ITEMS.c.status, ITEMS.c.error)
             .limit(limit))
    with engine.begin() as conn:
        return [ErrorCount(status, error, int(n)) for status, error, n in conn.execute(query)]


def items_page(engine: Engine, run_id: str, status: str | None, limit: int, offset: int) -> list[Item]:
    """The run's items (of `status` if given) in their order (block, seq), `limit` of them from `offset`."""
    query = select(ITEMS).where(ITEMS.c.run_id == run_id)
    if status is not None:
        query = query.where(ITEMS.c.status == status)
    query = query.order_by(ITEMS.c.block, ITEMS.c.seq).limit(limit).offset(offset)
    with engine.begin() as conn:
        return [item_of(row) for row in conn.execute(query).mappings()]


def run_figures(engine: Engine, run: Run) -> RunFigures:
    """The run's version digest, ledger per kind and first activity (four small queries, one transaction)."""
    ledger = (select(LEDGER.c.kind, func.count(), func.coalesce(func.sum(LEDGER.c.minutes), 0.0))
              .where(LEDGER.c.run_id == run.id).group_by(LEDGER.c.kind))
    first = select(func.min(ITEMS.c.started_at)).where(ITEMS.c.run_id == run.id)
    first_event = select(func.min(EVENTS.c.at)).where(EVENTS.c.run_id == run.id)
    with engine.begin() as conn:
        sha = conn.execute(select(VERSIONS.c.sha256).where(VERSIONS.c.id == run.version_id)).scalar()
        by_kind = {kind: (int(n), float(total)) for kind, n, total in conn.execute(ledger)}
        starts = [t for t in (conn.execute(first).scalar(), conn.execute(first_event).scalar()) if t is not None]
    return RunFigures(sha, by_kind, min(starts) if starts else None)
