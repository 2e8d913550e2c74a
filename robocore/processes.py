"""Processes as records: created when a robot first names one, completed by engineers, shown with the
manual minutes in force (and the robot version that set them), estimated and realised hours.

Estimated annual hours = estimated annual volume × minutes per item in force ÷ 60, plus, when the
process counts fixed minutes per run, the runs credited over the last 12 months × minutes per run ÷ 60
(the yearly rate of runs, which no volume of items gives). Realised hours are the ledger's minutes
÷ 60, year to date and over the last 12 months, summed in SQL. Validation happens here, at the
boundary, with French-first messages naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from robocore.errors import RobocoreError
from robocore.i18n import N_, Message, render
from robocore.i18n import gettext as _
from robocore.i18n import lazy_gettext as _l
from robocore.store.rows import MinutesPeriod, ProcessRecord, ProcessStage

if TYPE_CHECKING:
    from robocore.spec import Robot
    from robocore.store import Store

__all__ = ["STAGE_LABELS", "InvalidProcess", "MinutesChange", "ProcessChanges", "ProcessDetail", "ProcessFigures",
           "ProcessStage", "UnknownProcess", "detail", "ensure_for", "estimate", "figures", "history", "parse_changes",
           "parse_stage", "update"]

STAGE_LABELS: dict[ProcessStage, str] = {ProcessStage.IDEA: "idée", ProcessStage.STUDY: "en étude",
                                         ProcessStage.PRODUCTION: "en production", ProcessStage.RETIRED: "retiré"}
StageCode = Literal["idea", "study", "production", "retired"]
NAME_MAX = 200       # the runs' and the ledger's process_name column
TEXT_MAX = 200       # service, lab, region
DESCRIPTION_MAX = 2000
VOLUME_MAX = 1_000_000_000   # items per year
GOAL_MAX = 10_000_000.0      # hours per year (about 6,000 full-time equivalents)
_NO_NUL = r"^[^\x00]*$"      # PostgreSQL text cannot hold NUL; refused here, with the field's name
# shown in the reader's language (render them, or str() in a request or command)
ESTIMATE_FORMULA = _l("estimated annual volume × minutes per item in force ÷ 60 (+ runs of the last 12 months × "
                      "minutes per run ÷ 60)")
REALISED_FORMULA = _l("sum of the ledger's minutes (done items and completed runs) ÷ 60")


class InvalidProcess(RobocoreError):
    """A value refused for a process field; `field` names it, `message` says why in any language."""

    def __init__(self, field: str, message: Message) -> None:
        self.field, self.message = field, message
        super().__init__(field)

    def __str__(self) -> str:
        return render(self.message)

    @property
    def fr(self) -> str:
        return render(self.message, "fr")

    @property
    def en(self) -> str:
        return render(self.message, "en")


class UnknownProcess(RobocoreError):
    """No process has this name."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(name)

    def __str__(self) -> str:
        return _("process not found “{name}”", name=self.name)


def parse_stage(text: str) -> ProcessStage:
    """A stage from its code (`production`) or its French label (`en production`); InvalidProcess otherwise."""
    cleaned = text.strip().lower()
    for stage, label in STAGE_LABELS.items():
        if cleaned in (stage.value, label):
            return stage
    known = ", ".join(f"{s.value} ({label})" for s, label in STAGE_LABELS.items())
    raise InvalidProcess("stage", _l("unknown stage “{value}” for “stage”: {known}", value=_shown(text), known=known))


class ProcessChanges(BaseModel):
    """What an engineer may change on a process (the name never changes: robots refer to it)."""

    model_config = ConfigDict(extra="forbid")

    # descriptions: English msgids, shown in the API's language by its OpenAPI document (robocore.server.app)
    service: str | None = Field(None, max_length=TEXT_MAX, pattern=_NO_NUL, description=N_("Service or directorate"))
    lab: str | None = Field(None, max_length=TEXT_MAX, pattern=_NO_NUL, description=N_("Innovation lab"))
    region: str | None = Field(None, max_length=TEXT_MAX, pattern=_NO_NUL, description=N_("Region"))
    description: str | None = Field(None, max_length=DESCRIPTION_MAX, pattern=_NO_NUL, description=N_("Description"))
    annual_volume: int | None = Field(None, ge=0, le=VOLUME_MAX,
                                      description=N_("Estimated annual volume (items a year)"))
    goal_hours: float | None = Field(None, ge=0, le=GOAL_MAX, allow_inf_nan=False,
                                     description=N_("Annual goal (hours saved)"))
    stage: StageCode = Field("production", description=N_(
        "idea (idée), study (en étude), production, retired (retiré)"))

    @field_validator("stage", mode="before")
    @classmethod
    def _stage_label(cls, value: Any) -> Any:
        """A French label is accepted as its code (`en étude` → `study`)."""
        if isinstance(value, str):
            for stage, label in STAGE_LABELS.items():
                if value.strip().lower() == label:
                    return stage.value
        return value


