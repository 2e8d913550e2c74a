"""The schedule file model: a robot, its inputs, a cron or interval trigger and its policies."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from robocore.i18n import gettext as _
from robocore.i18n import ngettext

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"
INTERVAL_UNITS = ("weeks", "days", "hours", "minutes", "seconds")
DEFAULT_TIMEZONE = "Europe/Paris"
HOLIDAY_COUNTRIES = ("fr",)


class Interval(BaseModel):
    """A fixed period, e.g. {minutes: 30}; fire times are aligned on 2000-01-01 00:00 UTC."""

    model_config = ConfigDict(extra="forbid")

    weeks: int = Field(0, ge=0)
    days: int = Field(0, ge=0)
    hours: int = Field(0, ge=0)
    minutes: int = Field(0, ge=0)
    seconds: int = Field(0, ge=0)

    @property
    def total_seconds(self) -> int:
        return (((self.weeks * 7 + self.days) * 24 + self.hours) * 60 + self.minutes) * 60 + self.seconds

    @model_validator(mode="after")
    def _positive(self) -> Interval:
        if self.total_seconds <= 0:
            raise ValueError(_("an interval lasts one second at least"))
        return self

    def describe(self) -> str:
        """'30min', '1h 30min', '10s'."""
        units = {"weeks": "sem", "days": "j", "hours": "h", "minutes": "min", "seconds": "s"}
        return " ".join(f"{getattr(self, u)}{units[u]}" for u in INTERVAL_UNITS if getattr(self, u))


class ScheduleSpec(BaseModel):
    """One `schedules/*.yaml` file."""

    model_config = ConfigDict(extra="forbid")

    schedule: str = Field(pattern=NAME_PATTERN)
    robot: str = Field(min_length=1)
    description: str | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)
    cron: str | None = None
    interval: Interval | None = None
    working_day_of_month: int | None = Field(None, ge=1, le=23)
    timezone: str = DEFAULT_TIMEZONE
    misfire: Literal["skip", "run_once"] = "skip"
    grace_seconds: int = Field(300, ge=0)
    skip_public_holidays: Literal["fr"] | None = None
    enabled: bool = True
    queue: str | None = None

    @property
    def trigger_text(self) -> str:
        """Human description of the trigger, e.g. 'cron 30 7 * * *' or 'toutes les 10s'."""
        if self.cron is not None:
            text = f"cron {self.cron}"
        else:
            text = _("every {interval}", interval=self.interval.describe() if self.interval else "?")
        if self.working_day_of_month:
            n = self.working_day_of_month
            text += " (" + ngettext("working day {n}", "working day {n}", n) + ")"
        return text

    def fingerprint(self) -> str:
        """A hash of everything that shapes the trigger and the runs (to detect edits)."""
        data = self.model_dump(mode="json", exclude={"enabled", "description"})
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]
