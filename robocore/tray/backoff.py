"""Retry delays for an unreachable server: doubling from `first` up to `most` seconds, with some jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    first: float = 2.0
    most: float = 300.0
    jitter: float = 0.1  # ± 10 %: many trays behind one proxy do not retry in step
    _next: float = field(default=0.0, init=False)

    def delay(self) -> float:
        """The wait before the next attempt (the first one after a failure waits `first`)."""
        base = self._next or self.first
        self._next = min(base * 2, self.most)
        return base * (1 + random.uniform(-self.jitter, self.jitter))

    def reset(self) -> None:
        """The server answered: the next failure starts again from `first`."""
        self._next = 0.0
