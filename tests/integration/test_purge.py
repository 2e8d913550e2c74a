"""`robo purge --older-than DAYS [--dry-run]` (robocore.cli.cmd_purge, robocore.store.purge), on SQLite and
PostgreSQL: old finished runs lose their inputs, events and files; recent and unfinished runs are untouched;
the ledger and every figure of `robo report` stay the same."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import text
from typer.testing import CliRunner

from robocore import runs
from robocore.errors import RobotDefinitionError
from robocore.loader import load_robot
from robocore.statuses import FireStatus, RunStatus
from robocore.store import NewRun, Store
from robocore.store.purge import PURGE_STEP

ROBOT = """\
robot: purge-test
process: {name: Contrôle, service: DDETS 31, manual_minutes_per_item: 3, manual_minutes_per_run: 5}
inputs:
  lignes: {type: number, default: 4}
steps:
  - id: lot
    use: flow.set
    with: {values: {n: "{{ range(inputs.lignes) | list }}"}}
  - for_each: "{{ steps.lot.n }}"
    as: n
    key: "L{{ n }}"
    steps:
      - use: flow.fail
        when: "{{ n == 1 }}"
        with: {message: "ligne refusée"}
"""


def _ago(days: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=days)


class Runs:
    """Four runs of one store: old and finished, recent and finished, old but queued, old but running."""

    def __init__(self, store: Store, robot: Path, home: Path) -> None:
        self.store, self.home = store, home
        loaded = load_robot(robot)
        self.old = asyncio.run(runs.start(loaded, store, {"lignes": 5})).run_id
        self.recent = asyncio.run(runs.start(loaded, store, {"lignes": 3})).run_id
        version = store.save_robot_version("purge-test", loaded.sha256, loaded.content)
        for run_id in ("queued-1", "running-1"):
            store.create_run(NewRun(id=run_id, robot="purge-test", version_id=version, robot_path=str(loaded.path),
                                    inputs={"lignes": 2}, process_name="Contrôle", service="DDETS 31",
                                    minutes_per_item=3, minutes_per_run=5))
        assert store.claim_run("running-1", "worker-1")
        self._age(self.old, started_at=_ago(41), finished_at=_ago(40))
        self._age("queued-1", started_at=_ago(60))
        self._age("running-1", started_at=_ago(60), heartbeat_at=_ago(60))
        fire = dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC)
        store.record_fire("quotidien", fire, FireStatus.LAUNCHED)
        store.update_fire("quotidien", fire, run_id=self.old)

    def _age(self, run_id: str, **columns: dt.datetime) -> None:
        assignments = ", ".join(f"{name} = :{name}" for name in columns)
        with self.store.engine.begin() as conn:
            conn.execute(text(f"UPDATE runs SET {assignments} WHERE id = :i"), {**columns, "i": run_id})

    def snapshot(self) -> dict[str, Any]:
        """Everything a purge could change, per run: row, items, events, files."""
        state: dict[str, Any] = {}
        for run_id in (self.old, self.recent, "queued-1", "running-1"):
            folder = self.home / "runs" / run_id
            state[run_id] = (self.store.get_run(run_id), self.store.items(run_id), self.store.events(run_id),
                             sorted(p.name for p in folder.rglob("*")) if folder.exists() else None)
        return state


@pytest.fixture
def made(store_url: str, robo_home: Path, tmp_path: Path) -> Iterator[Runs]:
    store = Store(store_url)
    folder = tmp_path / "purge-test"
    folder.mkdir()
    (folder / "robot.yaml").write_text(ROBOT, encoding="utf-8")
    yield Runs(store, folder, robo_home)
    store.close()


def _robo(*args: str) -> str:
    from robocore.cli import app as cli

    console = Console(width=250)
    cli.console = console
    from robocore.cli import cmd_purge

    cmd_purge.console = console
    result = CliRunner().invoke(cli.app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _reports() -> list[str]:
    return [_robo("report", "--by", by) for by in ("process", "service", "robot", "month")]


def test_purge_drops_the_detail_of_old_finished_runs_and_keeps_every_report_figure(made: Runs) -> None:
    """Only the run finished 40 days ago is purged: its inputs, step events and folder go; its row, items,
    ledger rows and schedule fire stay; `robo report` prints the same figures by every grouping."""
    store = made.store
    assert (made.home / "runs" / made.old / "log.jsonl").exists()
    assert store.events(made.old), "the robot records step events"
    reports, ledger, items, before = _reports(), store.ledger_rows(), store.items(made.old), made.snapshot()

    output = _robo("purge", "--older-than", "30")

    assert "1 exécution terminée depuis plus de 30 jours purgée" in output and "heures économisées conservées" in output
    assert _reports() == reports
    assert store.ledger_rows() == ledger and store.minutes_saved() == pytest.approx(2 * 5 + (4 + 2) * 3)
    old = store.get_run(made.old)
    assert old is not None and old.status is RunStatus.COMPLETED_WITH_ERRORS and old.inputs == {}
    assert store.items(made.old) == items
    assert [e.step for e in store.events(made.old)] == [PURGE_STEP] and store.is_purged(made.old)
    assert not (made.home / "runs" / made.old).exists()
    assert store.last_fire("quotidien").run_id == made.old  # type: ignore[union-attr]
    after = made.snapshot()
    for kept in (made.recent, "queued-1", "running-1"):
        assert after[kept] == before[kept], kept
        assert not store.is_purged(kept)


def test_a_second_purge_finds_nothing_and_a_purged_run_cannot_be_resumed(made: Runs) -> None:
    """A run is purged once (the second purge counts 0) and resuming it is refused, naming the purge."""
    _robo("purge", "--older-than", "30")
    assert "0 exécution terminée depuis plus de 30 jours purgée" in _robo("purge", "--older-than", "30")
    with pytest.raises(RobotDefinitionError, match="purgée"):
        asyncio.run(runs.execute(made.old, made.store))


def test_dry_run_counts_and_changes_nothing(made: Runs) -> None:
    """`--dry-run` prints what would go (1 run, its events, its files) and leaves store and files as they are."""
    before, reports = made.snapshot(), _reports()
    events = len(made.store.events(made.old))
    files = [p for p in (made.home / "runs" / made.old).rglob("*") if p.is_file()]
    assert files

    output = _robo("purge", "--older-than", "30", "--dry-run")

    plural = {True: "s", False: ""}
    assert (f"1 exécution terminée depuis plus de 30 jours serait purgée\u00a0: "
            f"{events} événement{plural[events > 1]}, {len(files)} fichier{plural[len(files) > 1]}") in output
    assert made.snapshot() == before and _reports() == reports
    assert not made.store.is_purged(made.old)


def test_nothing_is_old_enough_below_the_cutoff(made: Runs) -> None:
    """With a cutoff beyond the oldest run's end (50 days), nothing is purged."""
    before = made.snapshot()
    assert "0 exécution terminée depuis plus de 50 jours purgée" in _robo("purge", "--older-than", "50")
    assert made.snapshot() == before


def test_files_kept_in_the_database_storage_are_deleted_with_the_run(made: Runs,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """With ROBOCORE_STORAGE=database, the old run's stored files and log go; the recent run's stay."""
    from robocore.storage import open_run_files

    monkeypatch.setenv("ROBOCORE_STORAGE", "database")
    files = open_run_files(made.store)
    for run_id in (made.old, made.recent):
        files.put(run_id, "sorties/resultat.txt", b"12 lignes")
        files.append_log(run_id, ['{"event": "run.finished"}'])

    output = _robo("purge", "--older-than", "30")

    assert "1 exécution terminée" in output and "2 fichiers" in output
    assert files.list_files(made.old) == [] and files.read_log(made.old).lines == []
    assert [f.path for f in files.list_files(made.recent)] == ["log.jsonl", "sorties/resultat.txt"]
