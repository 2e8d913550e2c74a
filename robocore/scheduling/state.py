"""Per-schedule state kept in the APScheduler job store (readable and editable from any process).

Each job's kwargs hold: `since` (ISO UTC: fires before it are never counted as missed), `fingerprint`
(of the schedule file), `file_enabled` and `override` (the enabled flag set from the API, dropped
when the file's own flag changes). A paused job (no next run time) is a disabled schedule.
The job table itself is read and written by the store (`robocore.store.scheduler_jobs`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from robocore.store import JobState

__all__ = ["FUNC_REF", "JobState", "job_kwargs"]

FUNC_REF = "robocore.scheduling.service:fire_job"


def job_kwargs(name: str, *, since: dt.datetime, fingerprint: str, file_enabled: bool,
               override: bool | None) -> dict[str, Any]:
    """The kwargs a schedule job is stored with."""
    return {"name": name, "since": since.astimezone(dt.UTC).isoformat(), "fingerprint": fingerprint,
            "file_enabled": file_enabled, "override": override}
