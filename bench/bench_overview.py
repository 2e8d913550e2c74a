"""The managers' overview page over 1,000,000 ledger entries and 50 processes, against the former SQL and a naive page.

The history of bench_exports (BENCH_EXPORT_ROWS=1,000,000 ledger entries: 5,000 runs of 100 robots,
50 processes, 10 services, three years 2023-2025; as many work items, some failed) is bulk-loaded
into a fresh store (the triggers of migration 0011 fill `ledger_days` as the rows arrive: checked
equal to the ledger), with the 50 process records (two labs, goals, stages). Timed, median (and best)
of BENCH_REPEAT, the year 2025 shown:
- data   : `overview_data.overview` — every figure of the page (period, year to date, since the start,
           items and runs by outcome, records, hours per process and month), summed in SQL (the hours
           from `ledger_days`);
- 0010   : the same figures summed as before migration 0011 (bench/overview_0010.py: hours from the raw
           ledger, items grouped per run and status, four queries at once), in a block between two blocks
           at head, so that a busy machine slows both alike; the ratio is printed;
- http   : the whole page through `GET /?du=2025-01-01&au=2025-12-31` (token, HTML) — target <= 300 ms;
           then with the 0010 sums, between two blocks at head;
- lab    : the same page filtered on a lab (`&labo=…`: the ledger restricted by a subquery);
- naive  : the baseline: every ledger entry loaded into Python (`Store.ledger_rows`) and summed in a loop;
- write  : what the triggers cost a done item (`ledger.record_done`: item updated, entry and day written,
           one transaction), BENCH_WRITES items with and without the triggers in turns;
- services, labs: the data of `GET /services` and `GET /labos` (robocore.web.groups_data).
First on the embedded SQLite store, then on PostgreSQL when it answers.

    .venv/bin/python bench/bench_overview.py       # BENCH_EXPORT_ROWS=1000000 BENCH_REPEAT=5 BENCH_WRITES=500
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from functools import partial
from pathlib import Path

import overview_0010
from bench_exports import REPEAT, RUNS_N, _timed, load
from bench_ledger import Timing
from pg_scratch import on_sqlite_and_postgresql
from sqlalchemy import text

from robocore.store import Store
from robocore.store.groups import Dimension
from robocore.store.rows import ProcessStage
from robocore.web import groups_data, overview_data

TODAY = date(2025, 12, 31)  # the data ends in 2025: "this year" is 2025
PERIOD = {"du": "2025-01-01", "au": "2025-12-31"}
WRITES = int(os.environ.get("BENCH_WRITES", "500"))  # done items per turn of the write measurement


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


@contextmanager
def sums_of_0010() -> Iterator[None]:
    """The page served with the sums of before migration 0011 (bench/overview_0010.py)."""
    from robocore.web import pages_overview

    at_head = pages_overview.overview
    pages_overview.overview = overview_0010.overview
    try:
        yield
    finally:
        pages_overview.overview = at_head


def head_and_0010(fn: Callable[[], object], before: Callable[[], object] | None = None) -> tuple[Timing, Timing]:
    """`fn` timed at head, then `before` (or `fn` with the page's sums of 0010), then `fn` at head again:
    (head, 0010), medians; a drift of a shared machine hits both alike."""
    first = _timed(fn)
    if before is None:
        with sums_of_0010():
            old = _timed(fn)
    else:
        old = _timed(before)
    second = _timed(fn)
    return Timing((first.median + second.median) / 2, min(first.best, second.best)), old


def _check_days(store: Store) -> None:
    """`ledger_days` equals the ledger summed per day, robot, process and service."""
    day = "CAST(recorded_at AS date)" if store.dialect == "postgresql" else "date(recorded_at)"
    raw = (f"SELECT {day} AS day, robot, process_name, service, sum(minutes) AS minutes, count(*) AS entries "
           "FROM ledger GROUP BY 1, 2, 3, 4")
    with store.engine.begin() as conn:
        summed = {tuple(r[:4]): (r[4], r[5]) for r in conn.execute(text(raw))}
        kept = {tuple(r[:4]): (r[4], r[5]) for r in conn.execute(
            text("SELECT day, robot, process_name, service, minutes, entries FROM ledger_days"))}
    assert summed.keys() == kept.keys() and all(
        abs(summed[k][0] - kept[k][0]) < 1e-6 and summed[k][1] == kept[k][1] for k in summed), "ledger_days drifted"


def _writes(store: Store) -> tuple[Timing, Timing]:
    """ms per done item (started, then `ledger.record_done`) with the ledger_days triggers and without them,
    in turns on one run; the triggers are put back afterwards (the entries written without them are missing
    from ledger_days: measured last)."""
    from robocore import ledger
    from robocore.store import NewRun

    version = store.save_robot_version("bench-write", "1" * 64, "robot: bench-write\n")
    store.create_run(NewRun(id="bench-write", robot="bench-write", version_id=version, robot_path="/bench",
                            inputs={}, process_name="Processus 00", service="Service 0",
                            minutes_per_item=2.0, minutes_per_run=0.0))
    assert store.claim_run("bench-write", "bench")
    run = store.get_run("bench-write")
    assert run is not None
    keys = [f"W-{n:06d}" for n in range(2 * 4 * WRITES)]
    store.add_items("bench-write", "lignes", keys)
    pg = store.dialect == "postgresql"
    with store.engine.begin() as conn:
        created = None if pg else conn.execute(
            text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'ledger_days_insert'")).scalar_one()

    def triggers(on: bool) -> None:
        with store.engine.begin() as conn:
            if pg:
                conn.execute(text(f"ALTER TABLE ledger {'ENABLE' if on else 'DISABLE'} TRIGGER ledger_days_insert"))
            elif on:
                conn.execute(text(str(created)))
            else:
                conn.execute(text("DROP TRIGGER ledger_days_insert"))

    times: dict[bool, list[float]] = {True: [], False: []}
    todo = iter(keys)
    for turn in range(8):
        on = turn % 2 == 0
        if not on:
            triggers(False)
        for _ in range(WRITES):
            key = next(todo)
            t0 = time.perf_counter()
            store.start_item("bench-write", key)
            assert ledger.record_done(store, "bench-write", key, run)
            times[on].append((time.perf_counter() - t0) * 1000)
        if not on:
            triggers(True)
    return (Timing(statistics.median(times[True]), min(times[True])),
            Timing(statistics.median(times[False]), min(times[False])))


def measure(name: str, url: str, root: Path) -> None:
    store = Store(url)
    t0 = time.perf_counter()
    load(store)
    records(store)
    with store.engine.begin() as conn:
        count = conn.execute(text("SELECT count(*) FROM ledger")).scalar_one()
        days = conn.execute(text("SELECT count(*) FROM ledger_days")).scalar_one()
    print(f"\n[{name}] {count:,} ledger entries ({days:,} rows in ledger_days), {RUNS_N:,} runs, 50 processes "
          f"loaded in {time.perf_counter() - t0:.1f} s")
    _check_days(store)
    filters = overview_data.parse_filters(PERIOD, TODAY)
    shown = overview_data.overview(store, filters, TODAY, 1607.0)
    before = overview_0010.overview(store, filters, TODAY, 1607.0)
    period, year, per_process = naive(store)
    assert abs(shown.minutes_period - period) < 1e-6 * max(period, 1), (shown.minutes_period, period)
    assert len(shown.months) == 12 and shown.process_count == len([m for m in per_process.values() if m > 0])
    for figure in ("minutes_period", "minutes_year", "minutes_all"):
        assert abs(getattr(shown, figure) - getattr(before, figure)) < 1e-6 * max(period, 1), figure
    assert (shown.items_done, shown.items_attempted, shown.runs_succeeded, shown.runs_finished, shown.rows) == (
        before.items_done, before.items_attempted, before.runs_succeeded, before.runs_finished, before.rows)
    data, data_0010 = head_and_0010(lambda: overview_data.overview(store, filters, TODAY, 1607.0),
                                    lambda: overview_0010.overview(store, filters, TODAY, 1607.0))
    page = _http(store, root, {})
    http, http_0010 = head_and_0010(page)
    lab = _timed(_http(store, root, {"labo": "Lab 1"}))
    per_group = {d: _timed(partial(groups_data.groups, store, d, filters, TODAY)) for d in Dimension}
    baseline = _timed(lambda: naive(store), max(REPEAT // 2, 1))
    with_triggers, without = _writes(store)
    store.close()
    print(f"  overview data of 2025 (SQL sums, ledger_days)    {data}")
    print(f"  the same summed as before 0011 (raw ledger)      {data_0010}   0010 / head = "
          f"x{data_0010.median / data.median:,.2f}")
    print(f"  the page through GET /?du=…&au=…                 {http}   target <= 300 ms")
    print(f"  the page with the sums of before 0011            {http_0010}   0010 / head = "
          f"x{http_0010.median / http.median:,.2f}")
    print(f"  the page filtered on a lab                       {lab}")
    for dimension, label in ((Dimension.SERVICE, "services"), (Dimension.LAB, "labs    ")):
        print(f"  {label} page data (per group and month)       {per_group[dimension]}")
    print(f"  naive: every entry loaded, summed in Python      {baseline}   naive / page = "
          f"x{baseline.median / http.median:,.1f}")
    print(f"  a done item written, with the 0011 triggers      {with_triggers}   without: {without.median:.2f} ms "
          f"(x{with_triggers.median / without.median:,.2f})")
    print(f"  (load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs)")


def main() -> None:
    on_sqlite_and_postgresql("robocore_bench_overview", measure)


if __name__ == "__main__":
    main()
