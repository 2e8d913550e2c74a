"""A run's lease: a thread renews its heartbeat and notices cancellation requests.

A thread, not an asyncio task: a long synchronous action (reading a huge workbook) must not
let the lease expire while the run is alive.
"""

from __future__ import annotations

import threading
from types import TracebackType

import structlog

from robocore.store import HEARTBEAT_SECONDS, Store

log = structlog.get_logger("robocore.heartbeat")


class Heartbeat:
    """Context manager renewing the lease of `run_id` every few seconds."""

    def __init__(self, store: Store, run_id: str, owner: str, cancel: threading.Event,
                 every: float = HEARTBEAT_SECONDS) -> None:
        self.store, self.run_id, self.owner, self.cancel, self.every = store, run_id, owner, cancel, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{run_id}", daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(self.every):
            try:
                if self.store.heartbeat(self.run_id, self.owner):
                    self.cancel.set()
            except Exception as exc:  # a database hiccup must not kill the run; the next beat retries
                log.warning("heartbeat.failed", error=str(exc))

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(timeout=self.every + 5)
