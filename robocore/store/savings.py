"""An agent's own savings: the ledger's minutes of the runs they launched, this week, month and year.

Gross minutes are the ledger's (what every report counts); net minutes take off the supervision time of the
attended runs among them (robocore.store.attended: the agent's time from launch to end, minus away time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, case, func, select

from robocore.store.attended import AttendedMixin
from robocore.store.models import ledger as LEDGER
from robocore.store.models import run_supervision as SUPERVISION
from robocore.store.models import runs as RUNS


@dataclass(frozen=True)
class Savings:
    """Minutes saved by one creator's runs since the week's Monday, the month's 1st and the year's 1st (UTC)."""

    week_minutes: float
    month_minutes: float
    year_minutes: float
    # supervision of their attended runs ended in each period (net = gross − supervision)
    week_supervision: float = 0.0
    month_supervision: float = 0.0
    year_supervision: float = 0.0

    @property
    def week_net(self) -> float:
        return self.week_minutes - self.week_supervision

    @property
    def month_net(self) -> float:
        return self.month_minutes - self.month_supervision

    @property
    def year_net(self) -> float:
        return self.year_minutes - self.year_supervision


@dataclass(frozen=True)
class RunSavings:
    """One run's minutes saved: gross (its ledger entries), supervision (attended runs) and net."""

    gross: float
    supervision: float | None  # None: nobody attended the run

    @property
    def net(self) -> float:
        return self.gross - (self.supervision or 0.0)


def period_starts(now: datetime) -> tuple[datetime, datetime, datetime]:
    """Midnights (naive UTC) starting the ISO week (Monday), the calendar month and the calendar year of `now`."""
    day = datetime(now.year, now.month, now.day)
    return day - timedelta(days=day.weekday()), day.replace(day=1), day.replace(month=1, day=1)


class SavingsMixin(AttendedMixin):
    """The Store's sums for one creator's savings (gross and net of supervision), and a run's."""

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
        ended, supervised = SUPERVISION.c.ended_at, SUPERVISION.c.minutes
        watched = (select(func.sum(case((ended >= week, supervised), else_=0.0)),
                          func.sum(case((ended >= month, supervised), else_=0.0)),
                          func.sum(case((ended >= year, supervised), else_=0.0)))
                   .select_from(SUPERVISION.join(RUNS, RUNS.c.id == SUPERVISION.c.run_id))
                   .where(RUNS.c.created_by == created_by, ended >= min(week, year)))
        with self.engine.begin() as conn:
            w, m, y = conn.execute(query).one()
            sw, sm, sy = conn.execute(watched).one()
        return Savings(float(w or 0), float(m or 0), float(y or 0), float(sw or 0), float(sm or 0), float(sy or 0))

    def run_savings(self, run_id: str) -> RunSavings:
        """A run's gross minutes (its ledger entries), its supervision when attended, and the net."""
        gross = select(func.coalesce(func.sum(LEDGER.c.minutes), 0.0)).where(LEDGER.c.run_id == run_id)
        watched = select(SUPERVISION.c.minutes).where(SUPERVISION.c.run_id == run_id)
        with self.engine.begin() as conn:
            minutes = float(conn.execute(gross).scalar_one())
            supervised = conn.execute(watched).scalar()
        return RunSavings(minutes, float(supervised) if supervised is not None else None)
