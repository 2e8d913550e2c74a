"""The Store: the one door to the database, one mixin per concept; each status change is one transaction."""

from __future__ import annotations

import structlog
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from robocore.errors import StoreError
from robocore.i18n import lazy_gettext as _l
from robocore.i18n import render, speaking
from robocore.store import migrate
from robocore.store.connection import DATABASE_ERRORS, make_engine, redact_url
from robocore.store.events import EventsMixin
from robocore.store.items import ItemsMixin
from robocore.store.leader_locks import LeaderLocksMixin
from robocore.store.ledger import LedgerMixin
from robocore.store.metrics_queries import MetricsQueriesMixin
from robocore.store.overview import OverviewMixin
from robocore.store.processes import ProcessesMixin
from robocore.store.purge import PurgeMixin
from robocore.store.run_files import RunFilesMixin
from robocore.store.runs import RunsMixin
from robocore.store.savings import SavingsMixin
from robocore.store.schedule_fires import ScheduleFiresMixin
from robocore.store.scheduler_jobs import SchedulerJobsMixin
from robocore.store.scheduler_leader import SchedulerLeaderMixin
from robocore.store.tokens import TokensMixin
from robocore.store.totals import TotalsMixin

log = structlog.get_logger("robocore.store")

class Store(RunsMixin, ItemsMixin, LedgerMixin, EventsMixin, TokensMixin, ScheduleFiresMixin,
            SchedulerJobsMixin, LeaderLocksMixin, SchedulerLeaderMixin, TotalsMixin, PurgeMixin, MetricsQueriesMixin,
            RunFilesMixin, ProcessesMixin, OverviewMixin, SavingsMixin):
    """Runs, items, events, tokens, schedule fires and jobs, ledger entries and the scheduler's lock in one database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        try:
            migrate.upgrade(self.engine)
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise StoreError(render(_l("database unreachable: {url} ({reason})", url=redact_url(url), reason=reason),
                                    speaking())) from None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        """Release the connections; on SQLite, refresh the query planner's statistics first.

        SQLite picks the covering indexes of the reports (migrations 0003, 0008) only with statistics:
        `PRAGMA optimize` analyses the tables this process's queries used whose statistics are stale,
        sampling at most 400 rows per index (`analysis_limit`), so a `robo run` ends a few ms later.
        """
        if self.dialect == "sqlite":
            try:
                with self.engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA analysis_limit=400")
                    conn.exec_driver_sql("PRAGMA optimize")
            except DATABASE_ERRORS as exc:  # a busy or read-only database: statistics wait for the next close
                log.info("store.optimize_skipped", reason=type(exc).__name__)
        self.engine.dispose()

    def ping(self) -> None:
        """Raise when the database does not answer."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
