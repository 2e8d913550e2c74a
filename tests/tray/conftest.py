"""The tray's tests: Qt without a screen (offscreen), private folders for its files, French messages."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any Qt import (pytest-qt creates the app)

from tests.tray.fake_server import FakeServer  # noqa: E402


@pytest.fixture(autouse=True)
def tray_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """platformdirs' data and config folders inside the test's folder; French messages."""
    home = tmp_path / "user"
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("ROBOCORE_LANGUAGE", "fr")
    return home


@pytest.fixture
def server() -> Iterator[FakeServer]:
    """A small in-process Robocore API (httpx transport) honouring idempotency keys."""
    yield FakeServer()
