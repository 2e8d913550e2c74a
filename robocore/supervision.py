"""An attended run's supervision time: from launch to end, minus the time the agent marked herself away.

The agent ticks « Je m'absente » in the tray menu while a run goes on, and unticks it when she is back:
each tick opens an away interval, each untick closes it. Intervals may overlap (two runs followed at
once, a clock set back), may start before the launch or still be open at the end: only the part of
their union that falls between launch and end is taken off.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

Interval = tuple[dt.datetime, dt.datetime | None]  # (away from, back at); None: still away


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def away_seconds(start: dt.datetime, end: dt.datetime, away: Iterable[Interval]) -> float:
    """Seconds of [start, end] covered by the union of the `away` intervals (an open one ends at `end`)."""
    clipped = sorted((max(a, start), min(b or end, end)) for a, b in away)
    total, reach = 0.0, start
    for a, b in clipped:
        a = max(a, reach)
        if b > a:
            total += (b - a).total_seconds()
            reach = b
    return total


def supervision_minutes(start: dt.datetime, end: dt.datetime, away: Iterable[Interval]) -> float:
    """Minutes the agent supervised the run: launch to end, minus her away time; never below 0."""
    if end <= start:
        return 0.0
    return max(0.0, ((end - start).total_seconds() - away_seconds(start, end, away)) / 60)


@dataclass
class AwayLog:
    """The agent's away intervals, as she ticks and unticks « Je m'absente » (one log for the whole tray)."""

    clock: Callable[[], dt.datetime] = _now
    intervals: list[Interval] = field(default_factory=list)

    @property
    def away(self) -> bool:
        return bool(self.intervals) and self.intervals[-1][1] is None

    def set_away(self, on: bool) -> None:
        """Open an interval (`on`) or close the open one; a repeated tick or untick changes nothing."""
        if on and not self.away:
            self.intervals.append((self.clock(), None))
        elif not on and self.away:
            self.intervals[-1] = (self.intervals[-1][0], self.clock())

    def during(self, start: dt.datetime, end: dt.datetime) -> list[Interval]:
        """The intervals that meet [start, end], cut to it (an interval still open ends at `end`)."""
        found: list[Interval] = []
        for a, b in self.intervals:
            a, b2 = max(a, start), min(b or end, end)
            if b2 > a:
                found.append((a, b2))
        return found

    def forget_before(self, moment: dt.datetime) -> None:
        """Drop the intervals closed before `moment` (no run started before it is still going)."""
        self.intervals = [(a, b) for a, b in self.intervals if b is None or b > moment]


@dataclass(frozen=True)
class Supervised:
    """An attended run's supervision record: launch, end, the away intervals within, and the minutes."""

    started: dt.datetime
    ended: dt.datetime
    away: tuple[tuple[dt.datetime, dt.datetime], ...]
    minutes: float

    @classmethod
    def of(cls, started: dt.datetime, ended: dt.datetime, log: AwayLog) -> Supervised:
        within = log.during(started, ended)
        closed = tuple((a, b or ended) for a, b in within)
        return cls(started, ended, closed, supervision_minutes(started, ended, within))

    def away_json(self) -> list[list[str]]:
        """The away intervals as ISO 8601 pairs (what the store and the server keep)."""
        return [[a.isoformat(), b.isoformat()] for a, b in self.away]
