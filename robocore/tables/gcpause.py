"""Pausing Python's cyclic garbage collector while a table is built.

Building 100,000 rows allocates hundreds of thousands of containers; each 700
allocations start a collection that walks the young objects, and the older
generations are walked again and again as the table grows. Measured on a
100,000-row sheet: building the rows takes 0.27 s with the collector, 0.09 s
without. The rows hold no reference cycles, so nothing is lost by pausing: the
collector runs again as soon as the outermost pause ends. On leaving, what is alive is
frozen (`gc.freeze`): otherwise the first young collection would walk the whole new table
at once (measured: 0.1 s more per reconciliation of 2 × 100,000 rows).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def paused_gc() -> Iterator[None]:
    """Disable the cyclic collector for the block (nested and threaded uses are counted)."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.freeze()  # what was built leaves the collector's generations (see release_frozen)
                if _was_enabled:
                    gc.enable()


def release_frozen() -> None:
    """Give frozen objects back to the collector's oldest generation (the engine calls this
    after each step), so that garbage frozen with a table is collected
    by the next full collection instead of living as long as the process."""
    gc.unfreeze()
