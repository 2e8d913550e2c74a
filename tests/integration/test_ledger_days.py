"""`ledger_days` (migration 0011), the ledger summed per day, robot, process and service by database triggers:
equal to the raw ledger summed in the test after runs, retries, a rolled-back transaction, a process killed
in the middle of its transaction, concurrent writers, entries moved and deleted by hand, and after the
migration of a store whose ledger already holds entries. SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, text

from robocore import ledger
from robocore.ledger import EntryKind, LedgerEntry
from robocore.statuses import ItemStatus, RunStatus
from robocore.store import NewRun, Store
from robocore.store.ledger import insert_entry
from robocore.store.models import utcnow
from tests.integration.test_ledger import _history, _record

Sums = dict[tuple[str, str, str | None, str | None], tuple[float, int]]


def _day(dialect: str) -> str:
    return "CAST(recorded_at AS date)" if dialect == "postgresql" else "date(recorded_at)"


def _summed(store_or_url: Store | str) -> tuple[Sums, Sums]:
    """(the raw ledger summed per day and key by the test, ledger_days summed per the same key)."""
    engine = store_or_url.engine if isinstance(store_or_url, Store) else create_engine(store_or_url)
    raw = (f"SELECT {_day(engine.dialect.name)}, robot, process_name, service, sum(minutes), count(*) "
           "FROM ledger GROUP BY 1, 2, 3, 4")
    # rows of a key without process or service are not merged (NULL never conflicts): sum them too
    kept = ("SELECT day, robot, process_name, service, sum(minutes), sum(entries) FROM ledger_days "
            "GROUP BY 1, 2, 3, 4")
    with engine.begin() as conn:
        ledger_sums = {(str(r[0]), r[1], r[2], r[3]): (float(r[4]), int(r[5])) for r in conn.execute(text(raw))}
        day_sums = {(str(r[0]), r[1], r[2], r[3]): (float(r[4]), int(r[5])) for r in conn.execute(text(kept))
                    if int(r[5]) != 0}
    if not isinstance(store_or_url, Store):
        engine.dispose()
    return ledger_sums, day_sums


def _assert_equal(store_or_url: Store | str) -> Sums:
    by_hand, kept = _summed(store_or_url)
    assert kept.keys() == by_hand.keys()
    for key, (minutes, entries) in by_hand.items():
        assert kept[key] == (pytest.approx(minutes, abs=1e-9), entries), key
    return by_hand


def _new_run(store: Store, run_id: str, robot: str = "saisie", process: str | None = "Instruction",
             service: str | None = "DDETS 31", per_item: float = 4.5, keys: int = 5) -> list[str]:
    version = store.save_robot_version(robot, "0" * 64, f"robot: {robot}\n")
    store.create_run(NewRun(id=run_id, robot=robot, version_id=version, robot_path="/robots/x", inputs={},
                            process_name=process, service=service, minutes_per_item=per_item,
                            minutes_per_run=10.0))
    assert store.claim_run(run_id, "test")
    names = [f"K-{n}" for n in range(keys)]
    store.add_items(run_id, "lignes", names)
    return names


def test_days_equal_the_ledger_after_runs_retries_moves_and_deletes(store_url: str) -> None:
    store = Store(store_url)
    version = store.save_robot_version("x", "0" * 64, "robot: x\n")
    plans = _history()
    for plan in plans:  # recorded as the engine does, then moved to their month by UPDATE (triggers follow)
        _record(store, version, plan)
    by_hand = _assert_equal(store)
    assert len({key[0][:7] for key in by_hand}) >= 4  # the history spans months: moved entries moved their days
    done = next(p for p in plans if p.process is not None and ItemStatus.DONE in p.items)
    run = store.get_run(done.run_id)
    assert run is not None
    key = f"L-{done.items.index(ItemStatus.DONE)}"
    assert not ledger.record_done(store, done.run_id, key, run)  # a retry of a done item writes nothing
    if done.status in (RunStatus.SUCCEEDED, RunStatus.COMPLETED_WITH_ERRORS):
        assert not ledger.record_run(store, done.run_id, run)    # nor a second entry for the run
    assert _assert_equal(store) == by_hand
    with store.engine.begin() as conn:  # what test_engine does to simulate a crash: entries deleted by hand
        conn.execute(text("DELETE FROM ledger WHERE run_id = :r"), {"r": done.run_id})
        conn.execute(text("UPDATE ledger SET minutes = minutes * 2, recorded_at = :t WHERE robot = 'controle'"),
                     {"t": datetime(2024, 2, 29, 23, 59, 59)})
    after = _assert_equal(store)
    assert after != by_hand and any(key[0] == "2024-02-29" for key in after)
    store.close()


def test_a_rolled_back_transaction_leaves_both_unchanged(store_url: str) -> None:
    store = Store(store_url)
    keys = _new_run(store, "r1")
    store.start_item("r1", keys[0])
    run = store.get_run("r1")
    assert run is not None and ledger.record_done(store, "r1", keys[0], run)
    before = _assert_equal(store)
    entry = ledger.entry_for_item(run)
    assert entry is not None
    with pytest.raises(RuntimeError), store.engine.begin() as conn:
        insert_entry(conn, entry, "r1", keys[1], utcnow())
        raise RuntimeError("the step failed after the entry was written")
    assert _assert_equal(store) == before
    store.close()


_KILLED = """
import os, sys
from robocore.ledger import EntryKind, LedgerEntry
from robocore.store import Store
from robocore.store.ledger import insert_entry
from robocore.store.models import utcnow
store = Store(sys.argv[1])
conn = store.engine.connect()
conn.begin()
for n in range(50):
    insert_entry(conn, LedgerEntry("saisie", "Instruction", "DDETS 31", 4.5, EntryKind.ITEM), "r1", f"X-{n}", utcnow())
