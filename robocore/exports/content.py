"""What an export holds: the report as the API gives it, and each process's figures month by month.

Both come summed from SQL (`ledger.hours_saved`, `ledger.monthly`): nothing here walks the
ledger. Values stay exact (minutes, counts); only success rates are the report's shown ones,
rounded to 0.1 % and never to 100 % when one failed.

Texts are written when the file is: `Export.report` names its lines without a group and its total
(« (sans processus) », « Total ») in the language active then, `filters` too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from robocore import ledger, reports
from robocore.exports.period import Period
from robocore.i18n import gettext as _
from robocore.ledger import Figures, Grouping, HoursSaved
from robocore.reports import Report, ReportLine
from robocore.settings import get_settings
from robocore.store import Store
from robocore.store.overview import Scope


@dataclass(frozen=True)
class ProcessMonths:
    """One process's line for each month shown (zeros for a month without figures) and its total."""

    process: str
    months: tuple[tuple[date, ReportLine], ...]
    total: ReportLine


@dataclass(frozen=True)
class Export:
    """Everything a workbook or CSV file is written from."""

    period: Period
    saved: HoursSaved  # the ledger's sums by the grouping, unrounded
    annual_hours: float  # hours of one FTE
    months: tuple[date, ...]
    processes: tuple[ProcessMonths, ...]
    made_at: datetime
    scope: Scope | None = None  # the filters applied (a process, a service, a lab), None: every process

    @property
    def report(self) -> Report:
        """The report as the API gives it, its texts in the active language (« (sans processus) », « Total »)."""
        return reports.present(self.saved, self.annual_hours)

    @property
    def filters(self) -> str | None:
        """The filters as the workbook names them (« service « DDETS 31 » · labo « Lab Bretagne » »), or None."""
        if self.scope is None:
            return None
        shown = []
        if self.scope.process is not None:
            shown.append(_("process “{name}”", name=self.scope.process))
        if self.scope.service is not None:
            shown.append(_("service “{name}”", name=self.scope.service))
        if self.scope.lab is not None:
            shown.append(_("lab “{name}”", name=self.scope.lab))
        return " · ".join(shown) or None


def _by_process(lines: tuple[ledger.MonthlyLine, ...], months: list[date],
                annual_hours: float) -> tuple[ProcessMonths, ...]:
    """A ProcessMonths per named process (entries without a process save no hours: left to the summary).

    Figures without a date (month None, see `ledger.MonthlyLine`) count in the total, on no month.
    """
    figures: dict[str, dict[str | None, Figures]] = {}
    for line in lines:
        if line.group is not None:
            figures.setdefault(line.group, {})[line.month] = line.figures
    result = []
    for process in sorted(figures):
        per_month = figures[process]
        shown = tuple((m, ReportLine.of(f"{m:%Y-%m}", per_month.get(f"{m:%Y-%m}", Figures()), annual_hours))
                      for m in months)
        total = ReportLine.of("Total", sum(per_month.values(), Figures()), annual_hours)
        result.append(ProcessMonths(process, shown, total))
    return tuple(result)


def gather(store: Store, period: Period, by: Grouping = "process", annual_hours: float | None = None,
           scope: Scope | None = None) -> Export:
    """The report by `by` and every process's months over `period`, read from the store.

    Args:
        annual_hours: hours of one FTE; default ROBOCORE_ANNUAL_HOURS.
        scope: a process, a service and a lab to keep, as the overview page filters (None: everything).
    """
    monthly = ledger.monthly(store, period.start, period.end, "process", scope)
    saved = (ledger.over_months(monthly, by, period.start, period.end) if by == "process"
             else ledger.hours_saved(store, period.start, period.end, by, scope))  # by process: the same sums
    annual_hours = annual_hours or get_settings().annual_hours
    months = period.months(sorted({line.month for line in monthly if line.month is not None}))
    return Export(period, saved, annual_hours, tuple(months), _by_process(monthly, months, annual_hours),
                  datetime.now(UTC).replace(tzinfo=None, microsecond=0), scope)
