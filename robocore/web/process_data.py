"""The process pages' data: the list of process records with their hours, one process's figures, and
the edit form's values read and checked.

Filters are the overview's (robocore.web.overview_data: `periode` or `du`/`au`; on the list also
`service` and `labo`, the records' own). A process's figures have the overview's definitions, so the
overview filtered to the process (`/?processus=<name>`) shows the same numbers. The edit form is
checked with the API's rules (robocore.processes.parse_changes), field by field so that every wrong
field gets its message.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from robocore import processes
from robocore.exports.period import Period
from robocore.processes import InvalidProcess, MinutesChange, ProcessFigures
from robocore.reports import shown_rate
from robocore.statuses import RunStatus
from robocore.store import process_page as sql
from robocore.store.overview import Scope
from robocore.store.rows import ProcessRecord
from robocore.web.overview_data import Filters

if TYPE_CHECKING:
    from robocore.store import Store

# the form's fields, in the order shown; the values the API's PATCH takes
FORM_FIELDS = ("service", "lab", "region", "description", "annual_volume", "goal_hours", "stage")
_NUMBERS = ("annual_volume", "goal_hours")


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time())


def _year(today: date) -> tuple[datetime, datetime]:
    """This year to today included, as the overview counts it."""
    return _midnight(date(today.year, 1, 1)), _midnight(today + timedelta(days=1))


# ---- the list ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ListRow:
    """A process of the list: its record and figures (minutes in force, estimate), and its period's minutes."""

    figures: ProcessFigures
    minutes_period: float

    @property
    def record(self) -> ProcessRecord:
        return self.figures.record

    @property
    def hours_period(self) -> float:
        return self.minutes_period / 60

    @property
    def goal_progress(self) -> float | None:
        """Hours realised this year ÷ the annual goal; None without a goal."""
        goal = self.record.goal_hours
        return self.figures.realised_hours_year / goal if goal else None


@dataclass(frozen=True)
class ProcessList:
    filters: Filters
    today: date
    rows: tuple[ListRow, ...]

    @property
    def hours_period(self) -> float:
        return sum(row.minutes_period for row in self.rows) / 60

    @property
    def hours_year(self) -> float:
        return sum(row.figures.realised_hours_year for row in self.rows)


def process_list(store: Store, filters: Filters, today: date) -> ProcessList:
    """The process records of the filters' service and lab, by name, with their figures: the minutes in force
    (robocore.processes' query) and one GROUP BY over the ledger for the realised hours of every process."""
    records = store.list_processes(service=filters.scope.service, lab=filters.scope.lab)
    names = [r.name for r in records]
    year_start, year_ago = processes._bounds(today)  # the API's "this year" and "last 12 months"
    now = store.process_minutes_now(names)
    sums = sql.list_sums(store.engine, names, (_midnight(filters.start), _midnight(filters.end)), year_start,
                         year_ago)
    rows = []
    for record in records:
        per_item, per_run = now.get(record.name, (None, None))
        summed = sums.get(record.name, sql.ListSums(0.0, 0.0, 0.0, 0))
        estimated = processes.estimate(record.annual_volume, per_item, per_run, summed.runs_12_months)
        shown = ProcessFigures(record, per_item, per_run, estimated, summed.minutes_year / 60,
                               summed.minutes_12_months / 60, summed.runs_12_months)
        rows.append(ListRow(shown, summed.minutes_period))
    return ProcessList(filters, today, tuple(rows))


# ---- one process ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MonthRow:
    month: date
    minutes: float
    items_done: int
    business_errors: int
    application_errors: int

    @property
    def hours(self) -> float:
        return self.minutes / 60

    @property
    def items_failed(self) -> int:
        return self.business_errors + self.application_errors