print("written", flush=True)
os._exit(9)  # killed before the commit
"""


def test_a_process_killed_before_its_commit_leaves_both_unchanged(store_url: str, tmp_path: Path) -> None:
    store = Store(store_url)
    _new_run(store, "r1")
    run = store.get_run("r1")
    assert run is not None
    store.start_item("r1", "K-0")
    assert ledger.record_done(store, "r1", "K-0", run)
    before = _assert_equal(store)
    store.close()
    killed = subprocess.run([sys.executable, "-c", _KILLED, store_url], capture_output=True, text=True,
                            timeout=120, cwd=tmp_path)
    assert killed.returncode == 9 and "written" in killed.stdout, killed.stderr
    store = Store(store_url)
    assert _assert_equal(store) == before
    store.close()


def test_concurrent_writers_of_one_robot_and_day(store_url: str) -> None:
    """Four runs of one robot record their items at once: every entry lands in the same day's row."""
    store = Store(store_url)
    runs = {f"c{n}": _new_run(store, f"c{n}", keys=25) for n in range(4)}
    errors: list[BaseException] = []

    def work(run_id: str, keys: list[str]) -> None:
        try:
            run = store.get_run(run_id)
            assert run is not None
            for key in keys:
                store.start_item(run_id, key)
                assert ledger.record_done(store, run_id, key, run)
            assert ledger.record_run(store, run_id, run)
        except BaseException as exc:  # reported by the test's thread below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=item) for item in runs.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    by_hand = _assert_equal(store)
    assert sum(entries for _minutes, entries in by_hand.values()) == 4 * (25 + 1)
    assert sum(minutes for minutes, _entries in by_hand.values()) == pytest.approx(4 * (25 * 4.5 + 10.0))
    store.close()


def test_entries_without_process_are_summed_exactly(store_url: str) -> None:
    """A key with NULL never conflicts: such entries get rows of their own, their sums stay exact."""
    store = Store(store_url)
    _new_run(store, "n1", robot="outil", process=None, service=None)
    with store.engine.begin() as conn:
        for n in range(3):
            insert_entry(conn, LedgerEntry("outil", None, None, 1.5, EntryKind.ITEM), "n1", f"N-{n}", utcnow())
    _assert_equal(store)
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM ledger WHERE entry_key = 'item:n1:N-1'"))
    by_hand = _assert_equal(store)
    assert [v for k, v in by_hand.items() if k[1] == "outil"] == [(3.0, 2)]
    store.close()


def test_migration_0011_fills_the_days_of_an_existing_ledger_and_goes_back(store_url: str) -> None:
    from alembic import command

    from robocore.store import migrate
    from robocore.store.models import ledger as LEDGER
    from robocore.store.models import robot_versions, runs

    engine = create_engine(store_url)
    with engine.begin() as conn:
        command.upgrade(migrate._alembic_config(conn), "0010")  # type: ignore[arg-type]
        version = conn.execute(insert(robot_versions).values(robot="x", sha256="0" * 64, content="robot: x\n",
                                                             created_at=utcnow()).returning(robot_versions.c.id)
                               ).scalar_one()
        conn.execute(insert(runs).values(id="old", robot="x", version_id=version, robot_path="/x", status="succeeded",
                                         trigger="cli", inputs={}, process_name="P", service="S",
                                         minutes_per_item=2.0, minutes_per_run=0.0, started_at=utcnow(),
                                         cancel_requested=0))
        conn.execute(insert(LEDGER), [
            {"entry_key": f"item:old:{n}", "run_id": "old", "kind": "item", "robot": "x", "process_name": "P",
             "service": "S", "minutes": 2.0, "recorded_at": datetime(2025, 1 + n % 3, 1 + n % 5, n % 24)}
            for n in range(40)])
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.HEAD
    by_hand = _assert_equal(store_url)
    assert sum(entries for _minutes, entries in by_hand.values()) == 40 and len(by_hand) == 15
    with engine.begin() as conn:
        command.downgrade(migrate._alembic_config(conn), "0010")  # type: ignore[arg-type]
        conn.execute(insert(LEDGER).values(entry_key="item:old:late", run_id="old", kind="item", robot="x",
                                           process_name="P", service="S", minutes=2.0, recorded_at=utcnow()))
        assert conn.execute(text("SELECT count(*) FROM ledger")).scalar_one() == 41
    migrate.upgrade(engine)
    assert sum(entries for _minutes, entries in _assert_equal(store_url).values()) == 41
    engine.dispose()
