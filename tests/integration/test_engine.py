"""Durable work items, retries and the ledger, against SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from robocore import runs
from robocore.ledger import EntryKind
from robocore.loader import load_robot
from robocore.store import Store

ROBOTS = Path(__file__).parent / "robots"


def _copy(name: str, tmp_path: Path) -> Path:
    dest = tmp_path / name
    shutil.copytree(ROBOTS / name, dest)
    return dest


def test_fifty_items_statuses_counts_and_ledger(store_url: str, tmp_path: Path) -> None:
    """50 items, 6 business errors: exact statuses, counts, and ledger = 44 × 4.5 + 10 minutes."""
    store = Store(store_url)
    result = asyncio.run(runs.start(load_robot(_copy("lot50", tmp_path)), store, {}))
    assert result.status == "completed_with_errors"
    assert result.counts == {"done": 44, "business_error": 6}
    items = {i.key: i for i in store.items(result.run_id)}
    assert len(items) == 50
    failed = {k for k, i in items.items() if i.status == "business_error"}
    assert failed == {"D-007", "D-010", "D-020", "D-030", "D-040", "D-050"}
    assert items["D-010"].error == "Dossier 10 : montant manquant"
    assert all(i.attempts == 1 for i in items.values())
    ledger = store.ledger_rows()
    assert sum(r.entry.minutes for r in ledger) == pytest.approx(44 * 4.5 + 10)
    assert [r.entry.kind for r in ledger].count(EntryKind.RUN) == 1
    assert {r.entry.process_name for r in ledger} == {"Contrôle des dossiers"}
    store.close()


def test_application_errors_retried_business_errors_not(store_url: str, tmp_path: Path) -> None:
    """An application error is retried (with backoff) up to `retries`; a business error never is."""
    store = Store(store_url)
    result = asyncio.run(runs.start(load_robot(_copy("retry", tmp_path)), store, {}))
    items = {i.key: i for i in store.items(result.run_id)}
    assert (items["a"].status, items["a"].attempts) == ("done", 2)
    assert (items["b"].status, items["b"].attempts) == ("business_error", 1)
    assert (items["c"].status, items["c"].attempts) == ("application_error", 3)
    assert sum(r.entry.minutes for r in store.ledger_rows()) == pytest.approx(1.0)
    store.close()


def test_resume_never_redoes_done_items_nor_counts_twice(store_url: str, tmp_path: Path) -> None:
    """Resuming a finished-with-errors run re-processes only the failed items; the ledger stays exact."""
    store = Store(store_url)
    robot = _copy("retry", tmp_path)
    first = asyncio.run(runs.start(load_robot(robot), store, {}))
    second = asyncio.run(runs.resume(first.run_id, store))
    assert second.run_id == first.run_id
    items = {i.key: i for i in store.items(first.run_id)}
    assert items["a"].attempts == 2  # done in the first run, untouched
    assert items["c"].attempts == 6  # application errors are tried again on resume
    assert (tmp_path / "retry" / "essais-a.txt").read_text() == "xx"
    ledger = store.ledger_rows()
    assert len(ledger) == 1 and ledger[0].entry_key.endswith(":a")
    store.close()


def test_concurrency_processes_every_item_once(store_url: str, tmp_path: Path) -> None:
    """With concurrency 4, every item is done exactly once and counted once."""
    robot = _copy("crash200", tmp_path)
    text = (robot / "robot.yaml").read_text().replace("key: \"E{{ n }}\"", "key: \"E{{ n }}\"\n    concurrency: 4")
    (robot / "robot.yaml").write_text(text)
    journal = tmp_path / "crash200" / "journal.txt"
    store = Store(store_url)
    result = asyncio.run(runs.start(load_robot(robot), store, {"journal": str(journal), "pause": 0}))
    lines = journal.read_text().splitlines()
    assert len(lines) == 200 and len(set(lines)) == 200
    assert result.counts == {"done": 200}
    assert store.run_minutes(result.run_id) == pytest.approx(200 * 2 + 3)
    store.close()


def test_run_level_failure_fails_the_run(robo_home: Path, tmp_path: Path) -> None:
    """A failing step outside a loop stops the run with status failed and no run minutes."""
    folder = tmp_path / "r"
    folder.mkdir()
    (folder / "robot.yaml").write_text(
        "robot: casse\nprocess: {name: P, service: S, manual_minutes_per_item: 1, manual_minutes_per_run: 9}\n"
        "steps:\n  - use: files.read_text\n    with: {path: absent.txt}\n")
    store = Store(f"sqlite:///{robo_home / 'robocore.db'}")
    result = asyncio.run(runs.start(load_robot(folder), store, {}))
    assert result.status == "failed"
    assert "absent.txt" in (result.error or "")
    assert store.ledger_rows() == []


def test_table_step_leaves_the_garbage_collector_alone(robo_home: Path, tmp_path: Path) -> None:
    """A table step leaves the process's garbage collector as it found it: enabled, nothing frozen."""
    import gc

    from openpyxl import Workbook

    folder = tmp_path / "r"
    folder.mkdir()
    workbook = Workbook()
    workbook.active.append(["Nom", "Montant"])
    workbook.active.append(["a", 1])
    workbook.save(folder / "t.xlsx")
    (folder / "robot.yaml").write_text(
        "robot: gel\nsteps:\n  - id: t\n    use: excel.read_table\n    with: {path: t.xlsx}\n"
        "  - use: flow.assert\n    with: {that: \"{{ steps.t.count == 1 }}\"}\n")
    store = Store(f"sqlite:///{robo_home / 'robocore.db'}")
    result = asyncio.run(runs.start(load_robot(folder), store, {}))
    assert result.status == "succeeded", result.error
    assert gc.get_freeze_count() == 0 and gc.isenabled()


