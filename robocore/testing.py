"""Testing robots with pytest: the `robocore.testing` plugin (installed with Robocore).

A lab engineer tests a robot as its users run it: in an empty Robocore home, with given inputs
and secrets, against the demo portal or pages recorded from the real site, then looks at what
it did — its items, its steps' outputs, the hours it entered in the ledger::

    def test_enters_every_request(run_robot, demo_portal):
        run = run_robot("robots/saisie-demandes", inputs={"portail": demo_portal.url},
                        secrets={"compte_portail": demo_portal.account})
        assert run.ok
        assert run.count("done") == 49
        assert run.minutes_saved == 49 * 6 + 5

Fixtures (pytest finds them through the `pytest11` entry point; nothing to import):

- `robot_home`: an empty ROBOCORE_HOME (SQLite store, run folders) for one test;
- `run_robot`: a `RobotRunner`; `run_robot(robot, inputs=..., secrets=...)` runs the robot in
  this process and returns a `RobotRun` (`resume(run_id)` finishes an interrupted one);
- `demo_portal`: the bundled demo portal on a free port, with its account and its database;
- `recorded_pages`: serves a folder of saved HTML pages (`recorded_pages(folder)` → its URL).

Module imports stay light: pytest loads this plugin in every session of a project that has
Robocore installed; the engine, the store and the browser are imported when a fixture is used.
"""

from __future__ import annotations

import asyncio
import functools
import http.server
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from robocore.engine import RunResult
    from robocore.ledger import LedgerRow
    from robocore.store.rows import Item

__all__ = ["DemoPortal", "RobotRun", "RobotRunner", "demo_portal", "recorded_pages", "robot_home", "run_robot"]

