"""Reports for managers: the ledger's figures per group as shown (rounded, in FTE).

Figures come summed from `robocore.ledger`; here they are only rounded, for display: hours to
0.01 h, FTE to 0.001, success rates to 0.1 % but never to 100 % when one failed (nor to 0 %
when one succeeded): a manager reading 100 % knows that every item or run succeeded. Files
(Excel, CSV) are written by `robocore.exports` from these lines, with the exact minutes.

Texts (the groupings' names, « (sans processus) », « Total ») come from the catalogues
(robocore.i18n): `present` writes them in the active language.
"""

from __future__ import annotations

from pydantic.dataclasses import dataclass  # also the API's response model

from robocore import ledger
from robocore.i18n import Message, Text, render
from robocore.i18n import gettext as _
from robocore.i18n import lazy_gettext as _l
from robocore.ledger import Figures, HoursSaved
from robocore.settings import get_settings

GROUPINGS = ledger.GROUPINGS
LABELS: dict[str, Message] = {"process": _l("Process"), "service": _l("Service"), "robot": _l("Robot"),
                              "month": _l("Month")}  # rendered where shown: `render(LABELS[by])`
_NO_GROUP: dict[str, Text] = {"process": _l("(no process)"), "service": _l("(no service)"), "robot": "?",
                              "month": "?"}


def label(by: str) -> str:
    """The name of a grouping (« Processus », "Process"), in the active language."""
    return render(LABELS[by])


def shown_rate(part: int, whole: int) -> float | None:
    """part / whole to 0.1 % (half up), kept off 100 % and 0 % unless exact; None when whole is 0."""
    if not whole:
        return None
    permille = (part * 2000 + whole) // (2 * whole)
    return min(max(permille, int(part > 0)), 1000 - int(part < whole)) / 1000


@dataclass
class ReportLine:
    """One group's figures as shown; `minutes` is exact, `hours` and `fte` are rounded."""

    group: str
    hours: float
    items: int  # items done (as in API v1)
    runs: int  # runs finished
    success_rate: float  # runs succeeded / finished, 0.0 when none (as in API v1)
    fte: float
    minutes: float
    items_done: int
    items_attempted: int
    business_errors: int
    application_errors: int
    item_success_rate: float | None
    runs_succeeded: int
    runs_with_errors: int
    run_success_rate: float | None
    supervision_minutes: float = 0.0  # agents' supervision of the attended runs (robo tray --local)
    net_hours: float = 0.0  # hours minus that supervision, rounded

    @classmethod
    def of(cls, group: str, figures: Figures, annual_hours: float) -> ReportLine:
        """A line from unrounded figures: FTE = hours / the annual working time."""
        run_rate = shown_rate(figures.runs_succeeded, figures.runs_finished)
        return cls(group, round(figures.hours, 2), figures.items_done, figures.runs_finished, run_rate or 0.0,
                   round(figures.hours / annual_hours, 3), figures.minutes, figures.items_done,
                   figures.items_attempted, figures.business_errors, figures.application_errors,
                   shown_rate(figures.items_done, figures.items_attempted), figures.runs_succeeded,
                   figures.runs_with_errors, run_rate, figures.supervision_minutes,
                   round(figures.net_minutes / 60, 2))


@dataclass
class Report:
    """Every group's line and the total line, computed from the unrounded total."""

    by: str
    annual_hours: float
    lines: list[ReportLine]
    total: ReportLine


def present(saved: HoursSaved, annual_hours: float | None = None) -> Report:
    """Round the ledger's figures for display; the total is rounded from the exact total, not summed.

    Lines without a group (« (sans processus) ») and the total line are named in the active language.

    Args:
        annual_hours: hours of one FTE; default ROBOCORE_ANNUAL_HOURS (1,607 h, French civil service).
    """
    annual_hours = annual_hours or get_settings().annual_hours
    no_group = render(_NO_GROUP[saved.by])
    lines = [ReportLine.of(line.group or no_group, line.figures, annual_hours) for line in saved.lines]
    return Report(saved.by, annual_hours, lines, ReportLine.of(_("Total"), saved.total, annual_hours))
