"""Helpers shared by the API tests: robots, a workbook, a recording executor, a live uvicorn."""

from __future__ import annotations

import asyncio
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROBOTS = Path(__file__).parent / "robots"
WORKBOOK_ROBOT = """\
robot: lecture-classeur
title: Lecture d'un classeur
process: {name: Contrôle des listes, service: DDETS Test, manual_minutes_per_item: 2}
inputs:
  classeur: {type: file, accept: [.xlsx], label: Classeur à contrôler}
  commentaire: {type: text, required: false, label: Commentaire}
steps:
  - id: lignes
    use: excel.read_table
    with: {path: "{{ inputs.classeur }}"}
  - for_each: "{{ steps.lignes.rows }}"
    as: ligne
    key: "{{ ligne['numero'] }}"
    steps:
      - use: flow.log
        with: {message: "Ligne {{ ligne['numero'] }}"}
"""


class FakeExecutor:
    """Records submissions only (nothing executes)."""

    name = "fake"

    def __init__(self) -> None:
        self.submitted: list[tuple[str, str | None]] = []
        self._lock = threading.Lock()

    def submit(self, run_id: str, queue: str | None = None) -> None:
        with self._lock:
            self.submitted.append((run_id, queue))

    def shutdown(self, wait: bool = True) -> None:
        """Nothing to stop."""


def robots_folder(root: Path) -> Path:
    """A robots folder with `lot-50` (a number input) and `lecture-classeur` (a workbook input)."""
    folder = root / "robots"
    shutil.copytree(ROBOTS / "lot50", folder / "lot50")
    (folder / "lecture-classeur").mkdir(parents=True)
    (folder / "lecture-classeur" / "robot.yaml").write_text(WORKBOOK_ROBOT, encoding="utf-8")
    return folder


def workbook(path: Path, rows: int = 3) -> Path:
    """A small .xlsx with a Numéro column."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Numéro", "Nom"])
    for n in range(1, rows + 1):
        ws.append([f"N-{n}", f"Dossier {n}"])
    wb.save(path)
    return path


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def execute(run_id: str, store: Any) -> None:
    """Execute a recorded run in this process, as an executor would (its log.jsonl written)."""
    from robocore import runs
    from robocore.logging import configure

    configure("pretty", "warning")

    asyncio.run(runs.execute(run_id, store))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """Serve the app with a real uvicorn on a free loopback port (in a thread); yields its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on", timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
