"""The managers' overview page over 1,000,000 ledger entries and 50 processes, against a naive page.

The history of bench_exports (BENCH_EXPORT_ROWS=1,000,000 ledger entries: 5,000 runs of 100 robots,
50 processes, 10 services, three years 2023-2025; as many work items, some failed) is bulk-loaded
into a fresh store, with the 50 process records (two labs, goals, stages). Timed, median (and best)
of BENCH_REPEAT, the year 2025 shown:
- data   : `overview_data.overview` — every figure of the page (period, year to date, since the start,
           items and runs by outcome, records, hours per process and month), summed in SQL;
- http   : the whole page through `GET /?du=2025-01-01&au=2025-12-31` (token, HTML) — target <= 300 ms;
- lab    : the same page filtered on a lab (`&labo=…`: the ledger restricted by a subquery);
- naive  : the baseline: every ledger entry loaded into Python (`Store.ledger_rows`) and summed in a loop.
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
from pg_scratch import on_sqlite_and_postgresql
from sqlalchemy import text

from robocore.store import Store
from robocore.store.rows import ProcessStage
from robocore.web import overview_data

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
    data = _timed(lambda: overview_data.overview(store, filters, TODAY, 1607.0))
    http = _timed(_http(store, root, {}))
    lab = _timed(_http(store, root, {"labo": "Lab 1"}))
    baseline = _timed(lambda: naive(store), max(REPEAT // 2, 1))
    store.close()
    print(f"  overview data of 2025 (SQL sums)                 {data}")
    print(f"  the page through GET /?du=…&au=…                 {http}   target <= 300 ms")
    print(f"  the page filtered on a lab                       {lab}")
    print(f"  naive: every entry loaded, summed in Python      {baseline}   naive / page = "
          f"x{baseline.median / http.median:,.1f}")
    print(f"  (load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs)")


def main() -> None:
    on_sqlite_and_postgresql("robocore_bench_overview", measure)


if __name__ == "__main__":
    main()
