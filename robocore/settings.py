"""Where Robocore keeps its data: ROBOCORE_HOME, the database URL, the robots folder."""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """The data folder (ROBOCORE_HOME, or the user's data directory)."""
    env = os.environ.get("ROBOCORE_HOME")
    if env:
        path = Path(env).expanduser()
    else:
        from platformdirs import user_data_path

        path = user_data_path("robocore", appauthor=False)
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    """ROBOCORE_DATABASE_URL, or the embedded SQLite file in the data folder."""
    return os.environ.get("ROBOCORE_DATABASE_URL") or f"sqlite:///{home() / 'robocore.db'}"


def robots_dir() -> Path:
    """ROBOCORE_ROBOTS, or ./robots."""
    return Path(os.environ.get("ROBOCORE_ROBOTS", "robots"))


def run_dir(run_id: str) -> Path:
    path = home() / "runs" / run_id
    path.mkdir(parents=True, exist_ok=True)
    return path
