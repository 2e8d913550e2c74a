"""ledger days

Revision ID: 0011
Revises: 0010

`ledger_days`: the ledger's minutes and entries summed per UTC day, robot, process and service, kept equal
to the ledger by database triggers, so in the transaction of every write to `ledger` (the store's inserts,
a bulk COPY, an UPDATE or DELETE made by hand) and by nothing else: a transaction rolled back leaves
both unchanged. The overview reads its period, year-to-date and since-the-start hours from it (a year of
1,000,000 entries: a few thousand rows) instead of the raw ledger (bench/bench_overview.py).

- PostgreSQL: one statement-level trigger per operation (INSERT, UPDATE, DELETE, TRUNCATE) with transition
  tables, so a statement adds one upsert per (day, robot, process, service) it touches, whatever its size;
- SQLite: row triggers (INSERT, DELETE, UPDATE of the summed columns), an upsert each.

A key with no process or service (NULL) never conflicts: its entries get rows of their own, whose sums are
still exact (the store's entries always name a process and a service). A (day, key) whose entries all went
away is deleted. The table is filled from the ledger once, after the triggers exist (on PostgreSQL,
CREATE TRIGGER waits for the transactions writing the ledger and blocks new ones until this one commits).
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_KEY = "day, robot, process_name, service"

_PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION ledger_days_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM ledger_days;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO ledger_days AS d ({_KEY}, minutes, entries)
        SELECT CAST(recorded_at AS date), robot, process_name, service, -sum(minutes), -count(*)
        FROM ledger_removed GROUP BY 1, 2, 3, 4
        ON CONFLICT ({_KEY})
        DO UPDATE SET minutes = d.minutes + excluded.minutes, entries = d.entries + excluded.entries;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO ledger_days AS d ({_KEY}, minutes, entries)
        SELECT CAST(recorded_at AS date), robot, process_name, service, sum(minutes), count(*)
        FROM ledger_added GROUP BY 1, 2, 3, 4
        ON CONFLICT ({_KEY})
        DO UPDATE SET minutes = d.minutes + excluded.minutes, entries = d.entries + excluded.entries;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM ledger_days d USING ledger_removed r
        WHERE d.entries = 0 AND d.day = CAST(r.recorded_at AS date) AND d.robot = r.robot
          AND d.process_name = r.process_name AND d.service = r.service;
    END IF;
    RETURN NULL;
END
$$
"""

_PG_TRIGGERS = (
    "CREATE TRIGGER ledger_days_insert AFTER INSERT ON ledger REFERENCING NEW TABLE AS ledger_added "
    "FOR EACH STATEMENT EXECUTE FUNCTION ledger_days_apply()",
    "CREATE TRIGGER ledger_days_update AFTER UPDATE ON ledger "
    "REFERENCING OLD TABLE AS ledger_removed NEW TABLE AS ledger_added "
    "FOR EACH STATEMENT EXECUTE FUNCTION ledger_days_apply()",
    "CREATE TRIGGER ledger_days_delete AFTER DELETE ON ledger REFERENCING OLD TABLE AS ledger_removed "
    "FOR EACH STATEMENT EXECUTE FUNCTION ledger_days_apply()",
    "CREATE TRIGGER ledger_days_truncate AFTER TRUNCATE ON ledger "
    "FOR EACH STATEMENT EXECUTE FUNCTION ledger_days_apply()",
)


def _sqlite_add(row: str, sign: str) -> str:
    """SQLite: add (sign '') or take away (sign '-') one ledger row, NEW or OLD, from its day."""
    return (f"INSERT INTO ledger_days ({_KEY}, minutes, entries) VALUES (date({row}.recorded_at), {row}.robot, "
            f"{row}.process_name, {row}.service, {sign}{row}.minutes, {sign}1) ON CONFLICT ({_KEY}) "
            "DO UPDATE SET minutes = minutes + excluded.minutes, entries = entries + excluded.entries;")


_SQLITE_EMPTIED = ("DELETE FROM ledger_days WHERE entries = 0 AND day = date(OLD.recorded_at) AND robot = OLD.robot "
                   "AND process_name = OLD.process_name AND service = OLD.service;")

_SQLITE_TRIGGERS = (
    f"CREATE TRIGGER ledger_days_insert AFTER INSERT ON ledger BEGIN {_sqlite_add('NEW', '')} END",
    f"CREATE TRIGGER ledger_days_delete AFTER DELETE ON ledger BEGIN {_sqlite_add('OLD', '-')} {_SQLITE_EMPTIED} END",
    "CREATE TRIGGER ledger_days_update AFTER UPDATE OF recorded_at, robot, process_name, service, minutes ON ledger "
    f"BEGIN {_sqlite_add('OLD', '-')} {_sqlite_add('NEW', '')} {_SQLITE_EMPTIED} END",
)

_FILL = (f"INSERT INTO ledger_days ({_KEY}, minutes, entries) "
         "SELECT {day}, robot, process_name, service, sum(minutes), count(*) FROM ledger GROUP BY 1, 2, 3, 4")


def upgrade() -> None:
    op.create_table(
        "ledger_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("robot", sa.String(length=100), nullable=False),
        sa.Column("process_name", sa.String(length=200), nullable=True),
        sa.Column("service", sa.String(length=200), nullable=True),
        sa.Column("minutes", sa.Float(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.UniqueConstraint("day", "robot", "process_name", "service", name="uq_ledger_days_key"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        for trigger in _PG_TRIGGERS:
            op.execute(trigger)
        op.execute(_FILL.format(day="CAST(recorded_at AS date)"))
    else:
        for trigger in _SQLITE_TRIGGERS:
            op.execute(trigger)
        op.execute(_FILL.format(day="date(recorded_at)"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in ("insert", "update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS ledger_days_{name} ON ledger")
        op.execute("DROP FUNCTION IF EXISTS ledger_days_apply()")
    else:
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS ledger_days_{name}")
    op.drop_table("ledger_days")
