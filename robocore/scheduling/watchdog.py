"""What tells a scheduling leader that it cannot make progress: work (a fire's launch, a sweep) that has
gone on longer than a bound derived from the timeouts, seen from the leader's own loop thread."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager


def stall_seconds() -> float:
    """How long one fire's launch or one sweep may take before the leader gives the lead up.

    A launch waits at most ROBOCORE_SUBMIT_TIMEOUT on the executor and a few store statements, each
    connection bounded by ROBOCORE_DATABASE_TIMEOUT: twice both is a launch that will not end by itself.
    """
    from robocore.settings import get_settings

    current = get_settings()
    return 2 * (current.submit_timeout + current.database_timeout)


def leader_identity() -> tuple[str, str, int]:
    """(owner, host, pid) of this process as a scheduling leader (the owner is unique per service)."""
    host, pid = socket.gethostname(), os.getpid()
    return f"{host}:{pid}:{uuid.uuid4().hex[:8]}", host, pid


class Watchdog:
    """The work in progress of a service, by thread, with its start time (thread-safe)."""

    def __init__(self) -> None:
        self._busy: dict[int, tuple[str, str, float]] = {}
        self._lock = threading.Lock()

    @contextmanager
    def working(self, what: str, what_en: str) -> Iterator[None]:
        """Count the enclosed block as work in progress, named in French and English."""
        key = threading.get_ident()
        with self._lock:
            outer = self._busy.get(key)
            if outer is None:
                self._busy[key] = (what, what_en, time.monotonic())
        try:
            yield
        finally:
            if outer is None:
                with self._lock:
                    self._busy.pop(key, None)

    def stalled(self, bound: float) -> str | None:
        """A description of the oldest work going on for longer than `bound` seconds, else None."""
        now = time.monotonic()
        with self._lock:
            oldest = min(self._busy.values(), key=lambda busy: busy[2], default=None)
        if oldest is None or now - oldest[2] <= bound:
            return None
        age = now - oldest[2]
        return f"{oldest[0]} bloqué depuis {age:.0f} s / {oldest[1]} stuck for {age:.0f} s"
