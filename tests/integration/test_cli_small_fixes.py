"""The CLI's small ones (issue 13, point 8): file inputs from the current folder, `robo resume -v`, whole tables."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from robocore import runs, settings
from robocore.cli.summary import print_result, print_runs
from robocore.engine import RunResult
from robocore.loader import load_robot
from robocore.statuses import RunStatus
from robocore.store import Store
from tests.integration.api_support import workbook

NAME = "lecture-classeur-de-la-direction-departementale-de-l-emploi-du-travail-et-des-solidarites"
ROBOT = f"""\
robot: {NAME}
title: Lecture d'un classeur
process: {{name: Contrôle des listes, service: DDETS Test, manual_minutes_per_item: 2}}
inputs:
  classeur: {{type: file, accept: [.xlsx], label: Classeur à contrôler, default: data/modele.xlsx}}
steps:
  - id: lignes
    use: excel.read_table
    with: {{path: "{{{{ inputs.classeur }}}}"}}
  - for_each: "{{{{ steps.lignes.rows }}}}"
    as: ligne
    key: "{{{{ ligne['numero'] }}}}"
    steps:
      - use: flow.log
        with: {{message: "Ligne {{{{ ligne['numero'] }}}}"}}
"""


@pytest.fixture
def place(robo_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A robot (its default workbook of 2 rows in its own data/ folder) and, elsewhere, the user's folder."""
    monkeypatch.delenv("ROBOCORE_LANGUAGE", raising=False)
    robot = tmp_path / "robots" / "lecture"
    (robot / "data").mkdir(parents=True)
    (robot / "robot.yaml").write_text(ROBOT, encoding="utf-8")
    workbook(robot / "data" / "modele.xlsx", rows=2)
    here = tmp_path / "bureau"
    (here / "data").mkdir(parents=True)
    return robot, here


def _robo(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`robo ARGS` typed in `cwd`, output not a terminal, 80 columns."""
    env = {**os.environ, "COLUMNS": "80"}
    return subprocess.run([sys.executable, "-c", "from robocore.cli import main; main()", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_a_relative_file_input_is_read_from_where_the_command_is_typed(place: tuple[Path, Path]) -> None:
    """-i classeur=data/a.xlsx is the user's data/a.xlsx (outside the robot's folder, admitted by the path
    policy as the run's input); without -i the robot's default stays relative to the robot's folder."""
    robot, here = place
    workbook(here / "data" / "a.xlsx", rows=3)

    given = _robo(here, "run", str(robot), "-i", "classeur=data/a.xlsx", "--quiet")
    default = _robo(here, "run", str(robot), "--quiet")
    absent = _robo(here, "run", str(robot), "-i", "classeur=data/modele.xlsx", "--quiet")

    assert given.returncode == 0, given.stdout + given.stderr
    assert "3 faits" in given.stdout
    assert default.returncode == 0, default.stdout + default.stderr
    assert "2 faits" in default.stdout
    assert absent.returncode == 1
    assert "fichier introuvable" in absent.stderr and str(here / "data" / "modele.xlsx") in absent.stderr


def test_resume_takes_verbose_and_debug(place: tuple[Path, Path]) -> None:
    """`robo resume RUN -v` shows the run's info events as `robo run -v` does; without -v they are not shown."""
    robot, here = place
    store = Store(settings.database_url())
    loaded = load_robot(robot)
    first, second = (runs.prepare(loaded, store, {}) for _ in range(2))
    store.close()

    verbose = _robo(here, "resume", first, "-v", "--quiet")
    quiet = _robo(here, "resume", second, "--quiet")

    assert verbose.returncode == 0, verbose.stdout + verbose.stderr
    assert "run.started" in verbose.stderr and "2 faits" in verbose.stdout
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert "run.started" not in quiet.stderr
    debug = _robo(here, "resume", "--help")
    assert "--debug" in debug.stdout and "--verbose" in debug.stdout


def test_runs_are_listed_whole(place: tuple[Path, Path]) -> None:
    """`robo runs` into a pipe: one line per run with its id and robot whole; in an 80-column terminal the
    cells wrap, never end in "…", and the id stays on one line."""
    robot, here = place
    assert _robo(here, "run", str(robot), "--quiet").returncode == 0

    piped = _robo(here, "runs")

    assert piped.returncode == 0, piped.stderr
    store = Store(settings.database_url())
    try:
        (run,) = store.list_runs(limit=5)
        assert "…" not in piped.stdout
        assert any(run.id in line and NAME in line for line in piped.stdout.splitlines()), piped.stdout
        terminal = Console(file=io.StringIO(), force_terminal=True, width=80, color_system=None)
        print_runs(terminal, store, 20, None)
    finally:
        store.close()
    shown = terminal.file.getvalue()  # type: ignore[attr-defined]
    assert "…" not in shown and run.id in shown and max(map(len, shown.splitlines())) <= 80


def test_the_error_of_a_run_is_shown_whole() -> None:
    """A long error path in the run summary wraps in a terminal (no "…") and stays on one line in a file."""
    path = "/srv/robocore/donnees/" + "/".join(f"dossier-numero-{n}" for n in range(12)) + "/classeur.xlsx"
    result = RunResult(run_id="abc123", robot="lecture", status=RunStatus.FAILED,
                       error=f"fichier introuvable {path}")
    terminal = Console(file=io.StringIO(), force_terminal=True, width=80, color_system=None)
    piped = Console(file=io.StringIO(), width=80)

    print_result(terminal, result)
    print_result(piped, result)

    wrapped = terminal.file.getvalue()  # type: ignore[attr-defined]
    assert "…" not in wrapped and max(map(len, wrapped.splitlines())) <= 80
    assert path in "".join(wrapped.replace("│", " ").split())
    assert path in piped.file.getvalue()  # type: ignore[attr-defined]


def test_robo_list_shows_a_broken_robot_s_whole_error(place: tuple[Path, Path]) -> None:
    """`robo list` gives a broken robot's error whole (file:line:column and the cause), not its first 80 characters."""
    robot, here = place
    broken = robot.parent / ("robot-casse-" + "tres-long-" * 8)
    broken.mkdir()
    (broken / "robot.yaml").write_text("robot: casse\nsteps:\n  - use: excel.inconnue\n", encoding="utf-8")
    env = {**os.environ, "COLUMNS": "80", "ROBOCORE_ROBOTS": str(robot.parent)}

    done = subprocess.run([sys.executable, "-c", "from robocore.cli import main; main()", "list"], cwd=here, env=env,
                          capture_output=True, text=True, timeout=60, check=False)

    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if "excel.inconnue" in line)
    assert f"{broken / 'robot.yaml'}:3:" in line and "…" not in done.stdout
    assert "valide" in done.stdout
