"""The managers' overview page over 1,000,000 ledger entries and 50 processes, against a naive page.

The history of bench_exports (BENCH_EXPORT_ROWS=1,000,000 ledger entries: 5,000 runs of 100 robots,
50 processes, 10 services, three years 2023-2025; as many work items, some failed) is bulk-loaded
into a fresh store, with the 50 process records (two labs, goals, stages). Timed, median (and best)
of BENCH_REPEAT, the year 2025 shown:
- data   : `overview_data.overview` — every figure of the page (period, year to date, since the start,
           items and runs by outcome, records, hours per process and month), summed in SQL;
- http   : the whole page through `GET /?du=2025-01-01&au=2025-12-31` (token, HTML) — target <= 300 ms;
- lab    : the same page filtered on a lab (`&labo=…`: the ledger restricted by a subquery);
- naive  : the baseline: every ledger entry loaded into Python (`Store.ledger_rows`) and summed in a loop;
- before 0008: the data again with the indexes of migration 0007 (ix_ledger_process_month and
           ix_ledger_service_month dropped, ix_items_run_status without finished_at), in a block between two
           blocks at head, so that a busy machine slows both alike; the ratio is printed;
- services, labs: the data of `GET /services` and `GET /labos` (robocore.web.groups_data).
First on the embedded SQLite store, then on PostgreSQL when it answers.

    .venv/bin/python bench/bench_overview.py       # BENCH_EXPORT_ROWS=1000000 BENCH_REPEAT=5
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from bench_exports import REPEAT, RUNS_N, _timed, load
from bench_ledger import Timing, _analyse
from pg_scratch import on_sqlite_and_postgresql
from sqlalchemy import text

from robocore.store import Store
from robocore.store.groups import Dimension
from robocore.store.rows import ProcessStage
from robocore.web import groups_data, overview_data

TODAY = date(2025, 12, 31)  # the data ends in 2025: "this year" is 2025
PERIOD = {"du": "2025-01-01", "au": "2025-12-31"}


def records(store: Store) -> None:
    """The 50 process records of the generated history: two labs, a goal for every other one."""
    for n in range(50):
        name = f"Processus {n:02d}"
        store.ensure_process(name, f"Service {n % 10}", "bench")
        store.update_process(name, {"lab": f"Lab {n % 2}", "goal_hours": 500.0 if n % 2 else None,
                                    "stage": ProcessStage.PRODUCTION if n % 5 else ProcessStage.STUDY}, "bench")


def naive(store: Store) -> tuple[float, float, dict[str | None, float]]:
    """The baseline: every entry loaded, the period's, the year's and each process's minutes summed in Python."""
    start, end = datetime(2025, 1, 1), datetime(2026, 1, 1)
    period = year = 0.0
    per_process: dict[str | None, float] = {}
    for row in store.ledger_rows():
        if start <= row.recorded_at < end:
            period += row.entry.minutes
            year += row.entry.minutes
            per_process[row.entry.process_name] = per_process.get(row.entry.process_name, 0.0) + row.entry.minutes
    return period, year, per_process


def _http(store: Store, root: Path, extra: dict[str, str]) -> Callable[[], object]:
    """The page through HTTP, checked once."""
    from fastapi.testclient import TestClient

    from robocore.server import create_app
    from robocore.server.auth import create_token

    client = TestClient(create_app(store, robots_dir=root))
    headers = {"Authorization": f"Bearer {create_token(store, f'bench-{len(extra)}', 'manager')}"}
    params = {**PERIOD, **extra}
    answer = client.get("/", params=params, headers=headers)
    assert answer.status_code == 200 and 'id="chiffre-heures-periode"' in answer.text, answer.text[:300]
    return lambda: client.get("/", params=params, headers=headers).content


def _indexes(store: Store, before_0008: bool) -> None:
    """The store's overview indexes as migration 0007 left them (before_0008) or as 0008 makes them."""
    sqlite = store.dialect == "sqlite"
    items = "run_id, status" if before_0008 else "run_id, status, finished_at"
    with store.engine.begin() as conn:
        for group in ("process", "service"):
            conn.execute(text(f"DROP INDEX IF EXISTS ix_ledger_{group}_month"))
            if sqlite and not before_0008:
                column = "process_name" if group == "process" else group
                conn.execute(text(f"CREATE INDEX ix_ledger_{group}_month ON ledger "
                                  f"({column}, substr(recorded_at, 1, 7), recorded_at, minutes)"))
        conn.execute(text("DROP INDEX ix_items_run_status"))
        conn.execute(text(f"CREATE INDEX ix_items_run_status ON items ({items})"))
    _analyse(store.engine)


def before_and_after(store: Store, fn: Callable[[], object]) -> tuple[Timing, Timing]:
    """`fn` timed at head, with the 0007 indexes, then at head again: (head, before 0008), medians."""
    first = _timed(fn)
    _indexes(store, before_0008=True)
    before = _timed(fn)
    _indexes(store, before_0008=False)
    second = _timed(fn)
    return Timing((first.median + second.median) / 2, min(first.best, second.best)), before


def measure(name: str, url: str, root: Path) -> None:
    store = Store(url)
    t0 = time.perf_counter()
    load(store)
    records(store)
    with store.engine.begin() as conn:
        count = conn.execute(text("SELECT count(*) FROM ledger")).scalar_one()
    print(f"\n[{name}] {count:,} ledger entries, {RUNS_N:,} runs, 50 processes loaded in "
          f"{time.perf_counter() - t0:.1f} s")
    filters = overview_data.parse_filters(PERIOD, TODAY)
    shown = overview_data.overview(store, filters, TODAY, 1607.0)
    period, _year, per_process = naive(store)
    assert abs(shown.minutes_period - period) < 1e-6 * max(period, 1), (shown.minutes_period, period)
    assert len(shown.months) == 12 and shown.process_count == len([m for m in per_process.values() if m > 0])
    data, before = before_and_after(store, lambda: overview_data.overview(store, filters, TODAY, 1607.0))
    per_group = {d: before_and_after(store, lambda d=d: groups_data.groups(store, d, filters, TODAY))
                 for d in Dimension}
    http = _timed(_http(store, root, {}))
    lab = _timed(_http(store, root, {"labo": "Lab 1"}))
    baseline = _timed(lambda: naive(store), max(REPEAT // 2, 1))
    store.close()
    print(f"  overview data of 2025 (SQL sums)                 {data}")
    print(f"  the same with the indexes before 0008            {before}   before / head = "
          f"x{before.median / data.median:,.2f}")
    for dimension, label in ((Dimension.SERVICE, "services"), (Dimension.LAB, "labs    ")):
        head, old = per_group[dimension]
        print(f"  {label} page data (per group and month)       {head}   before 0008 {old.median:.1f} ms")
    print(f"  the page through GET /?du=…&au=…                 {http}   target <= 300 ms")
    print(f"  the page filtered on a lab                       {lab}")
    print(f"  naive: every entry loaded, summed in Python      {baseline}   naive / page = "
          f"x{baseline.median / http.median:,.1f}")
    print(f"  (load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs)")


def main() -> None:
    on_sqlite_and_postgresql("robocore_bench_overview", measure)


if __name__ == "__main__":
    main()
