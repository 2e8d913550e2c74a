"""What every route shares: the store, the robots, the token verifier, the scheduler and executor."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from fastapi import Request

from robocore import dispatch
from robocore.executors.base import Executor, get_executor
from robocore.server.auth import Verifier
from robocore.server.catalog import Catalog
from robocore.settings import get_settings
from robocore.storage import RunFiles, open_run_files
from robocore.store import Store


class Scheduler(Protocol):
    """The scheduler service as the API drives it."""

    def list_schedules(self) -> list[Any]: ...

    def set_enabled(self, name: str, enabled: bool) -> Any: ...

    def run_now(self, name: str) -> str: ...


def upload_limit_bytes() -> int:
    """ROBOCORE_UPLOAD_MAX_MB (default 20): the most one launch may upload, all files together."""
    return int(get_settings().upload_max_mb * 1024 * 1024)


@dataclass
class ServerState:
    """Shared by the routes of one app."""

    store: Store
    catalog: Catalog
    verifier: Verifier
    scheduler: Scheduler | None = None
    executor: Executor | None = None
    upload_max_bytes: int = field(default_factory=upload_limit_bytes)
    stopping: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _run_files: RunFiles | None = None

    def get_executor(self) -> Executor:
        """The executor given to create_app, else the configured one (ROBOCORE_EXECUTOR), made once."""
        with self._lock:
            if self.executor is None:
                self.executor = get_executor(dispatch.executor_name())
            return self.executor

    def runs_root(self) -> Path:
        """This server's own run folders (`<ROBOCORE_HOME>/runs`): where uploads are received before they
        are stored; what a run produced is read through `run_files()`, wherever its worker ran."""
        from robocore import settings

        return settings.home() / "runs"

    def run_files(self) -> RunFiles:
        """The runs' files and logs as every process of the deployment sees them (ROBOCORE_STORAGE), made once."""
        with self._lock:
            if self._run_files is None:
                self._run_files = open_run_files(self.store)
            return self._run_files


async def server_state(request: Request) -> ServerState:
    """The app's shared state (async: no thread hop for a plain attribute)."""
    return request.app.state.robocore
