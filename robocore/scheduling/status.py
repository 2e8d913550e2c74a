"""What the operator sees of scheduling: who leads and how fresh its heartbeat is, why a schedule is blocked."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from robocore.i18n import gettext as _
from robocore.statuses import FireStatus, RunStatus
from robocore.store import ScheduleFire, Store, utcnow

# A leader whose heartbeat is older than this is taken for dead or stuck (it beats every poll, 1 s by default).
LEADER_STALE_SECONDS = 30.0


@dataclass(frozen=True)
class LeaderStatus:
    """The scheduling leader as `robo schedules`, the API and health show it."""

    leading: bool                 # a live leader exists (fresh heartbeat, not resigned)
    owner: str | None = None
    host: str | None = None
    pid: int | None = None
    since: dt.datetime | None = None
    heartbeat_at: dt.datetime | None = None
    heartbeat_age_s: float | None = None
    note: str | None = None       # why the last leader gave the lead up

    def as_json(self) -> dict[str, Any]:
        """JSON-ready (times ISO 8601 UTC)."""
        out: dict[str, Any] = dict(vars(self))
        for key in ("since", "heartbeat_at"):
            moment = out[key]
            out[key] = moment.replace(tzinfo=dt.UTC).isoformat() if moment else None
        return out


def leader_status(store: Store) -> LeaderStatus:
    """The recorded leader and whether it is alive now."""
    leader = store.scheduler_leader()
    if leader is None:
        return LeaderStatus(leading=False)
    age = leader.age_seconds()
    return LeaderStatus(leading=age <= LEADER_STALE_SECONDS and not leader.resigned, owner=leader.owner,
                        host=leader.host, pid=leader.pid, since=leader.since, heartbeat_at=leader.heartbeat_at,
                        heartbeat_age_s=round(age, 1), note=leader.note)


def duration_text(seconds: float) -> str:
    """12 s, 12 min, 3 h 05 (French abbreviations, as the CLI shows them)."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d}"


def run_holding(store: Store, run_id: str) -> str:
    """`exécution X en file depuis 12 min` (or running, with its last heartbeat), in the active language."""
    run = store.get_run(run_id)
    if run is None:
        return _("run {run_id}", run_id=run_id)
    now = utcnow()
    if run.status is RunStatus.QUEUED:
        age = duration_text((now - run.started_at).total_seconds())
        return _("run {run_id} queued for {age}", run_id=run_id, age=age)
    age = duration_text((now - run.started_at).total_seconds())
    beat = _(", last heartbeat {age} ago", age=duration_text((now - run.heartbeat_at).total_seconds())) \
        if run.heartbeat_at else ""
    return _("run {run_id} running for {age}{beat}", run_id=run_id, age=age, beat=beat)


def blocked_reason(store: Store, schedule: str, last_fire: ScheduleFire | None) -> str | None:
    """Why the schedule's next fire would be skipped (its previous run still going), else None."""
    active = store.live_run(f"schedule:{schedule}")
    if active is None:
        return None
    reason = run_holding(store, active)
    if last_fire is not None and last_fire.status is FireStatus.SKIPPED_OVERLAP:
        reason += _("; last fire skipped ({moment} UTC)", moment=last_fire.fire_time.strftime("%Y-%m-%d %H:%M:%S"))
    return reason
