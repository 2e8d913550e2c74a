"""A launched run as the tray follows it: a small state machine fed by the queue, the events and reads.

    queued_offline ─ sent ─→ sent ─ running ─→ running (done/total) ─→ succeeded | completed_with_errors
         │                    │                    │                                | failed | cancelled
         └─ refused           └──── lost ──→ reconnecting ─ read again ─→ running or a final state

A final state is never left; a lost connection in a final state changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from robocore.i18n import gettext as _
from robocore.statuses import ITEM_FINAL, ItemStatus, RunStatus


class Phase(StrEnum):
    QUEUED_OFFLINE = "queued_offline"
    SENT = "sent"
    RUNNING = "running"
    RECONNECTING = "reconnecting"
    SUCCEEDED = "succeeded"
    COMPLETED_WITH_ERRORS = "completed_with_errors"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REFUSED = "refused"

    @property
    def is_final(self) -> bool:
        return self in FINAL


FINAL = frozenset({Phase.SUCCEEDED, Phase.COMPLETED_WITH_ERRORS, Phase.FAILED, Phase.CANCELLED, Phase.REFUSED})
_FROM_STATUS = {RunStatus.QUEUED: Phase.SENT, RunStatus.RUNNING: Phase.RUNNING,
                RunStatus.SUCCEEDED: Phase.SUCCEEDED, RunStatus.COMPLETED_WITH_ERRORS: Phase.COMPLETED_WITH_ERRORS,
                RunStatus.FAILED: Phase.FAILED, RunStatus.CANCELLED: Phase.CANCELLED}


class InvalidTransition(Exception):
    """A step the machine does not allow from its current phase (a programming error)."""


@dataclass(frozen=True)
class RunState:
    """What the tray knows of one launch."""

    key: str
    robot: str
    title: str
    phase: Phase
    run_id: str | None = None
    done: int = 0
    total: int = 0
    business_errors: int = 0
    error: str | None = None
    minutes_saved: float | None = None
    rejected: tuple[tuple[str, str], ...] = ()  # (item key, one-line reason) of a few rejected items
    local: bool = False  # run on this computer (attended mode): no server to wait for

    def progress(self) -> str:
        """The menu's and tooltip's line: « Saisie : 12/40 » and the like."""
        if self.phase is Phase.RUNNING and self.total:
            return _("{title}: {done}/{total} items", title=self.title, done=self.done, total=self.total)
        return _("{title}: {phase}", title=self.title, phase=phase_text(self.phase, local=self.local))


def phase_text(phase: Phase, local: bool = False) -> str:
    """A phase in words; `local`: a run on this computer, whose launch waits for no server."""
    if local and phase is Phase.QUEUED_OFFLINE:
        return _("starting")
    texts = {Phase.QUEUED_OFFLINE: _("waiting for the server"), Phase.SENT: _("queued"),
             Phase.RUNNING: _("running"), Phase.RECONNECTING: _("reconnecting to the server"),
             Phase.SUCCEEDED: _("succeeded"), Phase.COMPLETED_WITH_ERRORS: _("finished with errors"),
             Phase.FAILED: _("failed"), Phase.CANCELLED: _("cancelled"), Phase.REFUSED: _("refused")}
    return texts[phase]


def _counts(counts: Mapping[str, Any]) -> tuple[int, int, int]:
    """(items finished, items in all, business errors) from the API's counts by item status."""
    total = sum(int(n) for n in counts.values())
    done = sum(int(n) for status, n in counts.items() if status in ITEM_FINAL)
    return done, total, int(counts.get(ItemStatus.BUSINESS_ERROR, 0))


def _require(state: RunState, *allowed: Phase) -> None:
    if state.phase not in allowed:
        raise InvalidTransition(f"{state.phase} → ? not allowed (expected one of {', '.join(allowed)})")


def queued_offline(key: str, robot: str, title: str, local: bool = False) -> RunState:
    """A launch kept in the queue until the server (or, `local`, this computer's executor) takes it."""
    return RunState(key, robot, title, Phase.QUEUED_OFFLINE, local=local)


def sent(state: RunState, run_id: str) -> RunState:
    """The server accepted the launch (now, or earlier for the same key)."""
    _require(state, Phase.QUEUED_OFFLINE, Phase.SENT)
    return replace(state, phase=Phase.SENT, run_id=run_id, error=None)


def refused(state: RunState, reason: str) -> RunState:
    """The server clearly refused the launch."""
    _require(state, Phase.QUEUED_OFFLINE)
    return replace(state, phase=Phase.REFUSED, error=reason)


def observed(state: RunState, snapshot: Mapping[str, Any]) -> RunState:
    """A `status` or `end` event, or a run read again (`GET /runs/{id}`): status and item counts."""
    if state.phase.is_final:
        return state
    _require(state, Phase.SENT, Phase.RUNNING, Phase.RECONNECTING)
    try:
        status = RunStatus(str(snapshot.get("status")))
    except ValueError:
        return state
    done, total, business = _counts(snapshot.get("counts") or {})
    minutes = snapshot.get("minutes_saved")
    return replace(state, phase=_FROM_STATUS[status], done=done, total=total, business_errors=business,
                   error=snapshot.get("error") or None,
                   minutes_saved=float(minutes) if isinstance(minutes, int | float) else state.minutes_saved)


def observed_final(state: RunState, detail: Mapping[str, Any]) -> RunState:
    """The run read once more after its end: the minutes it saved (and final counts)."""
    minutes = detail.get("minutes_saved")
    done, total, business = _counts(detail.get("counts") or {})
    return replace(state, done=done or state.done, total=total or state.total,
                   business_errors=business or state.business_errors,
                   minutes_saved=float(minutes) if isinstance(minutes, int | float) else state.minutes_saved)


def with_rejected(state: RunState, items: list[tuple[str, str]]) -> RunState:
    """The first rejected items (key and reason) of a finished run, for its notification."""
    return replace(state, rejected=tuple(items))


def lost(state: RunState, reason: str) -> RunState:
    """The events stream broke or the server stopped answering while the run was followed."""
    if state.phase.is_final or state.phase is Phase.QUEUED_OFFLINE:
        return state
    return replace(state, phase=Phase.RECONNECTING, error=reason)
