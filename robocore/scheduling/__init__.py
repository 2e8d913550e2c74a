"""Schedules (`schedules/*.yaml`): cron or interval triggers for robots, run by one leader server."""

from __future__ import annotations

from typing import Any

__all__ = ["LoadedSchedule", "ScheduleInfo", "ScheduleSpec", "SchedulerService",
           "default_schedules_dir", "load_all", "load_schedule"]

_WHERE = {"LoadedSchedule": "load", "load_all": "load", "load_schedule": "load",
          "ScheduleInfo": "listing", "SchedulerService": "service", "default_schedules_dir": "service",
          "ScheduleSpec": "spec"}


def __getattr__(name: str) -> Any:
    """Import on first use (APScheduler is not needed by every command)."""
    if name not in _WHERE:
        raise AttributeError(name)
    from importlib import import_module

    return getattr(import_module(f"robocore.scheduling.{_WHERE[name]}"), name)
