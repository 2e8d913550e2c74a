"""Reports: hours saved by period and grouping (process, service, robot, month), in hours and FTE.

The same report as JSON, as an Excel workbook (`.xlsx`: summary, hours per month, a sheet per
process, native charts) and as CSV for French Excel (`.csv`). A file is generated in the
threadpool (the routes are plain functions) over at most ten years (`robocore.exports.period`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from robocore import exports, ledger, reports
from robocore.exports import Period, PeriodError
from robocore.i18n import N_
from robocore.ledger import Grouping
from robocore.server import paging
from robocore.server.auth import Principal, require
from robocore.server.errors import AUTHENTICATED, ApiError, documented
from robocore.server.state import ServerState, server_state
from robocore.store.overview import Scope

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


START = N_("Start, included (YYYY-MM-DD)")
END = N_("End, excluded (YYYY-MM-DD)")
EXPORT_END = N_("End, excluded (YYYY-MM-DD), ten years at most")


@router.get("/hours-saved", response_model=HoursSaved, responses=documented(422),
            summary=N_("Hours saved"))
def hours_saved(start: date | None = Query(None, description=START),
                end: date | None = Query(None, description=END),
                by: Grouping = Query("process"),
                limit: int = paging.limit(paging.PAGE_MAX), offset: int = paging.offset(),
                state: ServerState = Depends(server_state),
                who: Principal = Depends(require("manager", "engineer"))) -> HoursSaved:
    """From the ledger: hours, FTE, items and runs by outcome per group (a page of groups), and their total."""
    _period(start, end, export=False)
    shown = reports.present(ledger.hours_saved(state.store, start, end, by))
    return HoursSaved(start=start, end=end, by=by, annual_hours=shown.annual_hours,
                      lines=shown.lines[offset:offset + limit], total=shown.total, total_hours=shown.total.hours,
                      total_items=shown.total.items, total_fte=shown.total.fte, line_count=len(shown.lines))


def _period(start: date | None, end: date | None, *, export: bool = True) -> Period:
    """The period asked for, or a 422 naming what is wrong with it (`bad_period`, `period_too_long`)."""
    try:
        return Period.checked(start, end, export=export)
    except PeriodError as exc:
        raise ApiError(422, exc.message, code=exc.code) from None


def _file(media_type: str, what: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses of a download: the file (binary) or an error."""
    return {200: {"description": what, "content": {media_type: {"schema": {"type": "string", "format": "binary"}}}},
            **documented(422)}


NAME_MAX = 200  # a process, service or lab name (the columns' length, as the overview page's filters)


def _name(description: str) -> Any:
    return Query(None, min_length=1, max_length=NAME_MAX, pattern=r"^[^\x00]*$", description=description)


@dataclass(frozen=True)
class ExportQuery:
    """What a download covers: the period, the grouping, and the overview page's filters."""

    start: date | None
    end: date | None
    by: Grouping
    scope: Scope


def export_query(start: date | None = Query(None, description=START),
                 end: date | None = Query(None, description=EXPORT_END),
                 by: Grouping = Query("process"),
                 process: str | None = _name(N_("Only this process")),
                 service: str | None = _name(N_("Only this service (the one of each ledger entry)")),
                 lab: str | None = _name(N_("Only the processes of this lab (as their record says)")),
                 ) -> ExportQuery:
    """The query parameters shared by the downloads; `process`, `service` and `lab` filter as the overview does."""
    return ExportQuery(start, end, by, Scope(process, service, lab))


def _download(state: ServerState, query: ExportQuery, suffix: str, media_type: str,
              write: Callable[[exports.Export], bytes]) -> Response:
    period = _period(query.start, query.end)
    content = write(exports.gather(state.store, period, query.by, scope=query.scope))
    name = period.filename(suffix, datetime.now(UTC).date())
    return Response(content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/hours-saved.xlsx", response_class=Response, summary=N_("Hours saved as an Excel workbook"),
            responses=_file(exports.XLSX_TYPE, N_("Excel workbook: summary, hours per month, one sheet per process")))
def hours_saved_xlsx(query: ExportQuery = Depends(export_query), state: ServerState = Depends(server_state),
                     who: Principal = Depends(require("manager", "engineer"))) -> Response:
    """The report as an Excel workbook with native charts: exact hours, French formats, no formula from data.

    `process`, `service` and `lab` restrict it as the overview page's filters do.
    """
    return _download(state, query, "xlsx", exports.XLSX_TYPE, exports.xlsx_bytes)


@router.get("/hours-saved.csv", response_class=Response, summary=N_("Hours saved as CSV"),
            responses=_file("text/csv", N_("CSV for Excel: “;”, UTF-8 with BOM, decimal comma")))
def hours_saved_csv(query: ExportQuery = Depends(export_query), state: ServerState = Depends(server_state),
                    who: Principal = Depends(require("manager", "engineer"))) -> Response:
    """The report as CSV: a line per group and the total; a text that could be a formula begins with `'`.

    `process`, `service` and `lab` restrict it as the overview page's filters do.
    """
    return _download(state, query, "csv", exports.CSV_TYPE, exports.csv_bytes)
