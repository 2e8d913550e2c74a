"""Hours saved by process over 1,000,000 ledger entries: GROUP BY in SQL against the former Python loop.

A generated history (BENCH_LEDGER_ROWS=1,000,000 entries: 5,000 runs of 12 robots, 8
processes, 4 services, 24 months; as many work items, some failed) is bulk-loaded into a
fresh store (executemany on SQLite, COPY on PostgreSQL), then analysed (VACUUM ANALYZE on
PostgreSQL: what autovacuum gives a store at rest). Timed, median (and best) of BENCH_REPEAT:
- sql    : `store.ledger_sql.minutes_by` — the minutes per process, one GROUP BY (target <= 150 ms);
- report : the whole report line set (`Store.ledger_lines`: ledger, items and runs by outcome);
- month  : minutes per month, and per process over one year (a bounded period);
- python : the former algorithm, reproduced here as the baseline: every ledger entry and run
           loaded as a dict, then summed per group in Python;
- plain  : `sql` with a plain index on process_name instead of the covering indexes of 0003;
- bare   : `sql` without either (the ledger as migration 0002 left it).
First on the embedded SQLite store, then on PostgreSQL when it answers.

    .venv/bin/python bench/bench_ledger.py       # BENCH_LEDGER_ROWS=1000000 BENCH_REPEAT=7
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pg_scratch import drop_database, scratch_database
from sqlalchemy import Engine, select, text

from robocore.store import Store
from robocore.store import ledger as ledger_sql
from robocore.store.models import ledger as LEDGER
from robocore.store.models import runs as RUNS

ROWS = int(os.environ.get("BENCH_LEDGER_ROWS", "1000000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "7"))
RUNS_N = max(ROWS // 200, 1)
PER_RUN = ROWS // RUNS_N - 1  # item entries per run; the run's own entry makes the rest
ORIGIN = datetime(2024, 1, 1, 8)
INDEXES_0003 = ("ix_ledger_process_recorded", "ix_ledger_service_recorded", "ix_ledger_robot_recorded",
                "ix_ledger_month")


# ---- the history ----------------------------------------------------------------------
def _run_rows() -> Iterator[tuple[Any, ...]]:
    """(id, robot, process, service, status, started, finished, per-item minutes) of every run."""
    for n in range(RUNS_N):
        robot = n % 12
        started = ORIGIN + timedelta(minutes=n * 24 * 60 * 730 // RUNS_N)
        status = "failed" if n % 20 == 0 else "completed_with_errors" if n % 7 == 0 else "succeeded"
        yield (f"run{n:07d}", f"robot-{robot:02d}", f"Processus {robot % 8}", f"Service {robot % 4}", status,
               started, started + timedelta(hours=1), 1.5 + robot % 5)


def _ledger_rows() -> Iterator[tuple[Any, ...]]:
    for run_id, robot, process, service, _status, started, _end, minutes in _run_rows():
        for k in range(PER_RUN):
            yield (f"item:{run_id}:D-{k:05d}", run_id, "item", robot, process, service, minutes,
                   started + timedelta(seconds=k))
        yield f"run:{run_id}", run_id, "run", robot, process, service, 5.0, started + timedelta(hours=1)


def _item_rows() -> Iterator[tuple[Any, ...]]:
    for run_id, _robot, _process, _service, status, started, _end, _minutes in _run_rows():
        for k in range(PER_RUN + (3 if status == "completed_with_errors" else 0)):
            state = ("done" if k < PER_RUN else "business_error" if k < PER_RUN + 2 else "application_error")
            stamp = started + timedelta(seconds=k)
            yield run_id, "lignes", k, f"D-{k:05d}", state, 1, 0, stamp, stamp


RUN_COLS = "id, robot, version_id, robot_path, status, trigger, inputs, process_name, service, " \
           "minutes_per_item, minutes_per_run, started_at, finished_at, cancel_requested"
LEDGER_COLS = "entry_key, run_id, kind, robot, process_name, service, minutes, recorded_at"
ITEM_COLS = "run_id, block, seq, key, status, attempts, verified, started_at, finished_at"


def _run_tuple(r: tuple[Any, ...], version: int) -> tuple[Any, ...]:
    run_id, robot, process, service, status, started, finished, minutes = r
    return (run_id, robot, version, "/robots/x/robot.yaml", status, "schedule", "{}", process, service,
            minutes, 5.0, started, finished, 0)


def _stamp(value: Any) -> Any:
    """Timestamps as SQLAlchemy writes them to SQLite (the text the queries compare with)."""
    return f"{value:%Y-%m-%d %H:%M:%S.%f}" if isinstance(value, datetime) else value


def _chunks(rows: Iterator[tuple[Any, ...]], size: int = 100_000) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def load(store: Store) -> None:
    """Bulk-load the history: one robot version, the runs, the ledger, the items."""
    version = store.save_robot_version("bench", "0" * 64, "robot: bench\n")
    tables = (("runs", RUN_COLS, (_run_tuple(r, version) for r in _run_rows())),
              ("ledger", LEDGER_COLS, _ledger_rows()), ("items", ITEM_COLS, _item_rows()))
    raw = store.engine.raw_connection()
    try:
        cur = raw.cursor()
        for table, cols, rows in tables:
            if store.dialect == "postgresql":
                with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" * len(cols.split(",")))
                for chunk in _chunks(rows):
                    cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})",
                                    [tuple(map(_stamp, r)) for r in chunk])
        raw.commit()
    finally:
        raw.close()
    _analyse(store.engine)


def _analyse(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))


# ---- the two algorithms ----------------------------------------------------------------
def python_loop(engine: Engine) -> dict[str, float]:
    """The former reports.hours_saved: every entry and run loaded as a dict, summed in Python."""
    with engine.begin() as conn:
        entries = [dict(r) for r in conn.execute(select(LEDGER).order_by(LEDGER.c.id)).mappings()]
    with engine.begin() as conn:
        runs = [dict(r) for r in conn.execute(select(RUNS).order_by(RUNS.c.id)).mappings()]
    minutes: dict[str, float] = defaultdict(float)
    items: dict[str, int] = defaultdict(int)
    for row in entries:
        group = row.get("process_name") or "(sans processus)"
        minutes[group] += row["minutes"]
        items[group] += row["kind"] == "item"
    counted: dict[str, int] = defaultdict(int)
    ok: dict[str, int] = defaultdict(int)
    for run in runs:
        if run["status"] == "running":
            continue
        group = run.get("process_name") or "(sans processus)"
        counted[group] += 1
        ok[group] += run["status"] in ("succeeded", "completed_with_errors")
    return {g: minutes[g] for g in sorted(set(minutes) | set(counted))}


def sql_by_process(engine: Engine) -> dict[str | None, float]:
    with engine.begin() as conn:
        return ledger_sql.minutes_by(conn, "process", None, None)


@dataclass(frozen=True)
class Timing:
    """Median and best of several repetitions, in ms (the best shows the cost on a quiet machine)."""

    median: float
    best: float

    def __str__(self) -> str:
        return f"{self.median:9.1f} ms (best {self.best:7.1f})"


def _timed(fn: Callable[[], object], repeat: int = REPEAT) -> Timing:
    fn()  # warm: caches, compiled statements
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return Timing(statistics.median(times), min(times))


def measure(name: str, url: str) -> None:
    store = Store(url)
    engine = store.engine
    t0 = time.perf_counter()
    load(store)
    with engine.begin() as conn:
        count = conn.execute(text("SELECT count(*) FROM ledger")).scalar_one()
    print(f"\n[{name}] {count:,} ledger entries, {RUNS_N:,} runs loaded in {time.perf_counter() - t0:.1f} s")
    expected = python_loop(engine)
    got = sql_by_process(engine)
    assert all(abs(got[g] - m) < 1e-6 * m for g, m in expected.items()) and len(got) == len(expected), (got, expected)
    year = (datetime(2025, 1, 1), datetime(2026, 1, 1))

    def month_minutes() -> object:
        with engine.begin() as conn:
            return ledger_sql.minutes_by(conn, "month", None, None)

    sql = _timed(lambda: sql_by_process(engine))
    report = _timed(lambda: store.ledger_lines("process"))
    report_year = _timed(lambda: store.ledger_lines("process", *year))
    month = _timed(month_minutes)
    report_month = _timed(lambda: store.ledger_lines("month"))
    python = _timed(lambda: python_loop(engine), max(REPEAT // 2, 1))
    plain, bare = _without_covering_indexes(engine)
    store.close()
    print(f"  hours by process, SQL GROUP BY   {sql}   target <= 150 ms")
    print(f"  hours by process, Python loop    {python}   python / sql = x{python.median / sql.median:,.0f}")
    print(f"  whole report by process          {report}   ledger + items + runs")
    print(f"  whole report by process, 1 year  {report_year}")
    print(f"  hours by month, SQL              {month}")
    print(f"  whole report by month            {report_month}")
    print(f"  with a plain index instead       {plain}   plain / covering = x{plain.median / sql.median:.1f}")
    print(f"  with no index on process_name    {bare}   none / covering = x{bare.median / sql.median:.1f}")
    print(f"  (load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs)")


def _without_covering_indexes(engine: Engine) -> tuple[Timing, Timing]:
    """`sql` with a plain index on process_name only, then with no index on it."""
    with engine.begin() as conn:
        for index in INDEXES_0003:
            conn.execute(text(f"DROP INDEX IF EXISTS {index}"))
        conn.execute(text("CREATE INDEX ix_bench_plain ON ledger (process_name)"))
    _analyse(engine)
    plain = _timed(lambda: sql_by_process(engine))
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_bench_plain"))
    _analyse(engine)
    return plain, _timed(lambda: sql_by_process(engine))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        measure("sqlite", f"sqlite:///{Path(tmp) / 'robocore.db'}")
    pg = scratch_database("robocore_bench_ledger")
    if pg is None:
        print("\n[postgresql] skipped: nothing answers on 127.0.0.1:5432")
        return
    try:
        measure("postgresql", pg)
    finally:
        drop_database(pg)


if __name__ == "__main__":
    main()
