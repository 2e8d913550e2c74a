"""POST /api/v1/attended-runs: a run an agent attended on her computer (`robo tray --local`), reported by her tray.

The server records it as a run of that robot by that agent (trigger `attended`), with its items by status,
its ledger entries at the server's minutes in force (dated at the run's end) and its supervision time, in
one transaction: the dashboard counts it like any other run, and net savings take the supervision off.
The robot must be one the agent may launch here. `Idempotency-Key` (required) makes a report sent again
(the tray's queue resending after a lost answer) answer the same run, never a second one.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import structlog
from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from robocore.engine import new_run_id
from robocore.i18n import N_
from robocore.i18n import lazy_gettext as _l
from robocore.ledger import MinutesInForce, entry_for_item, entry_for_run
from robocore.secrets import scrub_any
from robocore.server.auth import Principal, require
from robocore.server.errors import AUTHENTICATED, ApiError, documented
from robocore.server.routes_robots import launchable
from robocore.server.routes_runs import IDEMPOTENCY_KEY, _idempotency_key
from robocore.server.state import ServerState, server_state
from robocore.statuses import RUN_COMPLETED, ItemStatus, RunStatus
from robocore.store import KeyTaken, NewRun
from robocore.store.attended import ATTENDED, AttendedRecord, Supervision
from robocore.supervision import supervision_minutes

log = structlog.get_logger("robocore.server.attended")
router = APIRouter(prefix="/api/v1", tags=["runs"], responses=AUTHENTICATED)
MAX_ITEMS = 100_000  # items of one reported run
MAX_AWAY = 500  # away intervals of one run
MAX_INPUTS = 100
MAX_TEXT = 2_000
CLOCK_SKEW = dt.timedelta(minutes=10)  # a run may end this far in the server's future (clocks differ)
Scalar = Annotated[str, Field(max_length=MAX_TEXT)] | int | float | bool | None
InputName = Annotated[str, Field(max_length=100)]
Count = Annotated[int, Field(ge=0, le=MAX_ITEMS)]
FinalStatus = Literal["succeeded", "completed_with_errors", "failed", "cancelled"]
FinalItem = Literal["done", "business_error", "application_error", "skipped"]


class AttendedRunReport(BaseModel):
    """A finished attended run as the tray reports it (JSON, at most ROBOCORE_JSON_MAX_KB)."""

    model_config = ConfigDict(extra="forbid")

    robot: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=100)
    status: FinalStatus
    inputs: dict[InputName, Scalar] = Field(default_factory=dict, max_length=MAX_INPUTS,
                                            description="The run's inputs, secrets removed (a file input: its name)")
    counts: dict[FinalItem, Count] = Field(default_factory=dict, description="Items per final status")
    started_at: AwareDatetime
    ended_at: AwareDatetime
    away: list[tuple[AwareDatetime, AwareDatetime]] = Field(default_factory=list, max_length=MAX_AWAY,
                                                             description="The agent's away intervals")
    supervision_minutes: float = Field(ge=0, description="Launch to end minus away time, as the tray counted it")
    minutes_saved: float = Field(default=0.0, ge=0, description="Gross minutes the tray counted (informative: the "
                                                                 "server counts at its own minutes in force)")
    error: str | None = Field(default=None, max_length=MAX_TEXT)
    local_run_id: str | None = Field(default=None, max_length=36)
    host: str | None = Field(default=None, max_length=200)


class AttendedRunRecorded(BaseModel):
    """The run the server recorded for the report (or had recorded for the same key)."""

    id: str
    robot: str
    status: str
    url: str
    minutes_saved: float
    supervision_minutes: float
    net_minutes: float


# The route reads its body and its key itself (as the launch route does: a missing or malformed key gets our
# 400 and its message, a bad body our 422 naming the field); both are documented as required, so that a client
# following the document sends them.
_DOCUMENTED = {
    "requestBody": {"required": True, "content": {"application/json": {
        "schema": AttendedRunReport.model_json_schema(ref_template="#/components/schemas/{model}")}}},
    "parameters": [
        {"name": IDEMPOTENCY_KEY, "in": "header", "required": True,
         "schema": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[\\x20-\\x7e]+$"},
         "description": N_("Key chosen by the tray for this report: the same report sent again with the same "
                           "key answers the same run (201, `Idempotent-Replayed: true`), never a second one")}]}


def _parse(raw: bytes) -> AttendedRunReport:
    """The report's structure (422 `invalid_report` naming the first bad field); its coherence is _coherent's."""
    try:
        return AttendedRunReport.model_validate_json(raw if raw.strip() else b"{}")
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        raise ApiError(422, _l("invalid attended run report: {field}: {reason}", field=where,
                               reason=str(first.get("msg", ""))), code="invalid_report") from None


def _coherent(report: AttendedRunReport) -> None:
    """Rules between fields (checked once the robot is known to be the caller's): 422 `invalid_report`."""
    if sum(report.counts.values()) > MAX_ITEMS:
        raise ApiError(422, _l("invalid attended run report: more than {most} items in all", most=MAX_ITEMS),
                       code="invalid_report")
    try:
        moments = [m.astimezone(dt.UTC) for m in (report.started_at, report.ended_at, *(
            m for pair in report.away for m in pair))]
    except OverflowError:  # a date at the edge of the calendar (year 1 or 9999 with an offset)
        raise ApiError(422, _l("invalid attended run report: a date is out of range"), code="invalid_report") \
            from None
    start, end = moments[0], moments[1]
    if end < start:
        raise ApiError(422, _l("invalid attended run report: it ends before it starts"), code="invalid_report")
    if end > dt.datetime.now(dt.UTC) + CLOCK_SKEW:
        raise ApiError(422, _l("invalid attended run report: it ends in the future"), code="invalid_report")


def _record(request: Request, state: ServerState, who: Principal, report: AttendedRunReport,
            key: str) -> dict[str, Any]:
    """Check the grant, then record the run, items, ledger entries and supervision (or find the key's run)."""
    found = state.store.run_by_key(who.name, key)
    if found is None:
        loaded = launchable(request, state, who, report.robot)
        _coherent(report)
        spec = loaded.spec
        version_id = state.store.save_robot_version(spec.robot, loaded.sha256, loaded.content)
        minutes = MinutesInForce.of(spec)
        start, end = report.started_at, report.ended_at
        # the supervision is recomputed from the intervals; the tray's figure only when it is lower
        watched = min(report.supervision_minutes, supervision_minutes(start, end, report.away))
        counts = {ItemStatus(s): n for s, n in report.counts.items() if n}
        status = RunStatus(report.status)
        completed = status in RUN_COMPLETED and (not counts or counts.get(ItemStatus.DONE, 0) > 0)
        run_id = new_run_id()
        run = NewRun(id=run_id, robot=spec.robot, version_id=version_id, robot_path=str(loaded.path),
                     inputs=scrub_any(dict(report.inputs)), process_name=minutes.process_name,
                     service=minutes.service, minutes_per_item=minutes.minutes_per_item,
                     minutes_per_run=minutes.minutes_per_run, trigger=ATTENDED, queue=None, created_by=who.name,
                     idempotency_key=key)
        record = AttendedRecord(
            run=run, status=status, counts=counts, error=report.error,
            supervision=Supervision(run_id, start, end, watched,
                                    tuple((a.isoformat(), b.isoformat()) for a, b in report.away)),
            item_entry=entry_for_item(minutes), run_entry=entry_for_run(minutes) if completed else None,
            origin={"host": report.host, "local_run_id": report.local_run_id})
        try:
            state.store.record_attended_run(record)
        except KeyTaken as exc:  # a concurrent report with the same key was recorded first
            run_id = exc.run_id
        else:
            log.info("api.attended_recorded", run_id=run_id, robot=spec.robot, token=who.name,
                     local_run_id=report.local_run_id)
            return _answer(state, run_id, spec.robot, str(status), replayed=False)
        found = state.store.get_run(run_id)
        assert found is not None
    if found.robot != report.robot or found.trigger != ATTENDED:
        raise ApiError(409, _l("header '{header}': this key already recorded another run ({run_id}); use a new key "
                               "for another report", header=IDEMPOTENCY_KEY, run_id=found.id),
                       code="idempotency_key_conflict")
    return _answer(state, found.id, found.robot, str(found.status), replayed=True)


def _answer(state: ServerState, run_id: str, robot: str, status: str, *, replayed: bool) -> dict[str, Any]:
    saved = state.store.run_savings(run_id)
    return {"id": run_id, "robot": robot, "status": status, "url": f"/api/v1/runs/{run_id}",
            "minutes_saved": saved.gross, "supervision_minutes": saved.supervision or 0.0, "net_minutes": saved.net,
            "replayed": replayed}


@router.post("/attended-runs", status_code=201, response_model=AttendedRunRecorded,
             responses=documented(400, 404, 409, 415), openapi_extra=_DOCUMENTED,
             summary=N_("Report an attended run"))
async def report_attended_run(request: Request, response: Response, state: ServerState = Depends(server_state),
                              who: Principal = Depends(require("agent", "engineer"))) -> Any:
    """Record a run the caller attended on her computer, once per `Idempotency-Key` (required): the same key
    sent again answers the same run (201, `Idempotent-Replayed: true`)."""
    key = _idempotency_key(request)
    if key is None:
        raise ApiError(400, _l("header '{header}' required: a report is recorded once per key",
                               header=IDEMPOTENCY_KEY), code="idempotency_key_required")
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("", "application/json"):
        raise ApiError(415, _l("send JSON"))
    report = _parse(await request.body())
    answer = await run_in_threadpool(_record, request, state, who, report, key)
    if answer.pop("replayed"):
        response.headers["Idempotent-Replayed"] = "true"
    return answer
