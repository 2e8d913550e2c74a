"""The runs pages' data: the list's filters read from the URL, a page of runs with their counts, one run's page.

Filters (a GET form, so every view is a shareable URL): `robot`, `processus`, `service`, `statut` (a run
status code), `auteur` (who launched it: a token's name, `cli`, `schedule:<name>`), `du` and `au` (first and
last day included, YYYY-MM-DD, days in Paris time), `page` (from 1) and `par_page` (at most 100). A bad
value is an overview_data.FilterError naming the field and the value.

Every figure is SQL: the page's runs in one query, their item counts in one GROUP BY (run, status) and
their minutes saved in one GROUP BY run over the ledger; a run's page likewise (counts per status, errors
grouped by message, ledger minutes per kind). Nothing loads a run's items to count them in Python.

The SQL is robocore.store.runs_page's (read-only); this module masks secrets and shows times in Paris time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from robocore import i18n
from robocore.secrets import scrub, scrub_any
from robocore.statuses import ITEM_FAILED, ItemStatus, RunStatus
from robocore.storage import run_relative
from robocore.store import runs_page as sql
from robocore.store.attended import Supervision
from robocore.store.rows import Item, Run
from robocore.web.overview_data import FilterError, _day, _name

if TYPE_CHECKING:
    from robocore.store import Store

PER_PAGE = 50
MAX_PER_PAGE = 100
MAX_PAGE = 100_000
ITEMS_PER_PAGE = 50
TOP_ERRORS = 20
MAX_CHOICES = 300            # names offered per filter list
RECENT_AUTHORS = 2000        # the latest runs whose authors the filter offers
ZONE = ZoneInfo("Europe/Paris")  # the pages show times as French offices read them (stored: naive UTC)
LIST_FIELDS = ("robot", "processus", "service", "statut", "auteur", "du", "au")


def local(moment: datetime | None) -> datetime | None:
    """A stored moment (naive UTC) in Paris time (naive, for the `moment` format)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC).astimezone(ZONE).replace(tzinfo=None)


def _utc_midnight(day: date) -> datetime:
    """Midnight of a Paris day, as the store's naive UTC."""
    return datetime.combine(day, datetime.min.time(), ZONE).astimezone(UTC).replace(tzinfo=None)


def _int(params: Mapping[str, str], name: str, default: int, high: int) -> int:
    text = (params.get(name) or "").strip()
    if not text:
        return default
    if not text.isdigit() or not 1 <= int(text) <= high:
        raise FilterError(name, i18n.lazy_gettext("invalid value for '{field}': '{value}' (a whole number from 1 "
                                                  "to {high})", field=name, value=text[:40], high=high))
    return int(text)


def _status(params: Mapping[str, str], name: str, allowed: Sequence[str]) -> str | None:
    text = (params.get(name) or "").strip()
    if not text:
        return None
    if text not in allowed:
        raise FilterError(name, i18n.lazy_gettext("unknown status for '{field}': '{value}' ({allowed})",
                                                  field=name, value=text[:40], allowed=", ".join(allowed)))
    return text


@dataclass(frozen=True)
class RunFilters:
    """What the runs list shows: `start` (included) to `end` (excluded) are Paris days, None when open."""

    robot: str | None = None
    process: str | None = None
    service: str | None = None
    status: str | None = None
    author: str | None = None
    start: date | None = None
    end: date | None = None
    page: int = 1
    per_page: int = PER_PAGE

    def query(self, **changes: Any) -> str:
        """The URL query of this view (with `changes`, e.g. page=2): only the filters given."""
        values = {"robot": self.robot, "processus": self.process, "service": self.service, "statut": self.status,
                  "auteur": self.author, "du": self.start.isoformat() if self.start else None,
                  "au": (self.end - timedelta(days=1)).isoformat() if self.end else None,
                  "page": self.page if self.page != 1 else None,
                  "par_page": self.per_page if self.per_page != PER_PAGE else None}
        values.update(changes)
        if values.get("page") == 1:
            values["page"] = None
        if values.get("par_page") == PER_PAGE:
            values["par_page"] = None
        return urlencode({key: value for key, value in values.items() if value not in (None, "")})

    @property
    def last_day(self) -> date | None:
        return self.end - timedelta(days=1) if self.end else None

    def selection(self) -> sql.RunSelection:
        """The runs these filters keep, as the store selects them (the Paris days as naive UTC bounds)."""
        return sql.RunSelection(self.robot, self.process, self.service, self.status, self.author,
                                _utc_midnight(self.start) if self.start is not None else None,
                                _utc_midnight(self.end) if self.end is not None else None)


