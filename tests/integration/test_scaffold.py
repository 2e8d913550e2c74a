"""`robo new robot`: a folder that validates, runs, and carries a passing test of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from robocore.loader import load_robot
from tests.conftest import robo_cmd


def _new(tmp_path: Path, name: str = "mon-robot") -> Path:
    done = subprocess.run([*robo_cmd(), "new", "robot", name, "--folder", str(tmp_path)], capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, ROBOCORE_HOME=str(tmp_path / "home")))
    assert done.returncode == 0, done.stderr
    return tmp_path / name


def _pytest(folder: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder / "tests")],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)


def test_the_schema_it_points_at_exists_and_names_the_actions(tmp_path: Path) -> None:
    folder = _new(tmp_path)
    first_line = (folder / "robot.yaml").read_text(encoding="utf-8").splitlines()[0]
    target = (folder / first_line.split("$schema=", 1)[1]).resolve()
    assert target == (tmp_path / "robot.schema.json").resolve()
    schema = json.loads(target.read_text(encoding="utf-8"))
    actions = schema["$defs"]["ActionStep"]["properties"]["use"]["enum"]
    assert "files.list" in actions and "browser.fill" in actions
    load_robot(folder)  # validates as created


def test_its_generated_test_uses_robocore_testing_and_passes_then_fails_when_the_robot_changes(
        tmp_path: Path) -> None:
    folder = _new(tmp_path)
    test_file = folder / "tests" / "test_mon_robot.py"
    assert "run_robot" in test_file.read_text(encoding="utf-8")
    passed = _pytest(folder, tmp_path)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "1 passed" in passed.stdout

    robot = folder / "robot.yaml"
    robot.write_text(robot.read_text(encoding="utf-8").replace("manual_minutes_per_item: 2",
                                                               "manual_minutes_per_item: 3"), encoding="utf-8")
    failed = _pytest(folder, tmp_path)
    assert failed.returncode == 1 and "1 failed" in failed.stdout


def test_an_existing_schema_is_kept(tmp_path: Path) -> None:
    (tmp_path / "robot.schema.json").write_text("{}", encoding="utf-8")
    _new(tmp_path)
    assert (tmp_path / "robot.schema.json").read_text(encoding="utf-8") == "{}"
