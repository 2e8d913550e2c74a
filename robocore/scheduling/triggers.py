"""APScheduler 3 triggers built from a schedule spec (standard crontab weekdays, aligned intervals)."""

from __future__ import annotations

import datetime as dt
from collections import deque
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from robocore.i18n import gettext as _
from robocore.scheduling.holidays import working_day_index
from robocore.scheduling.spec import ScheduleSpec

_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab numbering: 0 (and 7) = Sunday
_APS_ORDER = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
INTERVAL_ORIGIN = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def _crontab_weekdays(field: str) -> str:
    """Crontab weekday numbers (0/7 = Sunday) as APScheduler names (APScheduler 3 counts 0 = Monday)."""
    if not any(c.isdigit() for c in field.split("/")[0]):
        return field  # '*', '*/2' (below), 'mon-fri' keep their meaning
    days: set[int] = set()
    for token in field.split(","):
        body, _slash, step_text = token.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if body == "*":
                lo, hi = 0, 6
            elif "-" in body:
                lo, hi = (int(part) for part in body.split("-", 1))
            else:
                lo = int(body)
                hi = 6 if step_text else lo
        except ValueError:
            raise ValueError(_("invalid weekday '{token}' (0-7 or mon-sun)", token=token)) from None
        if not (0 <= lo <= 7 and 0 <= hi <= 7 and lo <= hi) or step < 1:
            raise ValueError(_("invalid weekday '{token}' (0-7, 0 and 7 = Sunday)", token=token))
        days.update(d % 7 for d in range(lo, hi + 1, step))
    return ",".join(name for name in _APS_ORDER if _DAYS.index(name) in days)


def parse_cron(text: str, timezone: str) -> CronTrigger:
    """A crontab line (5 fields, or 6 with seconds first) as a CronTrigger; ValueError if invalid."""
    fields = text.split()
    if len(fields) not in (5, 6):
        raise ValueError(_("{n} fields instead of 5 (minute hour day month weekday) or 6 (seconds first)",
                           n=len(fields)))
    second = fields.pop(0) if len(fields) == 6 else "0"
    minute, hour, day, month, weekday = fields
    weekday = _crontab_weekdays(weekday)
    return CronTrigger(second=second, minute=minute, hour=hour, day=day, month=month, day_of_week=weekday,
                       timezone=ZoneInfo(timezone))


class WorkingDayTrigger(BaseTrigger):
    """Keeps only the fire times of a cron trigger that fall on the N-th working day of their month."""

    def __init__(self, base: CronTrigger, nth: int, country: str | None) -> None:
        self.base, self.nth, self.country = base, nth, country

    def get_next_fire_time(self, previous_fire_time: dt.datetime | None, now: dt.datetime) -> dt.datetime | None:
        """Next fire time of the base trigger on a matching day (scans at most ~3 years)."""
        prev, current = previous_fire_time, now
        for _attempt in range(1200):
            candidate = self.base.get_next_fire_time(prev, current)
            if candidate is None:
                return None
            if working_day_index(candidate.date(), self.country) == self.nth:
                return candidate
            next_day = dt.datetime.combine(candidate.date() + dt.timedelta(days=1), dt.time(),
                                           tzinfo=candidate.tzinfo)
            prev, current = None, next_day
        return None

    def __getstate__(self) -> dict[str, Any]:
        return {"version": 1, "base": self.base, "nth": self.nth, "country": self.country}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.base, self.nth, self.country = state["base"], state["nth"], state["country"]

    def __str__(self) -> str:
        return f"working_day[{self.nth}, {self.base}]"


def build_trigger(spec: ScheduleSpec) -> BaseTrigger:
    """The trigger of a (validated) schedule spec."""
    if spec.cron is not None:
        cron = parse_cron(spec.cron, spec.timezone)
        if spec.working_day_of_month:
            return WorkingDayTrigger(cron, spec.working_day_of_month, spec.skip_public_holidays)
        return cron
    assert spec.interval is not None
    return IntervalTrigger(seconds=spec.interval.total_seconds, start_date=INTERVAL_ORIGIN,
                           timezone=ZoneInfo(spec.timezone))


def fire_times(trigger: BaseTrigger, after: dt.datetime, now: dt.datetime, limit: int = 100_000) -> list[dt.datetime]:
    """Fire times t with after < t <= now, in order, as APScheduler computes them (at most `limit`, latest kept)."""
    out: deque[dt.datetime] = deque(maxlen=limit)
    t = trigger.get_next_fire_time(None, after + dt.timedelta(microseconds=1))
    while t is not None and t <= now:
        out.append(t)
        t = trigger.get_next_fire_time(t, now)
    return list(out)


def next_times(trigger: BaseTrigger, now: dt.datetime, count: int = 3) -> list[dt.datetime]:
    """The next `count` fire times strictly after now."""
    out: list[dt.datetime] = []
    t = trigger.get_next_fire_time(None, now + dt.timedelta(microseconds=1))
    while t is not None and len(out) < count:
        out.append(t)
        t = trigger.get_next_fire_time(t, t + dt.timedelta(microseconds=1))
    return out
