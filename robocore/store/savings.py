"""An agent's own savings: the ledger's minutes of the runs they launched, this week, month and year."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, case, func, select

from robocore.store.models import ledger as LEDGER
from robocore.store.models import runs as RUNS


@dataclass(frozen=True)
class Savings:
    """Minutes saved by one creator's runs since the week's Monday, the month's 1st and the year's 1st (UTC)."""

    week_minutes: float
    month_minutes: float
    year_minutes: float


def period_starts(now: datetime) -> tuple[datetime, datetime, datetime]:
    """Midnights (naive UTC) starting the ISO week (Monday), the calendar month and the calendar year of `now`."""
    day = datetime(now.year, now.month, now.day)
    return day - timedelta(days=day.weekday()), day.replace(day=1), day.replace(month=1, day=1)


class SavingsMixin:
    """The Store's sums for one creator's savings."""

    engine: Engine

    def savings_of(self, created_by: str, now: datetime) -> Savings:
        """The ledger's minutes of the runs `created_by` launched, per period, in one SQL sum (CASE per period).

        Args:
            now: naive UTC; the week may start in the previous year (so the scan starts at the earlier date).
        """
        week, month, year = period_starts(now)
        at, minutes = LEDGER.c.recorded_at, LEDGER.c.minutes
        query = (select(func.sum(case((at >= week, minutes), else_=0.0)),
                        func.sum(case((at >= month, minutes), else_=0.0)),
                        func.sum(case((at >= year, minutes), else_=0.0)))
                 .select_from(LEDGER.join(RUNS, RUNS.c.id == LEDGER.c.run_id))
                 .where(RUNS.c.created_by == created_by, at >= min(week, year)))
        with self.engine.begin() as conn:
            w, m, y = conn.execute(query).one()
        return Savings(float(w or 0), float(m or 0), float(y or 0))
