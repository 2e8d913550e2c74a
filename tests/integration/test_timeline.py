"""A run's timeline: one step event per step execution (step, item, start, duration, status), written in
batches, shown by `robo logs RUN` and at the end of `robo run --debug`."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import pytest

from robocore import runs
from robocore.loader import load_robot
from robocore.statuses import StepStatus
from robocore.store import NewRun, Store
from robocore.timeline import Timeline, clock
from tests.conftest import robo_cmd

ROBOT = """\
robot: chrono
steps:
  - id: debut
    use: flow.log
    with: {message: début}
  - id: lot
    for_each: ["a", "b"]
    key: "{{ item }}"
    steps:
      - id: ecrire
        use: flow.log
        with: {message: "{{ item }}"}
      - id: pause
        use: flow.wait
        when: "{{ item == 'a' }}"
        with: {seconds: 0.2}
      - id: tolere
        use: flow.fail
        continue_on_error: true
        with: {message: "toléré {{ item }}"}
      - id: refuse
        use: flow.fail
        when: "{{ item == 'b' }}"
        with: {message: "refusé {{ item }}"}
"""
MANY = """\
robot: chrono-long
steps:
  - for_each: "{{ range(110) | list }}"
    key: "n{{ item }}"
    steps:
      - use: flow.log
        with: {message: "{{ item }}"}
      - id: second
        use: flow.log
        with: {message: "encore {{ item }}"}
"""


def _robot(tmp_path: Path, text: str = ROBOT) -> Path:
    folder = tmp_path / "robot"
    folder.mkdir()
    (folder / "robot.yaml").write_text(text, encoding="utf-8")
    return folder


def test_every_step_execution_is_an_event_with_its_item_start_duration_and_status(
        store_url: str, tmp_path: Path) -> None:
    """Executed steps only (a skipped one is not), failures with their error, `at` the start, durations real."""
    store = Store(store_url)
    result = asyncio.run(runs.start(load_robot(_robot(tmp_path)), store, {}))
    events = store.events(result.run_id)
    store.close()
    got = [(e.item_key, e.step, e.status, e.message) for e in events]
    assert [g for g in got if g[0] == "a"] == [("a", "ecrire", StepStatus.DONE, None),
                                               ("a", "pause", StepStatus.DONE, None),
                                               ("a", "tolere", StepStatus.FAILED, "toléré a")]
    assert [g for g in got if g[0] == "b"] == [("b", "ecrire", StepStatus.DONE, None),
                                               ("b", "tolere", StepStatus.FAILED, "toléré b"),
                                               ("b", "refuse", StepStatus.FAILED, "refusé b")]
    assert [g for g in got if g[0] is None] == [(None, "debut", StepStatus.DONE, None),
                                                (None, "lot", StepStatus.DONE, None)]
    by = {(e.item_key, e.step): e for e in events}
    assert by[("a", "pause")].duration_ms >= 200
    assert by[("a", "pause")].at < by[("a", "tolere")].at  # `at` is when each started
    assert by[(None, "lot")].at <= by[("a", "ecrire")].at  # the loop started before its first item
    assert by[(None, "debut")].at <= by[(None, "lot")].at
    assert len(events) == 8


def test_events_are_written_in_batches_and_on_flush(tmp_path: Path) -> None:
    """Pending events reach the store every `batch` events, and all of them on flush()."""
    store = Store(f"sqlite:///{tmp_path / 'robocore.db'}")
    version = store.save_robot_version("r", "0" * 64, "robot: r")
    store.create_run(NewRun(id="run-1", robot="r", version_id=version, robot_path="/robots/r/robot.yaml",
                            inputs={}, process_name=None, service=None, minutes_per_item=1.0,
                            minutes_per_run=0.0, trigger="cli", queue=None))
    timeline = Timeline(store, "run-1", batch=2, every_s=3600)
    for n in range(3):
        timeline.record(f"etape{n}", "k", clock(), StepStatus.DONE)
    assert [e.step for e in store.events("run-1")] == ["etape0", "etape1"]
    timeline.flush()
    assert [e.step for e in store.events("run-1")] == ["etape0", "etape1", "etape2"]
    store.close()


def _robo(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROBOCORE_")}
    env.update(ROBOCORE_HOME=str(home), ROBOCORE_LANGUAGE="fr", COLUMNS="200")
    return subprocess.run([*robo_cmd(), *args], capture_output=True, text=True, env=env, timeout=120)


def _run_id(home: Path) -> str:
    (run,) = (home / "runs").iterdir()
    return run.name


def test_robo_run_debug_prints_the_timeline_at_the_end_and_robo_logs_shows_it(tmp_path: Path) -> None:
    """`--debug` ends with the timeline and the time per step; without it, no timeline; `robo logs` shows it."""
    home = tmp_path / "home"
    robot = _robot(tmp_path)
    plain = _robo(home, "run", str(robot), "-q")
    assert plain.returncode == 0, plain.stderr
    assert "Chronologie" not in plain.stdout
    debug = _robo(home / "2", "run", str(robot), "-q", "--debug")
    assert debug.returncode == 0, debug.stderr
    summary, _sep, timeline = debug.stdout.partition("Chronologie")
    assert "Exécution" in summary and timeline, debug.stdout  # after the run's summary
    for text in ("Début", "Étape", "Élément", "Durée", "debut", "ecrire", "refusé b", "en échec", "faite",
                 "Temps par étape"):
        assert text in timeline, text
    rows = [line for line in timeline.splitlines() if "│ ecrire " in line]
    assert len(rows) == 3 and "│ a " in rows[0] and "│ b " in rows[1]  # two executions, then its per-step total
    logs = _robo(home / "2", "logs", _run_id(home / "2")[:6])
    assert logs.returncode == 0, logs.stderr
    log_part, _sep, shown = logs.stdout.partition("Chronologie")
    assert "run.started" in log_part and "refusé b" in shown and "Temps par étape" in shown


def test_robo_logs_shows_the_first_200_step_executions_unless_all(tmp_path: Path) -> None:
    """A long timeline is cut at 200 rows with the count of the others; `--all` shows every one."""
    home = tmp_path / "home"
    assert _robo(home, "run", str(_robot(tmp_path, MANY)), "-q").returncode == 0
    run_id = _run_id(home)
    short = _robo(home, "logs", run_id)
    # 110 items × 2 steps + the loop itself = 221 executions
    assert "… et 21 autres étapes (robo logs RUN_ID --all)" in short.stdout
    full = _robo(home, "logs", run_id, "--all")
    assert "autres étapes" not in full.stdout
    assert sum(1 for line in full.stdout.splitlines() if "│ second " in line) == 110 + 1
    assert sum(1 for line in short.stdout.splitlines() if "│ second " in line) < 110


@pytest.mark.parametrize("lang", ["en"])
def test_timeline_reads_in_english(tmp_path: Path, lang: str) -> None:
    """In English: English headers, a decimal point."""
    home = tmp_path / "home"
    _robo(home, "run", str(_robot(tmp_path)), "-q")
    shown = _robo(home, "--lang", lang, "logs", _run_id(home)).stdout
    assert "Timeline" in shown and "Time per step" in shown and "failed" in shown
    assert " s │" in shown and "0." in shown
