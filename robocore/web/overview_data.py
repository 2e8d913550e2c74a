"""The managers' overview: its filters read from the URL, and its figures assembled from SQL sums.

Filters (a GET form, so every view is a shareable URL): `periode` (a preset: `annee` this year,
`12mois` the last 12 months, `trimestre` this quarter), or `du` and `au` (first and last day
included, YYYY-MM-DD), and `processus`, `service`, `labo` (exact names). A bad value is a
FilterError naming the field and the value, shown on the page in place of the figures.

Every figure comes from robocore.store.overview (one GROUP BY per table; the hours from the ledger
summed per day, `ledger_days`); nothing here loops over ledger rows, only over the handful of
per-process and per-month sums.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from robocore.exports.period import Period, PeriodError
from robocore.i18n import Text, render
from robocore.i18n import lazy_gettext as _l
from robocore.reports import shown_rate
from robocore.statuses import ItemStatus, RunStatus
from robocore.store.overview import Records, Scope

if TYPE_CHECKING:
    from robocore.store import Store

PRESETS = ("annee", "12mois", "trimestre")
DEFAULT_PRESET = "annee"
TOP = 5             # processes drawn apart in the chart; the others are summed as "autres"
TOP_TABLE = 10      # rows of the top processes table
TEXT_MAX = 200      # a process, service or lab name (the columns' length)
NO_PROCESS = "(sans processus)"
OTHERS = "\x00others"  # the chart's series of the processes after the TOP (no name holds a NUL)


class FilterError(ValueError):
    """A filter value the page refuses: `field` is the URL parameter, `message` says why in any language
    (`render(exc.message, lang)` in the page's)."""

    def __init__(self, field: str, message: Text) -> None:
        self.field, self.message = field, message
        super().__init__(field)

    def __str__(self) -> str:
        return render(self.message)


@dataclass(frozen=True)
class Filters:
    """What the page shows: from `start` (included) to `end` (excluded), and the scope."""

    start: date
    end: date
    preset: str | None
    scope: Scope

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def export_query(self, by: str = "process", lang: str | None = None) -> str:
        """The exports' query for the same period (start included, end excluded) and the same filters, grouped
        `by` process (default) or service; `lang`, the page's `?lang=` when it has one, keeps its language."""
        query = {"start": self.start.isoformat(), "end": self.end.isoformat(), "by": by}
        named = {"process": self.scope.process, "service": self.scope.service, "lab": self.scope.lab, "lang": lang}
        return urlencode({**query, **{key: value for key, value in named.items() if value is not None}})


def preset_period(preset: str, today: date) -> tuple[date, date]:
    """The days of a preset: (first day, day after the last), today included."""
    tomorrow = today + timedelta(days=1)
    if preset == "annee":
        return date(today.year, 1, 1), tomorrow
    if preset == "trimestre":
        return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), tomorrow
    if preset == "12mois":
        first = today.replace(day=1)
        for _ in range(11):
            first = (first - timedelta(days=1)).replace(day=1)
        return first, tomorrow
    raise FilterError("periode", _l("unknown period '{preset}' (annee, 12mois or trimestre)", preset=preset[:40]))


