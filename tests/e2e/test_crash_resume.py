"""Crash safety: `kill -9` during `robo run`, then `robo resume`: every item exactly once."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import robo_cmd

ROBOT = Path(__file__).parents[1] / "integration" / "robots" / "crash200"
pytestmark = pytest.mark.e2e


def _wait_lines(path: Path, count: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and len(path.read_text().splitlines()) >= count:
            return
        if proc.poll() is not None:
            stderr = proc.stderr.read().decode() if proc.stderr else ""
            raise AssertionError(f"robo run ended before the kill: {stderr}")
        time.sleep(0.02)
    raise AssertionError("the robot did not progress")


def test_kill_nine_then_resume_does_every_item_exactly_once(store_url: str, tmp_path: Path) -> None:
    """A robot killed with SIGKILL mid-run and resumed does each of its 200 items exactly once."""
    robot = tmp_path / "crash200"
    shutil.copytree(ROBOT, robot)
    journal = robot / "journal.txt"
    env = dict(os.environ)
    proc = subprocess.Popen([*robo_cmd(), "run", str(robot), "-q", "-i", f"journal={journal}", "-i", "pause=0.02"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_lines(journal, 60, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    before = journal.read_text().splitlines()
    assert 60 <= len(before) < 200, "the kill must happen while items are being processed"

    engine = create_engine(store_url)
    with engine.connect() as conn:
        run_id, status = conn.execute(text("SELECT id, status FROM runs")).one()
        done_before = conn.execute(text("SELECT count(*) FROM items WHERE status = 'done'")).scalar_one()
    assert status == "running" and done_before < 200

    resumed = subprocess.run([*robo_cmd(), "resume", run_id, "-q"], env=env, capture_output=True, timeout=180)
    assert resumed.returncode == 0, resumed.stderr.decode()

    lines = journal.read_text().splitlines()
    assert sorted(lines) == sorted(f"E{n}" for n in range(200)), "each side effect exactly once"
    with engine.connect() as conn:
        statuses = dict(conn.execute(text("SELECT status, count(*) FROM items GROUP BY status")).all())
        minutes = conn.execute(text("SELECT sum(minutes) FROM ledger")).scalar_one()
        item_rows = conn.execute(text("SELECT count(*) FROM ledger WHERE kind = 'item'")).scalar_one()
        final = conn.execute(text("SELECT status FROM runs")).scalar_one()
    engine.dispose()
    assert statuses == {"done": 200}
    assert item_rows == 200
    assert minutes == pytest.approx(200 * 2 + 3)
    assert final == "succeeded"