def _shown(value: Any, limit: int = 60) -> str:
    """A refused value as the message shows it (cut: a 10 KB text is not echoed back)."""
    text = str(value)
    return text if len(text) <= limit else _("{start}… ({n} characters)", start=text[:limit], n=len(text))


def _message(error: Mapping[str, Any]) -> InvalidProcess:
    """One pydantic error as our message, French first, naming the field."""
    field = ".".join(str(p) for p in error.get("loc", ())) or "corps"
    kind, value, ctx = error.get("type", ""), error.get("input"), error.get("ctx") or {}
    if kind == "extra_forbidden":
        editable = ", ".join(ProcessChanges.model_fields)
        return InvalidProcess(field, _l("unknown or read-only field “{field}” (editable: {editable})", field=field,
                                        editable=editable))
    if field == "stage":
        return parse_stage_error(value)
    return field_refusal(field, kind, value, ctx) or InvalidProcess(
        field, _l("invalid value for “{field}”: {value}", field=field, value=_shown(value)))


def field_refusal(field: str, kind: str, value: Any, ctx: Mapping[str, Any]) -> InvalidProcess | None:
    """The messages the process and idea forms share (numbers and text bounds); None for another error kind."""
    if kind == "finite_number" or (isinstance(value, float) and not math.isfinite(value)):
        return InvalidProcess(field, _l("“{field}” must be a finite number, got {value}", field=field,
                                        value=_shown(value)))
    if kind == "greater_than":
        return InvalidProcess(field, _l("“{field}” must be more than zero, got {value}", field=field,
                                        value=_shown(value)))
    if kind == "greater_than_equal":
        return InvalidProcess(field, _l("“{field}” must be zero or more, got {value}", field=field,
                                        value=_shown(value)))
    if kind == "less_than_equal":
        return InvalidProcess(field, _l("“{field}” must be at most {limit}, got {value}", field=field,
                                        limit=ctx.get("le"), value=_shown(value)))
    if kind == "string_too_long":
        return InvalidProcess(field, _l("“{field}” too long: {length} characters, {limit} at most", field=field,
                                        length=len(str(value)), limit=ctx.get("max_length")))
    if kind == "string_pattern_mismatch":
        return InvalidProcess(field, _l("“{field}” holds a NUL character", field=field))
    return None


def parse_stage_error(value: Any) -> InvalidProcess:
    """The message for a refused stage (the same as parse_stage's)."""
    try:
        parse_stage(str(value))
    except InvalidProcess as exc:
        return exc
    return InvalidProcess("stage", _l("invalid stage for “stage”"))


def parse_changes(data: Any) -> dict[str, Any]:
    """The fields given in a change request, validated (InvalidProcess naming the first wrong field)."""
    if not isinstance(data, Mapping):
        raise InvalidProcess("corps", _l("“body”: a JSON object is expected (fields to change)"))
    try:
        changes = ProcessChanges.model_validate(dict(data))
    except ValidationError as exc:
        raise _message(exc.errors()[0]) from None
    given = {name: getattr(changes, name) for name in changes.model_fields_set}
    if "stage" in given:
        given["stage"] = ProcessStage(given["stage"])
    return given


# ---- created by robots --------------------------------------------------------------------
def ensure_for(store: Store, spec: Robot) -> bool:
    """Create the process a robot names unless it exists (service from robot.yaml, stage `production`);
    True when this call created it. Safe when several workers prepare its first runs at once."""
    if spec.process is None:
        return False
    return store.ensure_process(spec.process.name, spec.process.service, f"robot:{spec.robot}")


