"""robocore.cli.cmd_tray: `robo tray` options, before any window opens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from robocore.cli import cmd_tray


def app() -> typer.Typer:
    built = typer.Typer()
    cmd_tray.register(built)
    built.command("other")(lambda: None)  # two commands: `tray` stays a sub-command as in `robo`
    return built


def test_server_required() -> None:
    """Without --server the command explains what is missing and exits 2, without opening Qt."""
    result = CliRunner().invoke(app(), ["tray"])
    assert result.exit_code == 2 and "--server URL est obligatoire" in result.output


def test_local_starts_the_attended_tray_on_this_installs_robots(robo_home: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """--local: the robots folder `robo run` uses (ROBOCORE_ROBOTS), this install's store, no server, no token
    asked; with --server too, the server's client and an outbox for the reports."""
    robots = tmp_path / "robots"
    robots.mkdir()
    monkeypatch.setenv("ROBOCORE_ROBOTS", str(robots))
    started: list[dict[str, Any]] = []

    def run_attended(client: Any, queue: Any, prefs: Any, journal: Any, *, outbox: Any, server: Any) -> int:
        started.append({"robots": client.robots_dir, "queue": queue.path, "outbox": outbox, "server": server})
        return 0

    monkeypatch.setattr("robocore.tray.attended.run_attended", run_attended)
    monkeypatch.setattr(cmd_tray, "_quit_on_signals", lambda: None)
    result = CliRunner().invoke(app(), ["tray", "--local"])
    assert result.exit_code == 0, result.output
    assert started[0]["robots"] == robots and started[0]["server"] is None and started[0]["outbox"] is None
    assert started[0]["queue"].name == "tray-local.sqlite3"
    monkeypatch.setattr(cmd_tray, "_client", lambda server, stored, sign_in: f"client of {server}")
    result = CliRunner().invoke(app(), ["tray", "--local", "--server", "https://robocore.test/"])
    assert result.exit_code == 0, result.output
    assert started[1]["server"] == "client of https://robocore.test" and started[1]["outbox"] is not None


def test_local_says_when_the_robots_folder_is_missing(robo_home: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROBOCORE_ROBOTS", str(tmp_path / "nowhere"))
    monkeypatch.setattr("robocore.tray.attended.run_attended", lambda *a, **k: 0)
    monkeypatch.setattr(cmd_tray, "_quit_on_signals", lambda: None)
    result = CliRunner().invoke(app(), ["tray", "--local"])
    assert result.exit_code == 0 and "Pas de dossier de robots" in result.output


def test_help_lists_options() -> None:
    """The help shows --server, --token-from-keyring/--ask-token, --sign-in, --local and --lang."""
    result = CliRunner().invoke(app(), ["tray", "--help"], env={"COLUMNS": "200"})
    for option in ("--server", "--token-from-keyring", "--ask-token", "--sign-in", "--local", "--lang"):
        assert option in result.output
