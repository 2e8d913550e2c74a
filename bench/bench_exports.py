"""Excel export of one year over 1,000,000 ledger entries and 50 processes, against a naive export.

A generated history (BENCH_EXPORT_ROWS=1,000,000 ledger entries: 5,000 runs of 100 robots,
50 processes, 10 services, over three years 2023-2025; as many work items, some failed) is
bulk-loaded into a fresh store (bench_ledger's loader: executemany on SQLite, COPY on
PostgreSQL) and analysed. Timed, median (and best) of BENCH_REPEAT, for the year 2025:
- gather : `exports.gather` — the report by process and every (process, month), summed in SQL;
- xlsx   : the whole workbook in memory (`exports.xlsx_bytes(gather(...))`: summary, hours per
           month, 50 process sheets, 51 native charts) — target <= 3 s;
- http   : the same through `GET /api/v1/reports/hours-saved.xlsx` (token, threadpool, headers);
- csv    : `exports.csv_bytes(gather(...))`;
- naive  : the baseline: the year's raw ledger entries loaded into Python (`Store.ledger_rows`)
           and written with openpyxl (write-only mode), one row per entry, as a spreadsheet
           a person would then pivot.
First on the embedded SQLite store, then on PostgreSQL when it answers.

    .venv/bin/python bench/bench_exports.py       # BENCH_EXPORT_ROWS=1000000 BENCH_REPEAT=5
"""

from __future__ import annotations

import io
import os
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench_ledger import ITEM_COLS, LEDGER_COLS, RUN_COLS, Timing, _analyse, _chunks, _run_tuple, _stamp
from pg_scratch import on_sqlite_and_postgresql
from sqlalchemy import text

from robocore import exports
from robocore.store import Store

ROWS = int(os.environ.get("BENCH_EXPORT_ROWS", "1000000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))
RUNS_N = max(ROWS // 200, 1)
PER_RUN = ROWS // RUNS_N - 1  # item entries per run; the run's own entry makes the rest
ORIGIN, DAYS = datetime(2023, 1, 1, 8), 3 * 365
YEAR = exports.Period(date(2025, 1, 1), date(2026, 1, 1))


def _run_rows() -> Iterator[tuple[Any, ...]]:
    """(id, robot, process, service, status, started, finished, per-item minutes) of every run."""
    for n in range(RUNS_N):
        robot = n % 100
        started = ORIGIN + timedelta(minutes=n * 24 * 60 * DAYS // RUNS_N)
        status = "failed" if n % 20 == 0 else "completed_with_errors" if n % 7 == 0 else "succeeded"
        yield (f"run{n:07d}", f"robot-{robot:03d}", f"Processus {robot % 50:02d}", f"Service {robot % 10}", status,
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
            state = "done" if k < PER_RUN else "business_error" if k < PER_RUN + 2 else "application_error"
            stamp = started + timedelta(seconds=k)
            yield run_id, "lignes", k, f"D-{k:05d}", state, 1, 0, stamp, stamp


def load(store: Store) -> None:
    """Bulk-load the history: one robot version, the runs, the ledger, the items; then analyse."""
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


def naive(store: Store) -> bytes:
    """The baseline: every ledger entry of the year loaded, then written one row each with openpyxl."""
    from openpyxl import Workbook

    assert YEAR.start and YEAR.end
    rows = store.ledger_rows(datetime.combine(YEAR.start, datetime.min.time()),
                             datetime.combine(YEAR.end, datetime.min.time()))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Grand livre")
    ws.append(["Enregistré le", "Processus", "Service", "Robot", "Minutes"])
    for row in rows:
        ws.append([row.recorded_at, row.entry.process_name, row.entry.service, row.entry.robot, row.entry.minutes])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _timed(fn: Callable[[], object], repeat: int = REPEAT) -> Timing:
    fn()  # warm: caches, compiled statements, imports
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return Timing(statistics.median(times), min(times))


def _http(store: Store, root: Path) -> Callable[[], object]:
    """A download through the API, checked once."""
    from fastapi.testclient import TestClient

    from robocore.server import create_app
    from robocore.server.auth import create_token

    client = TestClient(create_app(store, robots_dir=root))
    headers = {"Authorization": f"Bearer {create_token(store, 'bench-manager', 'manager')}"}
    url = f"/api/v1/reports/hours-saved.xlsx?start={YEAR.start}&end={YEAR.end}"
    assert client.get(url, headers=headers).status_code == 200
    return lambda: client.get(url, headers=headers).content


def measure(name: str, url: str, root: Path) -> None:
    store = Store(url)
    t0 = time.perf_counter()
    load(store)
    with store.engine.begin() as conn:
        count = conn.execute(text("SELECT count(*) FROM ledger")).scalar_one()
        in_year = conn.execute(text("SELECT count(*) FROM ledger WHERE recorded_at >= :a AND recorded_at < :b"),
                               {"a": _stamp(datetime(2025, 1, 1)), "b": _stamp(datetime(2026, 1, 1))}).scalar_one()
    print(f"\n[{name}] {count:,} ledger entries ({in_year:,} in 2025), {RUNS_N:,} runs loaded "
          f"in {time.perf_counter() - t0:.1f} s")
    export = exports.gather(store, YEAR)
    assert len(export.processes) == 50 and len(export.months) == 12
    size = len(exports.xlsx_bytes(export))
    gather = _timed(lambda: exports.gather(store, YEAR))
    write = _timed(lambda: exports.xlsx_bytes(export))
    xlsx = _timed(lambda: exports.xlsx_bytes(exports.gather(store, YEAR)))
    http = _timed(_http(store, root))
    csv = _timed(lambda: exports.csv_bytes(exports.gather(store, YEAR)))
    baseline_size = len(naive(store))
    baseline = _timed(lambda: naive(store), max(REPEAT // 2, 1))
    store.close()
    print(f"  gather (SQL: by process, by process and month)  {gather}")
    print(f"  write the workbook (52 sheets, 51 charts)        {write}")
    print(f"  Excel export of 2025, whole                      {xlsx}   target <= 3,000 ms ({size / 1024:.0f} KiB)")
    print(f"  the same through GET .../hours-saved.xlsx        {http}")
    print(f"  CSV export of 2025, whole                        {csv}")
    print(f"  naive: the year's entries loaded, openpyxl rows  {baseline}   naive / export = "
          f"x{baseline.median / xlsx.median:,.1f} ({baseline_size / 1024 / 1024:.1f} MiB)")
    print(f"  (load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs)")


def main() -> None:
    on_sqlite_and_postgresql("robocore_bench_exports", measure)


if __name__ == "__main__":
    main()
