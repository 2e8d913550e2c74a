"""A process's page over 1,000,000 ledger entries and 50 processes, against a naive page.

The history of bench_exports (BENCH_EXPORT_ROWS=1,000,000 ledger entries: 5,000 runs of 100 robots,
50 processes, 10 services, three years 2023-2025; as many work items, some failed) is bulk-loaded into
a fresh store with bench_overview's 50 process records. Timed, median (and best) of BENCH_REPEAT, the
year 2025 shown for « Processus 07 » (two robots, 100 runs, 20,000 entries):
- data   : `process_data.process_view` — every figure of the page, summed in SQL;
- http   : the whole page through `GET /processus/Processus%2007?du=2025-01-01&au=2025-12-31` — target <= 200 ms;
- list   : the list `GET /processus` of the 50 processes (estimate, realised, the period's hours); its sums
           (`process_page.list_sums`: `ledger_days` and the partial index of run entries, 0012) beside the
           same sums as one GROUP BY over the raw ledger, as the list summed them before 0012;
- naive  : the baseline: every ledger entry loaded into Python (`Store.ledger_rows`), the process's
           minutes of the period, the year and since the start, and per month, summed in a loop.
Then, when BENCH_INDEX=1, the same page again after creating by hand the index
`ix_items_run_finished (run_id, finished_at, status)`, to see what it would bring.
First on the embedded SQLite store, then on PostgreSQL when it answers.

    .venv/bin/python bench/bench_process_page.py     # BENCH_EXPORT_ROWS=1000000 BENCH_REPEAT=5 BENCH_INDEX=1
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from bench_exports import REPEAT, RUNS_N, _timed, load
from bench_overview import PERIOD, TODAY, records
from pg_scratch import on_sqlite_and_postgresql
from sqlalchemy import case, func, select, text

from robocore import processes
from robocore.store import Store
from robocore.store.models import ledger as LEDGER
from robocore.store.process_page import list_sums
from robocore.web import overview_data, process_data

NAME = "Processus 07"
_TOKENS = itertools.count()
INDEX = "CREATE INDEX ix_items_run_finished ON items (run_id, finished_at, status)"


def naive(store: Store) -> tuple[float, float, dict[str, float]]:
    """The baseline: every entry loaded, the process's minutes (period, since the start, per month) summed."""
    start, end = datetime(2025, 1, 1), datetime(2026, 1, 1)
    period = total = 0.0
    months: dict[str, float] = {}
    for row in store.ledger_rows():
        if row.entry.process_name != NAME:
            continue
        total += row.entry.minutes
        if start <= row.recorded_at < end:
            period += row.entry.minutes
            months[f"{row.recorded_at:%Y-%m}"] = months.get(f"{row.recorded_at:%Y-%m}", 0.0) + row.entry.minutes
    return period, total, months


def raw_list_sums(store: Store, names: list[str], period: tuple[datetime, datetime], year_start: datetime,
                  twelve_months_ago: datetime) -> dict[str, tuple[float, float, float, int]]:
    """The list's sums as before 0012: one GROUP BY over the raw ledger (every entry of the 12 months read)."""
    at, minutes = LEDGER.c.recorded_at, LEDGER.c.minutes
    query = (select(LEDGER.c.process_name,
                    func.sum(case(((at >= period[0]) & (at < period[1]), minutes), else_=0.0)),
                    func.sum(case((at >= year_start, minutes), else_=0.0)),
                    func.sum(case((at >= twelve_months_ago, minutes), else_=0.0)),
                    func.sum(case(((at >= twelve_months_ago) & (LEDGER.c.kind == "run"), 1), else_=0)))
             .where(LEDGER.c.process_name.in_(sorted(names)), at >= min(period[0], year_start, twelve_months_ago))
             .group_by(LEDGER.c.process_name))
    with store.engine.begin() as conn:
        return {str(n): (float(p or 0), float(y or 0), float(m or 0), int(r or 0))
                for n, p, y, m, r in conn.execute(query)}


def _http(store: Store, root: Path, path: str) -> Callable[[], object]:
    """A page through HTTP, checked once."""
    from fastapi.testclient import TestClient

    from robocore.server import create_app
    from robocore.server.auth import create_token

    client = TestClient(create_app(store, robots_dir=root))
    headers = {"Authorization": f"Bearer {create_token(store, f'bench-{next(_TOKENS)}', 'manager')}"}
    answer = client.get(path, params=PERIOD, headers=headers)
    assert answer.status_code == 200 and 'id="chiffre-heures-periode"' in answer.text, answer.text[:300]
    return lambda: client.get(path, params=PERIOD, headers=headers).content


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
    shown = process_data.process_view(store, NAME, filters, TODAY)
    period, total, _months = naive(store)
    assert abs(shown.minutes_period - period) < 1e-6 * max(period, 1), (shown.minutes_period, period)
    assert abs(shown.minutes_all - total) < 1e-6 * max(total, 1), (shown.minutes_all, total)
    data = _timed(lambda: process_data.process_view(store, NAME, filters, TODAY))
    page = f"/processus/{quote(NAME, safe='')}"
    http = _timed(_http(store, root, page))
    listed = _timed(_http(store, root, "/processus"))
    names = [record.name for record in store.list_processes()]
    bounds = ((datetime(2025, 1, 1), datetime(2026, 1, 1)), *processes._bounds(TODAY))
    raw = raw_list_sums(store, names, *bounds)
    summed = list_sums(store.engine, names, *bounds)
    assert raw.keys() == summed.keys() and all(
        abs(raw[n][2] - summed[n].minutes_12_months) < 1e-6 * max(raw[n][2], 1)
        and raw[n][3] == summed[n].runs_12_months for n in raw)
    sums = _timed(lambda: list_sums(store.engine, names, *bounds))
    sums_raw = _timed(lambda: raw_list_sums(store, names, *bounds))
    baseline = _timed(lambda: naive(store), max(REPEAT // 2, 1))
    print(f"  process page data of 2025 (SQL sums)             {data}")
    print(f"  the page through GET /processus/…?du=…&au=…      {http}   target <= 200 ms")
    print(f"  the list GET /processus (50 processes)           {listed}")
    print(f"    its sums: ledger_days + run entries' index     {sums}")
    print(f"    the same sums over the raw ledger (before 0012) {sums_raw}   x{sums_raw.median / sums.median:,.0f}")
    print(f"  naive: every entry loaded, summed in Python      {baseline}   naive / page = "
          f"x{baseline.median / http.median:,.1f}")
    if os.environ.get("BENCH_INDEX") == "1":
        with store.engine.begin() as conn:
            conn.execute(text(INDEX))
            conn.execute(text("ANALYZE"))
        indexed = _timed(_http(store, root, page))
        print(f"  with {INDEX[13:]}: the page {indexed}")
    store.close()
    print(f"  (load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs)")


def main() -> None:
    on_sqlite_and_postgresql("robocore_bench_process", measure)


if __name__ == "__main__":
    main()