def test_item_left_running_is_verified_not_redone(store_url: str, tmp_path: Path) -> None:
    """An item found `running` after a crash whose verify steps pass is marked done without redoing it."""
    from sqlalchemy import create_engine, text

    robot = _copy("crash200", tmp_path)
    journal = robot / "journal.txt"
    store = Store(store_url)
    result = asyncio.run(runs.start(load_robot(robot), store, {"journal": str(journal), "pause": 0}))
    engine = create_engine(store_url)
    with engine.begin() as conn:  # what a crash between the side effect and the commit leaves
        conn.execute(text("UPDATE items SET status = 'running' WHERE key IN ('E5', 'E6')"))
        conn.execute(text("DELETE FROM ledger WHERE entry_key LIKE :a OR entry_key LIKE :b OR kind = 'run'"),
                     {"a": "%:E5", "b": "%:E6"})
        conn.execute(text("UPDATE runs SET status = 'running', heartbeat_at = NULL"))  # its lease expired
    engine.dispose()
    journal.write_text("\n".join(f"E{n}" for n in range(200) if n != 6) + "\n")  # E6's side effect never happened
    asyncio.run(runs.resume(result.run_id, store))
    items = {i.key: i for i in store.items(result.run_id)}
    assert (items["E5"].status, items["E5"].verified, items["E5"].attempts) == ("done", 1, 1)
    assert (items["E6"].status, items["E6"].verified, items["E6"].attempts) == ("done", 0, 2)
    lines = journal.read_text().splitlines()
    assert sorted(lines) == sorted(f"E{n}" for n in range(200))
    assert store.run_minutes(result.run_id) == pytest.approx(200 * 2 + 3)
    store.close()


_ALL_REFUSED = """\
robot: tout-refuse
process: {name: Contrôle, service: Test, manual_minutes_per_item: 3, manual_minutes_per_run: 10}
steps:
  - for_each: "{{ [1, 2, 3] }}"
    as: n
    key: "K-{{ n }}"
    steps:
      - use: flow.fail
        with: {message: "Dossier {{ n }} refusé"}
"""


def test_run_whose_every_item_failed_saves_nothing(store_url: str, tmp_path: Path) -> None:
    """A completed run whose every item was refused records no fixed run minutes: nothing was saved."""
    (tmp_path / "robot.yaml").write_text(_ALL_REFUSED, encoding="utf-8")
    store = Store(store_url)
    result = asyncio.run(runs.start(load_robot(tmp_path), store, {}))
    assert result.status == "completed_with_errors" and result.counts == {"business_error": 3}
    assert store.ledger_rows() == [] and result.minutes_saved == 0
    store.close()


def test_run_without_items_saves_its_fixed_minutes(store_url: str, tmp_path: Path) -> None:
    """A completed run with no work items (one whole task) records its fixed run minutes once."""
    (tmp_path / "robot.yaml").write_text(
        "robot: tache-unique\n"
        "process: {name: Contrôle, service: Test, manual_minutes_per_item: 0, manual_minutes_per_run: 10}\n"
        "steps:\n  - use: flow.log\n    with: {message: fait}\n", encoding="utf-8")
    store = Store(store_url)
    result = asyncio.run(runs.start(load_robot(tmp_path), store, {}))
    assert result.status == "succeeded" and [r.entry.minutes for r in store.ledger_rows()] == [10]
    store.close()