#: How long a recorded page's server waits on a silent client before dropping it.
PAGE_SERVER_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class RobotRun:
    """What one run did: its outcome, items, the outputs of its run-level steps and its ledger."""

    result: RunResult
    items: list[Item]
    ledger: list[LedgerRow]
    run_dir: Path
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        return self.result.run_id

    @property
    def ok(self) -> bool:
        """The run succeeded (every item done or skipped as the robot says)."""
        return self.result.ok

    @property
    def status(self) -> str:
        """`succeeded`, `failed`, `cancelled`... as `robo runs` shows it."""
        return self.result.status.value

    @property
    def error(self) -> str | None:
        return self.result.error

    @property
    def minutes_saved(self) -> float:
        """The minutes the ledger holds for this run (done items and the run's fixed minutes)."""
        return sum(row.entry.minutes for row in self.ledger)

    def count(self, status: str) -> int:
        """How many items ended with `status` (`done`, `business_error`, `application_error`...)."""
        return sum(1 for item in self.items if item.status.value == status)

    def item(self, key: str) -> Item:
        """The item with this durable key; KeyError listing the keys when there is none."""
        for found in self.items:
            if found.key == key:
                return found
        raise KeyError(f"no item {key!r} in run {self.run_id}; keys: {[i.key for i in self.items][:20]}")

    def log(self) -> list[dict[str, Any]]:
        """The run's log lines (log.jsonl), as dictionaries."""
        import json

        path = self.run_dir / "log.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class RobotRunner:
    """Runs robots in this process against the test's Robocore home (see `run_robot`)."""

    def __init__(self, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.home = home
        self._monkeypatch = monkeypatch

    def __call__(self, robot: str | Path, inputs: Mapping[str, Any] | None = None,
                 secrets: Mapping[str, Mapping[str, str]] | None = None, *, headed: bool = False,
                 trace: bool = False, timeout_ms: int | None = None) -> RobotRun:
        """Run a robot (folder, robot.yaml, or a name in ROBOCORE_ROBOTS) to its end.

        Args:
            inputs: the robot's inputs, as `robo run -i name=value` gives them (a relative file
                path resolves against the robot's folder, as a default written in the robot does).
            secrets: {secret: {field: value}}, given to the run as ROBOCORE_SECRET_* variables for
                this test only.
            timeout_ms: the browser actions' timeout; the robot's own by default.
        """
        from robocore import runs
        from robocore.context import RunSettings
        from robocore.loader import find_robot, load_robot
        from robocore.settings import robots_dir

        self._give(secrets or {})
        loaded = load_robot(find_robot(str(robot), robots_dir()))
        settings = RunSettings(headed=headed, trace=trace, timeout_ms=timeout_ms or loaded.spec.timeout_ms)
        store = self._store()
        try:
            result = asyncio.run(runs.start(loaded, store, dict(inputs or {}), run_settings=settings))
            return self._collect(store, result)
        finally:
            store.close()

    def resume(self, run_id: str, secrets: Mapping[str, Mapping[str, str]] | None = None) -> RobotRun:
        """Finish an interrupted or failed run, as `robo resume` does (done items are not redone)."""
        from robocore import runs

        self._give(secrets or {})
        store = self._store()
        try:
            return self._collect(store, asyncio.run(runs.resume(run_id, store)))
        finally:
            store.close()

    def _give(self, secrets: Mapping[str, Mapping[str, str]]) -> None:
        from robocore.secrets import env_var

        for name, fields in secrets.items():
            for key, value in fields.items():
                self._monkeypatch.setenv(env_var(name, key), value)

    def _store(self) -> Any:
        from robocore import settings
        from robocore.store import Store

        return Store(settings.database_url())

    @staticmethod
    def _collect(store: Any, result: RunResult) -> RobotRun:
        from robocore import settings

        ledger = [row for row in store.ledger_rows() if row.run_id == result.run_id]
        return RobotRun(result=result, items=list(store.items(result.run_id)), ledger=ledger,
                        run_dir=settings.run_dir(result.run_id), outputs=dict(result.outputs))


@dataclass(frozen=True)
class DemoPortal:
    """The demo portal of a test: its address, the agent's account, its database (SQLite)."""

    url: str
    username: str
    password: str
    database: Path

    @property
    def account(self) -> dict[str, str]:
        """The account as a secret's fields: `secrets={"compte_portail": demo_portal.account}`."""
        return {"username": self.username, "password": self.password}

    def requests(self) -> list[dict[str, Any]]:
        """The requests (demandes) registered in the portal, oldest first."""
        from robocore.demo import list_demandes

        return list_demandes(self.database)


@pytest.fixture
def robot_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty ROBOCORE_HOME for one test: its own SQLite store, run folders and secrets file."""
    home = tmp_path / "robocore-home"
    home.mkdir()
    monkeypatch.setenv("ROBOCORE_HOME", str(home))
    monkeypatch.delenv("ROBOCORE_DATABASE_URL", raising=False)
    return home


@pytest.fixture
def run_robot(robot_home: Path, monkeypatch: pytest.MonkeyPatch) -> RobotRunner:
    """Run a robot in the test's home: `run_robot("robots/mon-robot", inputs={...}, secrets={...})`."""
    return RobotRunner(robot_home, monkeypatch)


@pytest.fixture
def demo_portal(tmp_path: Path) -> Iterator[DemoPortal]:
    """The bundled demo portal on a free local port, with an empty database of its own."""
    from robocore.demo import PortalConfig, run_portal

    config = PortalConfig(data_dir=tmp_path / "demo-portal")
    with run_portal(config) as url:
        yield DemoPortal(url=url, username=config.username, password=config.password, database=config.database)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    timeout = PAGE_SERVER_TIMEOUT_S  # a client that sends nothing does not hold a thread forever

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Nothing on stderr: pytest shows the test's own output."""


@pytest.fixture
def recorded_pages() -> Iterator[Any]:
    """Serve saved pages: `url = recorded_pages(Path(__file__).parent / "pages")` then
    `f"{url}/formulaire.html"`. Each folder is served read-only on its own free local port."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def serve(folder: str | Path) -> str:
        root = Path(folder).resolve()
        if not root.is_dir():
            raise FileNotFoundError(f"recorded_pages: no such folder: {root}")
        handler = functools.partial(_QuietHandler, directory=str(root))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, name=f"pages:{root.name}", daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Import pydantic's field machinery before a Qt binding may be loaded (pytest-qt loads one in its own
    pytest_configure): PySide6's import hook inspects each module imported after it, and pydantic's lazy
    attributes answer that inspection with a circular import when first imported under the hook."""
    import pydantic.fields  # noqa: F401