def update(store: Store, name: str, data: Any, updated_by: str) -> ProcessRecord:
    """Apply validated changes to a process (InvalidProcess, UnknownProcess)."""
    changes = parse_changes(data)
    record = store.update_process(name, changes, updated_by) if changes else store.get_process(name)
    if record is None:
        raise UnknownProcess(name)
    return record


# ---- figures --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProcessFigures:
    """A process with its minutes in force now, estimated and realised hours."""

    record: ProcessRecord
    minutes_per_item: float | None   # of the latest run (None: no run yet)
    minutes_per_run: float | None
    estimated_hours: float | None    # None without a volume or a run
    realised_hours_year: float
    realised_hours_12_months: float
    runs_12_months: int

    @property
    def stage_label(self) -> str:
        return STAGE_LABELS[self.record.stage]


def _fr(minutes: float) -> str:
    """Minutes as French writes them: « 4,5 »."""
    return f"{minutes:g}".replace(".", ",")


@dataclass(frozen=True)
class MinutesChange:
    """A period of minutes in force and, but for a robot's first one, the minutes it replaced."""

    period: MinutesPeriod
    previous_per_item: float | None
    previous_per_run: float | None

    @property
    def reason(self) -> str:
        """Why the minutes are these: the robot version that brought them."""
        version = f"{self.period.robot} (version {self.period.version_id}, {self.period.version_sha256[:12]})"
        if self.previous_per_item is None:
            return _("first baseline of the robot {version}", version=version)
        return _("baseline changed by the robot {version}: {item_before} → {item_after} min per item, "
                 "{run_before} → {run_after} min per run", version=version, item_before=_fr(self.previous_per_item),
                 item_after=_fr(self.period.minutes_per_item), run_before=_fr(self.previous_per_run or 0.0),
                 run_after=_fr(self.period.minutes_per_run))


@dataclass(frozen=True)
class ProcessDetail:
    """A process's figures and the history of its minutes in force."""

    figures: ProcessFigures
    history: tuple[MinutesChange, ...]


def _bounds(today: date) -> tuple[datetime, datetime]:
    """Start of the year and the same day 12 months earlier (UTC midnights, as the store keeps time)."""
    year_ago = today.replace(year=today.year - 1) if (today.month, today.day) != (2, 29) else today - timedelta(365)
    return datetime(today.year, 1, 1), datetime.combine(year_ago, datetime.min.time())


def estimate(volume: int | None, per_item: float | None, per_run: float | None, runs_12_months: int) -> float | None:
    """Estimated annual hours (ESTIMATE_FORMULA); None without a volume or minutes in force."""
    if volume is None or per_item is None:
        return None
    return (volume * per_item + (runs_12_months * per_run if per_run else 0.0)) / 60


def figures(store: Store, records: list[ProcessRecord], today: date | None = None) -> list[ProcessFigures]:
    """Each record's minutes in force, estimated and realised hours: two SQL queries for the whole page."""
    start, year_ago = _bounds(today or datetime.now(UTC).date())
    names = [r.name for r in records]
    now = store.process_minutes_now(names)
    sums = store.process_sums(names, start, year_ago)
    out = []
    for record in records:
        per_item, per_run = now.get(record.name, (None, None))
        summed = sums.get(record.name)
        runs = summed.runs_12_months if summed else 0
        out.append(ProcessFigures(record, per_item, per_run, estimate(record.annual_volume, per_item, per_run, runs),
                                  summed.minutes_year / 60 if summed else 0.0,
                                  summed.minutes_12_months / 60 if summed else 0.0, runs))
    return out


def history(periods: list[MinutesPeriod]) -> tuple[MinutesChange, ...]:
    """Periods in time order, each with the minutes its robot had before."""
    last: dict[str, MinutesPeriod] = {}
    changes = []
    for period in periods:
        before = last.get(period.robot)
        changes.append(MinutesChange(period, before.minutes_per_item if before else None,
                                     before.minutes_per_run if before else None))
        last[period.robot] = period
    return tuple(changes)


def detail(store: Store, name: str, today: date | None = None) -> ProcessDetail:
    """A process with its figures and the history of its minutes (UnknownProcess)."""
    record = store.get_process(name)
    if record is None:
        raise UnknownProcess(name)
    [shown] = figures(store, [record], today)
    return ProcessDetail(shown, history(store.process_minutes_history(name)))
