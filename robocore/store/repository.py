"""The Store: the one door to the database, one mixin per concept; each status change is one transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from robocore.errors import StoreError
from robocore.statuses import ItemStatus
from robocore.store import ledger as ledger_sql
from robocore.store import migrate
from robocore.store.connection import make_engine, redact_url
from robocore.store.events import EventsMixin
from robocore.store.items import ItemsMixin
from robocore.store.leader_locks import LeaderLocksMixin
from robocore.store.ledger import Grouping, LedgerEntry, LedgerLine, LedgerRow
from robocore.store.models import items as ITEMS
from robocore.store.models import utcnow
from robocore.store.runs import RunsMixin
from robocore.store.schedule_fires import ScheduleFiresMixin
from robocore.store.scheduler_jobs import SchedulerJobsMixin
from robocore.store.tokens import TokensMixin
from robocore.store.totals import TotalsMixin

# Hot-path statement built once with bind parameters: building SQLAlchemy statements
# per item cost more than the SQL itself (measured in bench/bench_core.py).
_FINISH_ITEM = (update(ITEMS).where(ITEMS.c.run_id == bindparam("r"), ITEMS.c.key == bindparam("k"),
                                    ITEMS.c.status != ItemStatus.DONE)
                .values(status=bindparam("s"), error=bindparam("e"), evidence=bindparam("ev"),
                        verified=bindparam("v"), finished_at=bindparam("t")))


class Store(RunsMixin, ItemsMixin, EventsMixin, TokensMixin, ScheduleFiresMixin, SchedulerJobsMixin,
            LeaderLocksMixin, TotalsMixin):
    """Runs, items, events, tokens, schedule fires and jobs, ledger entries and the scheduler's lock in one database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        try:
            migrate.upgrade(self.engine)
        except OperationalError as exc:
            raise StoreError(f"base de données injoignable / database unreachable: {redact_url(url)} "
                             f"({str(exc.orig).strip().splitlines()[0] if exc.orig else exc})") from None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> None:
        """Raise when the database does not answer."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    # ---- an item's end and the ledger -----------------------------------------------
    def finish_item(self, run_id: str, key: str, status: ItemStatus, *, error: str | None = None,
                    evidence: list[str] | None = None, verified: bool = False,
                    ledger: LedgerEntry | None = None) -> bool:
        """Set an item's final status and, for a done item, its ledger row, in one transaction.

        Returns False when the item was already done (nothing is written twice).
        """
        now = utcnow()
        with self.engine.begin() as conn:
            result = conn.execute(_FINISH_ITEM, {"r": run_id, "k": key, "s": status, "e": error,
                                                 "ev": evidence or None, "v": int(verified), "t": now})
            if result.rowcount != 1:
                return False
            if status == ItemStatus.DONE and ledger is not None:
                ledger_sql.insert_entry(conn, ledger, run_id, key, now)
        return True

    def record_run_minutes(self, run_id: str, ledger: LedgerEntry) -> bool:
        """The fixed minutes of a completed run, at most once per run."""
        try:
            with self.engine.begin() as conn:
                ledger_sql.insert_entry(conn, ledger, run_id, None, utcnow())
            return True
        except IntegrityError:
            return False

    def run_minutes(self, run_id: str) -> float:
        """Minutes a run saved so far (its items' and its own entries)."""
        with self.engine.begin() as conn:
            return ledger_sql.run_minutes(conn, run_id)

    def ledger_rows(self, start: datetime | None = None, end: datetime | None = None) -> list[LedgerRow]:
        """Ledger entries recorded from start (included) to end (excluded), oldest first."""
        with self.engine.begin() as conn:
            return ledger_sql.rows(conn, start, end)

    def ledger_lines(self, by: Grouping, start: datetime | None = None,
                     end: datetime | None = None) -> list[LedgerLine]:
        """Minutes saved, items and runs by outcome per group, summed in SQL."""
        with self.engine.begin() as conn:
            return ledger_sql.lines(conn, by, start, end)
