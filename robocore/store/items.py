"""Durable work items: stored pending before any is processed, then started and counted."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, RowMapping, bindparam, func, insert, select, update

from robocore.statuses import ItemStatus
from robocore.store.ledger import LedgerEntry, insert_entry
from robocore.store.models import items as ITEMS
from robocore.store.models import utcnow
from robocore.store.rows import Item, ItemCounts

# Hot-path statements built once with bind parameters: building SQLAlchemy statements per item
# cost more than the SQL itself (measured in bench/bench_core.py).
_START_ITEM = (update(ITEMS).where(ITEMS.c.run_id == bindparam("r"), ITEMS.c.key == bindparam("k"))
               .values(status=ItemStatus.RUNNING, attempts=ITEMS.c.attempts + 1, started_at=bindparam("t"),
                       error=None))
_FINISH_ITEM = (update(ITEMS).where(ITEMS.c.run_id == bindparam("r"), ITEMS.c.key == bindparam("k"),
                                    ITEMS.c.status != ItemStatus.DONE)
                .values(status=bindparam("s"), error=bindparam("e"), evidence=bindparam("ev"),
                        verified=bindparam("v"), finished_at=bindparam("t")))


def item_of(row: RowMapping) -> Item:
    """An `items` row as a typed Item."""
    return Item(run_id=row["run_id"], block=row["block"], seq=row["seq"], key=row["key"],
                status=ItemStatus(row["status"]), attempts=row["attempts"], error=row["error"],
                evidence=tuple(row["evidence"] or ()), verified=bool(row["verified"]),
                started_at=row["started_at"], finished_at=row["finished_at"])


class ItemsMixin:
    """The Store's work items; an item's final status is written with its ledger entry."""

    engine: Engine

    def add_items(self, run_id: str, block: str, keys: Iterable[str]) -> None:
        """Store work items as pending before any is processed (existing ones are kept)."""
        with self.engine.begin() as conn:
            existing = set(conn.execute(select(ITEMS.c.key).where(ITEMS.c.run_id == run_id)).scalars())
            rows = [dict(run_id=run_id, block=block, seq=i, key=k, status=ItemStatus.PENDING, attempts=0)
                    for i, k in enumerate(keys) if k not in existing]
            if rows:
                conn.execute(insert(ITEMS), rows)

    def item_states(self, run_id: str) -> dict[str, ItemStatus]:
        """Each item's status, by key."""
        with self.engine.begin() as conn:
            rows = conn.execute(select(ITEMS.c.key, ITEMS.c.status).where(ITEMS.c.run_id == run_id)).all()
        return {key: ItemStatus(status) for key, status in rows}

    def items(self, run_id: str, limit: int | None = None, offset: int = 0,
              status: ItemStatus | None = None) -> list[Item]:
        """A run's items (of one status, when given), block by block in their order (`limit` of them from
        `offset`, or all)."""
        query = select(ITEMS).where(ITEMS.c.run_id == run_id)
        if status is not None:
            query = query.where(ITEMS.c.status == status)
        query = query.order_by(ITEMS.c.block, ITEMS.c.seq).limit(limit).offset(offset)
        with self.engine.begin() as conn:
            return [item_of(r) for r in conn.execute(query).mappings()]

    def start_item(self, run_id: str, key: str) -> None:
        """Mark an item running and count the attempt."""
        with self.engine.begin() as conn:
            conn.execute(_START_ITEM, {"r": run_id, "k": key, "t": utcnow()})

    def finish_item(self, run_id: str, key: str, status: ItemStatus, *, error: str | None = None,
                    evidence: list[str] | None = None, verified: bool = False,
                    ledger: LedgerEntry | None = None) -> bool:
        """Set an item's final status and, for a done item, its ledger entry, in one transaction.

        Returns False when the item was already done (nothing is written twice).
        """
        now = utcnow()
        with self.engine.begin() as conn:
            result = conn.execute(_FINISH_ITEM, {"r": run_id, "k": key, "s": status, "e": error,
                                                 "ev": evidence or None, "v": int(verified), "t": now})
            if result.rowcount != 1:
                return False
            if status == ItemStatus.DONE and ledger is not None:
                insert_entry(conn, ledger, run_id, key, now)
        return True

    def counts(self, run_id: str) -> ItemCounts:
        """How many of a run's items are in each status."""
        query = (select(ITEMS.c.status, func.count()).where(ITEMS.c.run_id == run_id)
                 .group_by(ITEMS.c.status))
        with self.engine.begin() as conn:
            return {ItemStatus(s): int(n) for s, n in conn.execute(query).all()}
