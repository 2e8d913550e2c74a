"""Settings of the demo portal."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from robocore.settings import get_settings

DEFAULT_USERNAME = "agent.demo"
DEFAULT_PASSWORD = "demo-portail-2026"
DEFAULT_PORT = 8765
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


def default_data_dir() -> Path:
    """<ROBOCORE_HOME or the user data dir>/demo-portail."""
    home = get_settings().home or platformdirs.user_data_dir("robocore")
    return Path(home) / "demo-portail"


@dataclass(frozen=True)
class PortalConfig:
    """How one portal instance behaves; the defaults suit tests (fast, stable ids)."""

    data_dir: Path = field(default_factory=default_data_dir)
    db_path: Path | None = None  # None: <data_dir>/portail.sqlite3
    username: str = DEFAULT_USERNAME
    password: str = DEFAULT_PASSWORD
    # A fresh key per process: sessions do not survive a restart, which suits a demo.
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    slow_rate: float = 0.0  # probability that a form POST is delayed
    slow_ms: int = 0  # delay applied to such a POST
    shuffle: bool = False  # random field ids/names and order on each load of the form
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    session_max_age_s: int = 8 * 3600
    seed: int | None = None  # makes slowness and shuffling reproducible

    def __post_init__(self) -> None:
        """Validate ranges early so a bad setting fails at start-up, not on a request."""
        if not 0.0 <= self.slow_rate <= 1.0:
            raise ValueError(f"slow_rate must be within [0, 1], got {self.slow_rate}")
        if self.slow_ms < 0:
            raise ValueError(f"slow_ms must be >= 0, got {self.slow_ms}")
        if self.max_upload_bytes <= 0:
            raise ValueError("max_upload_bytes must be > 0")

    @classmethod
    def demo(cls, **overrides: object) -> PortalConfig:
        """The settings of `robo demo portal`: a modest, realistic slowness."""
        values: dict[str, object] = {"slow_rate": 0.1, "slow_ms": 800}
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    @property
    def database(self) -> Path:
        """The SQLite file actually used."""
        return self.db_path if self.db_path is not None else self.data_dir / "portail.sqlite3"

    @property
    def uploads_dir(self) -> Path:
        """Where uploaded supporting documents are kept."""
        return self.data_dir / "pieces"
