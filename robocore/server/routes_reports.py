"""Reports: hours saved by period and grouping (process, service, robot, month), in hours and FTE."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from robocore import reports
from robocore.server.auth import Principal, require
from robocore.server.errors import AUTHENTICATED, ApiError
from robocore.server.state import ServerState, server_state

router = APIRouter(prefix="/api/v1/reports", tags=["reports"], responses=AUTHENTICATED)


ReportLine = reports.ReportLine


class HoursSaved(BaseModel):
    """Hours of manual work saved over a period, by group, with totals."""

    start: date | None
    end: date | None
    by: str
    annual_hours: float
    lines: list[ReportLine]
    total_hours: float
    total_items: int
    total_fte: float


@router.get("/hours-saved", response_model=HoursSaved, summary="Heures économisées / hours saved")
def hours_saved(start: date | None = Query(None, description="Début inclus (AAAA-MM-JJ)"),
                end: date | None = Query(None, description="Fin exclue (AAAA-MM-JJ)"),
                by: Literal["process", "service", "robot", "month"] = Query("process"),
                state: ServerState = Depends(server_state),
                who: Principal = Depends(require("manager"))) -> dict[str, Any]:
    """From the ledger: hours, items, runs, success rate and full-time equivalents per group."""
    if start and end and end < start:
        raise ApiError(422, "la fin de la période précède son début", "end is before start", code="bad_period")
    lines = reports.hours_saved(state.store, start, end, by)
    total = round(sum(line.hours for line in lines), 2)
    return {"start": start, "end": end, "by": by, "annual_hours": reports.ANNUAL_HOURS,
            "lines": [asdict(line) for line in lines], "total_hours": total,
            "total_items": sum(line.items for line in lines), "total_fte": round(total / reports.ANNUAL_HOURS, 3)}
