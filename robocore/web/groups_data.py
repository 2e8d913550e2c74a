"""The services and labs pages' figures: per service (or lab), assembled from robocore.store.groups' sums.

The filters are the overview's (robocore.web.overview_data.parse_filters). Every number comes from a
GROUP BY by group (and by group and month); here we only join those few rows per group, and the totals
are sums of the groups' figures, which equal the overview's for the same filters (every entry, item, run
and record falls in exactly one group, the None group included).
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from robocore.exports.period import Period
from robocore.reports import shown_rate
from robocore.statuses import ItemStatus, RunStatus
from robocore.store import groups as sums
from robocore.store.groups import Dimension, Group, GroupRecords
from robocore.web.overview_data import Filters

if TYPE_CHECKING:
    from robocore.store import Store

TOP = 7              # groups drawn apart in the chart; the others are summed as one series
OTHERS = "\x00others"  # the chart's series of the groups after the TOP (no name holds a NUL)
NONE = GroupRecords(0, 0.0, 0)
# the overview's filter parameter and the processes page's, per dimension
OVERVIEW_PARAM = {Dimension.SERVICE: "service", Dimension.LAB: "labo"}


@dataclass(frozen=True)
class GroupRow:
    """One service or lab (None: the entries without one; the totals row has `total` set)."""

    name: Group
    minutes_period: float
    minutes_year: float
    items_done: int
    items_attempted: int
    runs_succeeded: int
    runs_finished: int
    records: GroupRecords
    share: float | None
    total: bool = False

    @property
    def hours_period(self) -> float:
        return self.minutes_period / 60

    @property
    def hours_year(self) -> float:
        return self.minutes_year / 60

    @property
    def item_success(self) -> float | None:
        return shown_rate(self.items_done, self.items_attempted)

    @property
    def run_success(self) -> float | None:
        return shown_rate(self.runs_succeeded, self.runs_finished)

    @property
    def goal_progress(self) -> float | None:
        """Hours realised this year ÷ the group's processes' annual goals; None without a goal."""
        goal = self.records.goal_hours
        return self.hours_year / goal if goal > 0 else None


@dataclass(frozen=True)
class Groups:
    """Every figure of a services or labs page."""

    dimension: Dimension
    filters: Filters
    today: date
    rows: tuple[GroupRow, ...]
    total: GroupRow
    months: tuple[date, ...]
    series: tuple[tuple[Group, tuple[float, ...]], ...]   # (group, None or OTHERS, hours per month)

    def overview_link(self, name: str) -> str:
        """The overview of the same period restricted to the group `name`."""
        return "/?" + urlencode({**self.period_params(), OVERVIEW_PARAM[self.dimension]: name})

    def processes_link(self, name: str) -> str:
        """The processes of the group `name`."""
        return "/processus?" + urlencode({OVERVIEW_PARAM[self.dimension]: name})

    def period_params(self) -> dict[str, str]:
        """The period as the pages' URL says it: the preset, or the first and last day."""
        f = self.filters
        if f.preset is not None:
            return {"periode": f.preset}
        return {"du": f.start.isoformat(), "au": f.last_day.isoformat()}


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time())


def _chart_series(monthly: list[tuple[Group, str, float]], ranked: list[Group],
                  months: list[date]) -> tuple[tuple[Group, tuple[float, ...]], ...]:
    """Hours per month of the TOP groups with hours, the others summed as one OTHERS series."""
    top = set(ranked[:TOP])
    index = {f"{m:%Y-%m}": i for i, m in enumerate(months)}
    hours: dict[Group, list[float]] = {}
    for name, month, minutes in monthly:
        if month in index:
            hours.setdefault(name if name in top else OTHERS, [0.0] * len(months))[index[month]] += minutes / 60
    order = [*ranked[:TOP], OTHERS]
    return tuple((label, tuple(hours[label])) for label in order if label in hours)


def _per_group(counts: dict[tuple[Group, str], int], success: str) -> tuple[dict[Group, int], dict[Group, int]]:
    """(all, successful) counts per group from counts per (group, status)."""
    every: dict[Group, int] = {}
    good: dict[Group, int] = {}
    for (name, status), count in counts.items():
        every[name] = every.get(name, 0) + count
        if status == success:
            good[name] = good.get(name, 0) + count
    return every, good


def _ranked(names: Iterable[Group], period: dict[Group, float]) -> list[Group]:
    """Groups by hours in the period (most first), then by name; the None group last."""
    return sorted(set(names), key=lambda n: (n is None, -period.get(n, 0.0), n or ""))


def groups(store: Store, dimension: Dimension, filters: Filters, today: date) -> Groups:
    """Every figure of the page for `dimension` and `filters`, from SQL sums only (read at once)."""
    engine, scope = store.engine, filters.scope
    start, end = _midnight(filters.start), _midnight(filters.end)
    year_start, tomorrow = _midnight(date(today.year, 1, 1)), _midnight(today + timedelta(days=1))
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="groups") as pool:
        monthly_f = pool.submit(sums.monthly, engine, dimension, scope, start, end)
        outcomes_f = pool.submit(sums.outcomes, engine, dimension, scope, start, end)
        year_f = pool.submit(sums.minutes, engine, dimension, scope, year_start, tomorrow)
        records = sums.records(engine, dimension, scope)
        monthly, (items, runs), year = monthly_f.result(), outcomes_f.result(), year_f.result()
    period: dict[Group, float] = {}
    for name, _month, summed in monthly:  # a few rows per group and month
        period[name] = period.get(name, 0.0) + summed
    attempted, done = _per_group(items, ItemStatus.DONE.value)
    finished, succeeded = _per_group(runs, RunStatus.SUCCEEDED.value)
    all_minutes = sum(period.values())
    shown = [n for n in {*period, *year, *attempted, *finished, *records}
             if period.get(n) or year.get(n) or attempted.get(n) or finished.get(n) or records.get(n)]
    rows = tuple(GroupRow(n, period.get(n, 0.0), year.get(n, 0.0), done.get(n, 0), attempted.get(n, 0),
                          succeeded.get(n, 0), finished.get(n, 0), records.get(n, NONE),
                          period.get(n, 0.0) / all_minutes if all_minutes > 0 else None)
                 for n in _ranked(shown, period))
    kept = records.values()
    total = GroupRow(None, all_minutes, sum(year.values()), sum(done.values()), sum(attempted.values()),
                     sum(succeeded.values()), sum(finished.values()),
                     GroupRecords(sum(r.in_production for r in kept), sum(r.goal_hours for r in kept),
                                  sum(r.with_goal for r in kept)),
                     1.0 if all_minutes > 0 else None, total=True)
    months = Period(filters.start, filters.end).months([])
    with_hours = [n for n in _ranked(period, period) if period[n] > 0]
    return Groups(dimension, filters, today, rows, total, tuple(months), _chart_series(monthly, with_hours, months))
