"""The hours-saved ledger: an entry per done item and completed run, recorded once, summed in SQL.

An entry carries the minutes in force when its run started (the robot version the run
was recorded with): a later change of the baseline never rewrites history. Failed or
skipped items save nothing. The SQL lives in `robocore.store.ledger`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from robocore.i18n import gettext as _
from robocore.statuses import ItemStatus
from robocore.store.ledger import (
    GROUPINGS,
    EntryKind,
    Figures,
    Grouping,
    LedgerEntry,
    LedgerLine,
    LedgerRow,
    MonthlyLine,
)

if TYPE_CHECKING:
    from robocore.spec import Robot
    from robocore.store import Store
    from robocore.store.overview import Scope

__all__ = ["GROUPINGS", "EntryKind", "Figures", "Grouping", "HoursSaved", "LedgerEntry", "LedgerLine",
           "LedgerRow", "MinutesInForce", "MonthlyLine", "RunFigures", "entry_for_item", "entry_for_run", "grouping",
           "hours_saved", "monthly", "over_months", "record_done", "record_run"]


class RunFigures(Protocol):
    """What a run's entries are built from: its robot, process and the minutes in force."""

    @property
    def robot(self) -> str: ...
    @property
    def process_name(self) -> str | None: ...
    @property
    def service(self) -> str | None: ...
    @property
    def minutes_per_item(self) -> float: ...
    @property
    def minutes_per_run(self) -> float: ...


@dataclass(frozen=True)
class MinutesInForce:
    """A run's robot, process and manual minutes, as recorded when it started."""

    robot: str
    process_name: str | None
    service: str | None
    minutes_per_item: float
    minutes_per_run: float

    @classmethod
    def of(cls, spec: Robot) -> MinutesInForce:
        """The figures of a robot version (a run always executes the version it was recorded with)."""
        process = spec.process
        if process is None:
            return cls(spec.robot, None, None, 0.0, 0.0)
        return cls(spec.robot, process.name, process.service, process.manual_minutes_per_item,
                   process.manual_minutes_per_run)


def entry_for_item(run: RunFigures) -> LedgerEntry | None:
    """A done item's entry; None when the robot counts against no process."""
    if run.process_name is None:
        return None
    return LedgerEntry(run.robot, run.process_name, run.service, run.minutes_per_item, EntryKind.ITEM)


def entry_for_run(run: RunFigures) -> LedgerEntry | None:
    """A completed run's fixed minutes; None without a process or fixed minutes."""
    if run.process_name is None or run.minutes_per_run <= 0:
        return None
    return LedgerEntry(run.robot, run.process_name, run.service, run.minutes_per_run, EntryKind.RUN)


def record_done(store: Store, run_id: str, key: str, run: RunFigures, *, verified: bool = False) -> bool:
    """Mark an item done and write its entry in one transaction; False when it was already done."""
    return store.finish_item(run_id, key, ItemStatus.DONE, verified=verified, ledger=entry_for_item(run))


def record_run(store: Store, run_id: str, run: RunFigures) -> bool:
    """Write a completed run's fixed minutes, at most once; False when there is nothing (more) to write."""
    entry = entry_for_run(run)
    return entry is not None and store.record_run_minutes(run_id, entry)


@dataclass(frozen=True)
class HoursSaved:
    """Hours saved over a period, per group, with the total of the unrounded figures."""

    by: Grouping
    start: date | None
    end: date | None
    lines: tuple[LedgerLine, ...]

    @property
    def total(self) -> Figures:
        """Sum of every group (the same for any grouping: nothing is rounded before it)."""
        return sum((line.figures for line in self.lines), Figures())


def grouping(text: str) -> Grouping:
    """`text` as a grouping (ValueError naming those there are)."""
    for known in GROUPINGS:
        if text == known:
            return known
    raise ValueError(f"regroupement inconnu « {text} » : {', '.join(GROUPINGS)}")


def _midnight(day: date | None) -> datetime | None:
    return datetime.combine(day, datetime.min.time()) if day else None


def hours_saved(store: Store, start: date | None, end: date | None, by: Grouping = "process",
                scope: Scope | None = None) -> HoursSaved:
    """Minutes, items and runs per group from `start` (included) to `end` (excluded), UTC days.

    Args:
        by: process, service, robot, or month (of the entry, item or run's end).
    """
    by = grouping(by)  # a caller without a type checker gets a clear error, not a KeyError deep in SQL
    return HoursSaved(by, start, end, tuple(store.ledger_lines(by, _midnight(start), _midnight(end), scope)))


def monthly(store: Store, start: date | None, end: date | None, by: Grouping = "process",
            scope: Scope | None = None) -> tuple[MonthlyLine, ...]:
    """Minutes, items and runs per group and month, from `start` (included) to `end` (excluded), UTC days.

    One GROUP BY (group, month) per table, as `hours_saved`: summed over the months, a group's
    figures are its `hours_saved` line (month None: figures without a date, see MonthlyLine).

    Args:
        by: process, service or robot.
    """
    by = grouping(by)
    if by == "month":
        raise ValueError(_("“month”: months are already a column"))
    return tuple(store.ledger_monthly_lines(by, _midnight(start), _midnight(end), scope))


def over_months(lines: tuple[MonthlyLine, ...], by: Grouping, start: date | None, end: date | None) -> HoursSaved:
    """`hours_saved` by `by` from `monthly` lines of that grouping, summed over their months (no second query).

    Counts are those of `hours_saved`; minutes too, but for the order of the float additions (< 1e-9 min).
    """
    sums: dict[str | None, Figures] = {}
    for line in lines:
        sums[line.group] = sums.get(line.group, Figures()) + line.figures
    order = sorted(sums, key=lambda g: (g is None, g or ""))
    return HoursSaved(by, start, end, tuple(LedgerLine(g, sums[g]) for g in order))