def _day(field: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FilterError(field, _l("invalid date for '{field}': '{value}' (expected YYYY-MM-DD)", field=field,
                                    value=text[:40])) from None


def _name(field: str, text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    if len(text) > TEXT_MAX or "\x00" in text:
        raise FilterError(field, _l("value refused for '{field}' ({most} characters at most, no NUL character)",
                                    field=field, most=TEXT_MAX))
    return text


def parse_filters(params: Mapping[str, str], today: date) -> Filters:
    """The filters of a URL query; FilterError naming the first bad field."""
    scope = Scope(_name("processus", params.get("processus")), _name("service", params.get("service")),
                  _name("labo", params.get("labo")))
    first, last = (params.get("du") or "").strip(), (params.get("au") or "").strip()
    if first or last:
        start = _day("du", first) if first else None
        end = _day("au", last) + timedelta(days=1) if last else today + timedelta(days=1)
        if start is None:
            raise FilterError("du", _l("'{field}' is missing: a period has a first day", field="du"))
        try:
            Period.checked(start, end)
        except PeriodError as exc:
            raise FilterError("au", exc.message) from None
        return Filters(start, end, None, scope)
    preset = (params.get("periode") or DEFAULT_PRESET).strip()
    start, end = preset_period(preset, today)
    return Filters(start, end, preset, scope)


@dataclass(frozen=True)
class Row:
    """A process in the top table: its hours, items attempted and done, and its share of the hours."""

    name: str
    minutes: float
    items_done: int
    items_attempted: int
    share: float | None

    @property
    def hours(self) -> float:
        return self.minutes / 60

    @property
    def item_success(self) -> float | None:
        return shown_rate(self.items_done, self.items_attempted)


@dataclass(frozen=True)
class Overview:
    """Every figure of the page, with the numbers its "how is it computed" shows."""

    filters: Filters
    today: date
    annual_hours: float
    minutes_period: float
    minutes_year: float
    minutes_all: float
    items_done: int
    items_attempted: int
    runs_succeeded: int
    runs_finished: int
    records: Records
    months: tuple[date, ...]
    series: tuple[tuple[str, tuple[float, ...]], ...]   # (process or OTHERS, hours per month)
    rows: tuple[Row, ...]
    process_count: int

    @property
    def hours_period(self) -> float:
        return self.minutes_period / 60

    @property
    def hours_year(self) -> float:
        return self.minutes_year / 60

    @property
    def hours_all(self) -> float:
        return self.minutes_all / 60

    @property
    def fte(self) -> float:
        """Full-time equivalents of the period's hours: hours ÷ the annual working hours."""
        return self.hours_period / self.annual_hours

    @property
    def item_success(self) -> float | None:
        return shown_rate(self.items_done, self.items_attempted)

    @property
    def run_success(self) -> float | None:
        return shown_rate(self.runs_succeeded, self.runs_finished)

    @property
    def goal_progress(self) -> float | None:
        """Hours realised this year ÷ the processes' annual goals; None without a goal."""
        goal = self.records.goal_hours
        return self.hours_year / goal if goal > 0 else None


def _midnight(day: date | None) -> datetime | None:
    return datetime.combine(day, datetime.min.time()) if day else None


def _months(filters: Filters) -> list[date]:
    return Period(filters.start, filters.end).months([])


def _chart_series(monthly: list[tuple[str | None, str, float]], ranked: Sequence[str | None],
                  months: list[date]) -> tuple[tuple[str, tuple[float, ...]], ...]:
    """Hours per month of the TOP processes of the period, the others summed as one OTHERS series."""
    top = ranked[:TOP]
    index = {f"{m:%Y-%m}": i for i, m in enumerate(months)}
    hours: dict[str, list[float]] = {}
    for name, month, minutes in monthly:
        if month not in index:
            continue
        label = (name or NO_PROCESS) if name in top else OTHERS
        hours.setdefault(label, [0.0] * len(months))[index[month]] += minutes / 60
    order = [name or NO_PROCESS for name in top] + ([OTHERS] if OTHERS in hours else [])
    return tuple((label, tuple(hours[label])) for label in order if label in hours)


def overview(store: Store, filters: Filters, today: date, annual_hours: float) -> Overview:
    """Every figure of the page for `filters`, from SQL sums only.

    The items and runs by outcome (a range of an index per run open in the period) are counted on their
    own connection while the hours are summed from `ledger_days` (the ledger per day: a few rows per
    day and robot), the database drivers releasing the GIL while a query runs.
    """
    scope = filters.scope
    start, end = _midnight(filters.start), _midnight(filters.end)
    assert start is not None and end is not None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="overview") as pool:
        outcomes_f = pool.submit(store.overview_outcomes, scope, start, end)
        monthly = store.overview_monthly(scope, filters.start, filters.end)
        year = store.overview_minutes(scope, date(today.year, 1, 1), today + timedelta(days=1))
        since = store.overview_minutes(scope, None, None)
        records = store.overview_records(scope)
        items, runs = outcomes_f.result()
    return assemble(filters, today, annual_hours, Sums(monthly, items, runs, year, since, records))


@dataclass(frozen=True)
class Sums:
    """What the database sums for the page: (process, 'YYYY-MM', minutes) of the period, attempted items and
    finished runs per (process, status), the minutes of the year and since the start, the records."""

    monthly: list[tuple[str | None, str, float]]
    items: dict[tuple[str | None, str], int]
    runs: dict[tuple[str | None, str], int]
    year: float
    since: float
    records: Records


def assemble(filters: Filters, today: date, annual_hours: float, sums: Sums) -> Overview:
    """The page's figures from the database's sums (a few rows per process and month)."""
    monthly, items, runs, year, since, records = (sums.monthly, sums.items, sums.runs, sums.year, sums.since,
                                                  sums.records)
    per_process: dict[str | None, float] = {}
    for name, _month, minutes in monthly:  # a few rows per process and month
        per_process[name] = per_process.get(name, 0.0) + minutes
    attempted: dict[str | None, int] = {}
    done: dict[str | None, int] = {}
    for (name, status), count in items.items():
        attempted[name] = attempted.get(name, 0) + count
        if status == ItemStatus.DONE.value:
            done[name] = done.get(name, 0) + count
    total = sum(per_process.values())
    shown = [n for n in set(per_process) | set(attempted) if n is not None and (per_process.get(n, 0.0) > 0
                                                                                 or attempted.get(n, 0))]
    ranked = sorted(shown, key=lambda n: (-per_process.get(n, 0.0), n or ""))
    rows = tuple(Row(name or NO_PROCESS, per_process.get(name, 0.0), done.get(name, 0), attempted.get(name, 0),
                     per_process.get(name, 0.0) / total if total > 0 else None) for name in ranked[:TOP_TABLE])
    months = _months(filters)
    with_hours = [n for n in ranked if per_process.get(n, 0.0) > 0]
    succeeded = sum(count for (_name, status), count in runs.items() if status == RunStatus.SUCCEEDED.value)
    return Overview(filters, today, annual_hours, total, year, since, sum(done.values()), sum(attempted.values()),
                    succeeded, sum(runs.values()), records, tuple(months),
                    _chart_series(monthly, with_hours, months), rows, len(ranked))
