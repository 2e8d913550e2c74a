"""Core speed: durable items per second, and the cold start of `robo run`.

Prints figures and ratios against baselines measured in the same run (median of N):
- engine: a 1,000-item robot of flow.log steps with the store and ledger (SQLite),
  against a bare sqlite3 loop doing the same two commits per item (the cost floor of durability);
- cold start: `robo run` of a one-step robot, whole wall time, against `python -c pass`.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from string import Template

REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))
ITEMS = 1000
# A Template, not str.format or an f-string: the robot's own Jinja braces would need escaping.
ROBOT = Template("""\
robot: bench-items
process: {name: Bench, service: Lab, manual_minutes_per_item: 1, manual_minutes_per_run: 1}
steps:
  - for_each: "{{ range($items) | list }}"
    as: n
    key: "k{{ n }}"
    steps:
      - use: flow.log
        with: {message: "item {{ n }}"}
""").substitute(items=ITEMS)
ONE_STEP = "robot: one-step\nsteps:\n  - use: flow.log\n    with: {message: bonjour}\n"


def _median(fn, repeat: int = REPEAT) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def engine_run(tmp: Path) -> None:
    import asyncio

    from robocore import runs
    from robocore.loader import load_robot
    from robocore.logging import configure
    from robocore.store import Store

    configure("off")
    home = Path(tempfile.mkdtemp(dir=tmp))
    os.environ["ROBOCORE_HOME"] = str(home)
    (home / "robot.yaml").write_text(ROBOT)
    store = Store(f"sqlite:///{home / 'robocore.db'}")
    loaded = load_robot(home)
    result = asyncio.run(runs.start(loaded, store, {}))
    assert result.counts == {"done": ITEMS}, result
    store.close()


def baseline_sqlite(tmp: Path) -> None:
    db = Path(tempfile.mkdtemp(dir=tmp)) / "b.db"
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("CREATE TABLE items (key TEXT PRIMARY KEY, status TEXT)")
    con.execute("CREATE TABLE ledger (k TEXT UNIQUE, minutes REAL)")
    con.execute("BEGIN")
    con.executemany("INSERT INTO items VALUES (?, 'pending')", [(f"k{n}",) for n in range(ITEMS)])
    con.execute("COMMIT")
    with open(db.with_suffix(".log"), "w") as log:
        for n in range(ITEMS):
            con.execute("BEGIN")
            con.execute("UPDATE items SET status='running' WHERE key=?", (f"k{n}",))
            con.execute("COMMIT")
            log.write(f'{{"event": "item {n}"}}\n')
            con.execute("BEGIN")
            con.execute("UPDATE items SET status='done' WHERE key=?", (f"k{n}",))
            con.execute("INSERT INTO ledger VALUES (?, 1)", (f"k{n}",))
            con.execute("COMMIT")
    con.close()


def cold_start(tmp: Path) -> tuple[float, float, float]:
    folder = Path(tempfile.mkdtemp(dir=tmp))
    (folder / "robot.yaml").write_text(ONE_STEP)
    env = dict(os.environ, ROBOCORE_HOME=str(folder / "home"))
    robo = str(Path(sys.executable).parent / "robo")
    # as an installed package is (pip compiles it): with PYTHONDONTWRITEBYTECODE set, an editable
    # checkout would otherwise recompile every module of robocore on every start
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(__file__).parents[1] / "robocore")],
                   check=True)
    subprocess.run([robo, "run", str(folder), "-q"], env=env, check=True, capture_output=True)  # first: migrations
    t_robo = _median(lambda: subprocess.run([robo, "run", str(folder), "-q"], env=env, check=True,
                                            capture_output=True))
    t_python = _median(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True))
    t_import = _median(lambda: subprocess.run([sys.executable, "-c", "import sqlalchemy"], check=True))
    return t_robo, t_python, t_import


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        t_engine = _median(lambda: engine_run(tmp))
        t_base = _median(lambda: baseline_sqlite(tmp))
        print(f"engine   : {ITEMS} items in {t_engine:.3f} s = {ITEMS / t_engine:,.0f} items/s (target >= 500)")
        print(f"baseline : bare sqlite3, 2 commits/item: {ITEMS / t_base:,.0f} items/s; "
              f"ratio engine/baseline time = {t_engine / t_base:.1f}x")
        t_robo, t_python, t_import = cold_start(tmp)
        print(f"cold start: robo run one-step robot {t_robo:.3f} s (target <= 0.6 s); "
              f"python -c pass {t_python:.3f} s; import sqlalchemy alone {t_import:.3f} s")


if __name__ == "__main__":
    main()