@dataclass(frozen=True)
class ProcessView:
    """Every figure of a process's page, with the numbers its "how is it calculated" shows."""

    filters: Filters
    today: date
    figures: ProcessFigures
    history: tuple[MinutesChange, ...]
    minutes_all: float
    minutes_year: float
    months: tuple[MonthRow, ...]
    runs: dict[str, int]
    messages: tuple[tuple[str, str | None, int], ...]
    recent: tuple[sql.RecentRun, ...]

    @property
    def record(self) -> ProcessRecord:
        return self.figures.record

    @property
    def minutes_period(self) -> float:
        return sum(m.minutes for m in self.months)

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
    def items_done(self) -> int:
        return sum(m.items_done for m in self.months)

    @property
    def items_failed(self) -> int:
        return self.business_errors + self.application_errors

    @property
    def items_attempted(self) -> int:
        return self.items_done + self.items_failed

    @property
    def item_success(self) -> float | None:
        return shown_rate(self.items_done, self.items_attempted)

    @property
    def runs_finished(self) -> int:
        return sum(self.runs.values())

    @property
    def runs_succeeded(self) -> int:
        return self.runs.get(RunStatus.SUCCEEDED.value, 0)

    @property
    def run_success(self) -> float | None:
        return shown_rate(self.runs_succeeded, self.runs_finished)

    @property
    def business_errors(self) -> int:
        return sum(m.business_errors for m in self.months)

    @property
    def application_errors(self) -> int:
        return sum(m.application_errors for m in self.months)

    @property
    def goal_progress(self) -> float | None:
        goal = self.record.goal_hours
        return self.hours_year / goal if goal else None


def process_view(store: Store, name: str, filters: Filters, today: date) -> ProcessView:
    """A process's page for the filters' period (UnknownProcess): its record, figures and history from
    robocore.processes, the rest summed in SQL, the independent reads at once on their own connections."""
    filters = replace(filters, scope=Scope(process=name))
    start, end = _midnight(filters.start), _midnight(filters.end)
    engine = store.engine
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="process-page") as pool:
        minutes_f = pool.submit(sql.minutes, engine, name, _year(today))
        monthly_f = pool.submit(sql.monthly, engine, name, start, end)
        runs_f = pool.submit(sql.runs_by_status, engine, name, start, end)
        messages_f = pool.submit(sql.error_messages, engine, name, start, end)
        detail = processes.detail(store, name, today)
        recent = sql.recent_runs(engine, name, start, end)
        (minutes_all, minutes_year), monthly = minutes_f.result(), monthly_f.result()
        runs, messages = runs_f.result(), messages_f.result()
    per_month = {m.month: m for m in monthly}
    months = tuple(MonthRow(first, *_month_figures(per_month.get(f"{first:%Y-%m}")))
                   for first in Period(filters.start, filters.end).months([]))
    return ProcessView(filters, today, detail.figures, detail.history, minutes_all, minutes_year, months, runs,
                       tuple(messages), tuple(recent))


def _month_figures(month: sql.Month | None) -> tuple[float, int, int, int]:
    return (month.minutes, month.items_done, month.business_errors, month.application_errors) if month \
        else (0.0, 0, 0, 0)


# ---- the edit form -------------------------------------------------------------------------------------
def form_values(record: ProcessRecord) -> dict[str, str]:
    """The form's fields as text, from the record."""
    def text(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, float):
            return f"{value:g}"
        return str(value)

    return {field: text(getattr(record, field)) for field in FORM_FIELDS if field != "stage"} | {
        "stage": record.stage.value}


def _typed(field: str, text: str) -> Any:
    """A field's text as the API takes it: empty clears it; numbers may be written the French way (1 200,5)."""
    cleaned = text.strip()
    if not cleaned:
        return None
    if field in _NUMBERS:
        return cleaned.replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")
    return text


def form_changes(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, InvalidProcess]]:
    """The changes a submitted form asks for (the fields it holds), and the error of each refused field
    (the API's rules)."""
    data = {field: _typed(field, form[field]) for field in FORM_FIELDS if field in form}
    errors: dict[str, InvalidProcess] = {}
    for field, value in data.items():
        try:
            processes.parse_changes({field: value})
        except InvalidProcess as exc:
            errors[field] = exc
    return data, errors
