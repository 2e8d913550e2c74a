"""Shared fixtures: an isolated Robocore home, and the store URLs (SQLite, PostgreSQL)."""

from __future__ import annotations

import os
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get("ROBOCORE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def need(available: bool, message: str) -> None:
    """Skip when something the test needs is missing; fail instead where it must be there (CI)."""
    if available:
        return
    if os.environ.get("ROBOCORE_REQUIRE_SERVICES"):
        pytest.fail(message)
    pytest.skip(message)


def need_service(name: str, host: str, port: int) -> None:
    """Skip (or fail in CI) when a service the test needs does not answer."""
    need(_answers(host, port), f"{name} ne répond pas sur {host}:{port} — lancez-le (voir shared/TESTING.md)")


def need_chromium() -> None:
    """Skip (or fail in CI) when no Chromium can be found (scripts/setup.sh installs Debian's)."""
    from robocore.actions._browser_session import find_chromium

    need(find_chromium() is not None, "Chromium absent — apt-get install chromium (scripts/setup.sh le fait)")


@pytest.fixture
def robo_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty ROBOCORE_HOME (store, runs, secrets) for one test."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("ROBOCORE_HOME", str(home))
    monkeypatch.delenv("ROBOCORE_DATABASE_URL", raising=False)
    return home


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards."""
    need_service("PostgreSQL", "127.0.0.1", 5432)
    from sqlalchemy import create_engine, text

    name = f"robocore_t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, robo_home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The same test against the embedded SQLite store and PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{robo_home / 'robocore.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    monkeypatch.setenv("ROBOCORE_DATABASE_URL", url)
    return url


def robo_cmd() -> list[str]:
    """How to call the `robo` CLI of this checkout."""
    return [str(Path(sys.executable).parent / "robo")]


@pytest.fixture
def ctx(tmp_path: Path) -> Any:
    """A run Context whose robot and run folders are the test's tmp folder (actions called directly)."""
    from robocore.context import Context

    return Context(run_id="t", robot="t", robot_dir=tmp_path, run_dir=tmp_path)
