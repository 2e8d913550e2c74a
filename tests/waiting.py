"""Polling with a deadline, for tests that watch other processes or threads."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_until(condition: Callable[[], Any], timeout: float, every: float = 0.1) -> bool:
    """Poll `condition` until it is true or `timeout` seconds pass; its last value as a bool."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return bool(condition())
