"""Reports: hours saved by period and grouping (process, service, robot, month), in hours and FTE."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from robocore import ledger, reports
from robocore.ledger import Grouping
from robocore.server import paging
from robocore.server.auth import Principal, require
from robocore.server.errors import AUTHENTICATED, ApiError, documented
from robocore.server.state import ServerState, server_state

router = APIRouter(prefix="/api/v1/reports", tags=["reports"], responses=AUTHENTICATED)


ReportLine = reports.ReportLine


class HoursSaved(BaseModel):
    """Hours of manual work saved over a period, by group, with the total line.

    Item success (done / attempted) and run success (succeeded / finished) are apart; the
    total is computed from the unrounded minutes (`total_*` fields: the total line's, kept from v1).
    `lines` is one page (`limit`, `offset`) of the `line_count` groups; the total covers them all.
    """

    start: date | None
    end: date | None
    by: str
    annual_hours: float
    lines: list[ReportLine]
    total: ReportLine
    total_hours: float
    total_items: int
    total_fte: float
    line_count: int


@router.get("/hours-saved", response_model=HoursSaved, responses=documented(422),
            summary="Heures économisées / hours saved")
def hours_saved(start: date | None = Query(None, description="Début inclus (AAAA-MM-JJ)"),
                end: date | None = Query(None, description="Fin exclue (AAAA-MM-JJ)"),
                by: Grouping = Query("process"),
                limit: int = paging.limit(paging.PAGE_MAX), offset: int = paging.offset(),
                state: ServerState = Depends(server_state),
                who: Principal = Depends(require("manager"))) -> HoursSaved:
    """From the ledger: hours, FTE, items and runs by outcome per group (a page of groups), and their total."""
    if start and end and end < start:
        raise ApiError(422, "la fin de la période précède son début", "end is before start", code="bad_period")
    shown = reports.present(ledger.hours_saved(state.store, start, end, by))
    return HoursSaved(start=start, end=end, by=by, annual_hours=shown.annual_hours,
                      lines=shown.lines[offset:offset + limit], total=shown.total, total_hours=shown.total.hours,
                      total_items=shown.total.items, total_fte=shown.total.fte, line_count=len(shown.lines))
