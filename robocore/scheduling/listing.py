"""Schedules as `robo schedules` and the API list them: state, next fire times, last fire, what blocks them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger

from robocore.scheduling.holidays import holiday_name
from robocore.scheduling.load import load_all
from robocore.scheduling.spec import ScheduleSpec
from robocore.scheduling.status import blocked_reason
from robocore.scheduling.triggers import build_trigger, next_times
from robocore.store import ScheduleFire, Store


@dataclass(frozen=True)
class ScheduleInfo:
    """A schedule as listed by `robo schedules` and the API."""

    name: str
    robot: str
    enabled: bool
    next_fire_time: dt.datetime | None
    last_fire: ScheduleFire | None
    trigger: str = ""
    timezone: str = ""
    misfire: str = ""
    next_fire_times: list[dt.datetime] = field(default_factory=list)
    path: Path | None = None
    error: str | None = None
    blocked: str | None = None  # why the next fire would be skipped (its previous run still going)


def list_schedules(store: Store, schedules_dir: Path, robots_dir: Path | None) -> list[ScheduleInfo]:
    """Every schedule file with its state, next fire times, last fire and what blocks it (works on any server)."""
    good, bad = load_all(schedules_dir, robots_dir)
    states = store.scheduler_jobs()
    lasts = store.last_fires()
    now = dt.datetime.now(dt.UTC)
    out: list[ScheduleInfo] = []
    for item in good:
        spec = item.spec
        old = states.get(item.name)
        enabled = spec.enabled
        if old is not None and old.kwargs.get("override") is not None and \
                old.kwargs.get("file_enabled") == spec.enabled:
            enabled = bool(old.kwargs["override"])
        upcoming = upcoming_fires(spec, build_trigger(spec), now, 3) if enabled else []
        last = lasts.get(item.name)
        out.append(ScheduleInfo(name=item.name, robot=spec.robot, enabled=enabled,
                                next_fire_time=upcoming[0] if upcoming else None, last_fire=last,
                                trigger=spec.trigger_text, timezone=spec.timezone, misfire=spec.misfire,
                                next_fire_times=upcoming, path=item.path,
                                blocked=blocked_reason(store, item.name, last)))
    for path, exc in bad.items():
        out.append(ScheduleInfo(name=path.stem, robot="", enabled=False, next_fire_time=None,
                                last_fire=lasts.get(path.stem), path=path, error=str(exc)))
    return sorted(out, key=lambda info: info.name)


def upcoming_fires(spec: ScheduleSpec, trigger: BaseTrigger, now: dt.datetime, count: int) -> list[dt.datetime]:
    """The next fire times that will launch a run (public holidays left out when skipped)."""
    if not spec.skip_public_holidays:
        return next_times(trigger, now, count)
    tz = ZoneInfo(spec.timezone)
    out: list[dt.datetime] = []
    for t in next_times(trigger, now, count * 10):
        if holiday_name(t.astimezone(tz).date(), spec.skip_public_holidays) is None:
            out.append(t)
            if len(out) == count:
                break
    return out