def parse_run_filters(params: Mapping[str, str]) -> RunFilters:
    """The runs list's filters from a URL query; FilterError naming the first bad field."""
    names = {key: _name(key, params.get(key)) for key in ("robot", "processus", "service", "auteur")}
    status = _status(params, "statut", [s.value for s in RunStatus])
    first, last = (params.get("du") or "").strip(), (params.get("au") or "").strip()
    start = _day("du", first) if first else None
    end = _day("au", last) + timedelta(days=1) if last else None
    if start is not None and end is not None and end <= start:
        raise FilterError("au", i18n.lazy_gettext("'{field}': the last day ({last}) is before the first day "
                                                  "({first})", field="au", last=last, first=first))
    return RunFilters(names["robot"], names["processus"], names["service"], status, names["auteur"], start, end,
                      _int(params, "page", 1, MAX_PAGE), _int(params, "par_page", PER_PAGE, MAX_PER_PAGE))


# ---- the list ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunRow:
    """A run of the list with its item counts and the minutes the ledger credits it with."""

    run: Run
    counts: dict[str, int]
    minutes: float

    @property
    def done(self) -> int:
        return self.counts.get(ItemStatus.DONE.value, 0)

    @property
    def failed(self) -> int:
        return sum(self.counts.get(s.value, 0) for s in ITEM_FAILED)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def started(self) -> datetime | None:
        return local(self.run.started_at)

    @property
    def duration(self) -> timedelta | None:
        return duration_of(self.run)


@dataclass(frozen=True)
class RunList:
    """One page of runs, newest first, with the number of runs the filters keep."""

    filters: RunFilters
    rows: tuple[RunRow, ...]
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.filters.per_page))

    @property
    def has_next(self) -> bool:
        return self.filters.page < self.pages

    @property
    def first_shown(self) -> int:
        return (self.filters.page - 1) * self.filters.per_page + 1 if self.rows else 0

    @property
    def last_shown(self) -> int:
        return (self.filters.page - 1) * self.filters.per_page + len(self.rows)


def duration_of(run: Run) -> timedelta | None:
    """From recorded to finished; None while the run has not finished."""
    return run.finished_at - run.started_at if run.finished_at else None


def run_list(store: Store, filters: RunFilters) -> RunList:
    """The page of runs the filters ask for, newest first, with their counts and minutes (three queries)."""
    runs, total = sql.runs(store.engine, filters.selection(), filters.per_page, (filters.page - 1) * filters.per_page)
    ids = [run.id for run in runs]
    counts = sql.item_counts_by_run(store.engine, ids) if ids else {}
    minutes = sql.minutes_by_run(store.engine, ids) if ids else {}
    rows = tuple(RunRow(run, counts.get(run.id, {}), minutes.get(run.id, 0.0)) for run in runs)
    return RunList(filters, rows, total)


def choices(store: Store) -> dict[str, list[str]]:
    """The names offered in the filters, from small tables: robots (their recorded versions), process records'
    names and services, and the authors of the latest runs (the runs table is never scanned whole)."""
    found = sql.filter_choices(store.engine, RECENT_AUTHORS, MAX_CHOICES)
    return {"robot": found.robots, "processus": found.processes, "service": found.services, "auteur": found.authors}


# ---- one run ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ErrorGroup:
    """Failed items of a run sharing one message and one kind (business or application error)."""

    status: str
    message: str | None
    count: int


@dataclass(frozen=True)
class RunPage:
    """Everything a run's page shows (evidence aside: it is read from the run files storage)."""

    run: Run
    version_sha256: str | None
    counts: dict[str, int]
    minutes_items: float
    entries_items: int
    minutes_run: float
    first_activity: datetime | None
    errors: tuple[ErrorGroup, ...]
    items: tuple[Item, ...]
    item_status: str | None
    item_page: int
    inputs: dict[str, Any] = field(default_factory=dict)
    supervision: Supervision | None = None  # an attended run's (robo tray --local); None: nobody attended it

    @property
    def minutes(self) -> float:
        return self.minutes_items + self.minutes_run

    @property
    def net_minutes(self) -> float | None:
        """Minutes saved net of the agent's supervision (gross − supervision); None for an unattended run."""
        return self.minutes - self.supervision.minutes if self.supervision is not None else None

    @property
    def away_minutes(self) -> float:
        """Minutes the agent marked herself away during the attended run (launch to end minus supervision)."""
        if self.supervision is None:
            return 0.0
        sup = self.supervision
        return max(0.0, (sup.ended_at - sup.started_at).total_seconds() / 60 - sup.minutes)

    @property
    def done(self) -> int:
        return self.counts.get(ItemStatus.DONE.value, 0)

    @property
    def failed(self) -> int:
        return sum(self.counts.get(s.value, 0) for s in ITEM_FAILED)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def shown_total(self) -> int:
        """Items the item table pages through (those of the chosen status, or all)."""
        return self.counts.get(self.item_status, 0) if self.item_status else self.total

    @property
    def item_pages(self) -> int:
        return max(1, -(-self.shown_total // ITEMS_PER_PAGE))

    @property
    def duration(self) -> timedelta | None:
        return duration_of(self.run)


def shown_inputs(run: Run) -> dict[str, Any]:
    """The run's inputs as a page may show them: secret values masked (as they were when the run was recorded,
    and again with the secrets this process knows), file inputs by their name inside the run."""
    shown: dict[str, Any] = {}
    for name, value in scrub_any(dict(run.inputs)).items():
        if isinstance(value, str):
            value = run_relative(run.id, value) or value
        shown[str(name)] = value
    return shown


def _errors(store: Store, run_id: str) -> tuple[ErrorGroup, ...]:
    return tuple(ErrorGroup(group.status, scrub_any(group.error), group.count)
                 for group in sql.error_counts(store.engine, run_id, TOP_ERRORS))


def _items(store: Store, run_id: str, status: str | None, page: int) -> tuple[Item, ...]:
    found = sql.items_page(store.engine, run_id, status, ITEMS_PER_PAGE, (page - 1) * ITEMS_PER_PAGE)
    return tuple(replace(item, error=scrub(item.error)) if item.error else item for item in found)


def run_page(store: Store, run: Run, params: Mapping[str, str]) -> RunPage:
    """A run's page data for the items' filters in `params` (`statut` of the items, `page`); FilterError."""
    status = _status(params, "statut", [s.value for s in ItemStatus])
    page = _int(params, "page", 1, MAX_PAGE)
    figures = sql.run_figures(store.engine, run)
    counts = {status_.value: n for status_, n in store.counts(run.id).items()}
    entries, minutes_items = figures.ledger.get("item", (0, 0.0))
    return RunPage(run, figures.version_sha256, counts, minutes_items, entries, figures.ledger.get("run", (0, 0.0))[1],
                   local(figures.first_activity), _errors(store, run.id), _items(store, run.id, status, page),
                   status, page, shown_inputs(run), store.supervision_of(run.id))


def format_duration(value: timedelta | None) -> str:
    """A duration as `2 h 05 min`, `12 min 30 s` or `45 s` (the same symbols in French and English)."""
    if value is None:
        return "—"
    seconds = max(0, int(value.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}\u00a0h\u00a0{minutes:02d}\u00a0min"
    if minutes:
        return f"{minutes}\u00a0min\u00a0{secs:02d}\u00a0s"
    return f"{secs}\u00a0s"
