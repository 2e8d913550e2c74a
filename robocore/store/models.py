"""Tables of the store: robot versions, runs, work items, step events, the ledger.

SQLAlchemy Core tables (not ORM classes): the CLI's cold start pays for every import,
and the ORM alone costs about 0.1 s that the store does not need.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()


def utcnow() -> datetime:
    """Naive UTC now: every timestamp in the store is UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


# The exact robot file a run used (its content and SHA-256).
robot_versions = Table(
    "robot_versions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("robot", String(100), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", Text, nullable=False),
    Column("created_at", DateTime, nullable=False, default=utcnow),
    UniqueConstraint("robot", "sha256", name="uq_robot_versions_robot_sha"),
)

# One execution of a robot, with the manual minutes in force when it started.
runs = Table(
    "runs", metadata,
    Column("id", String(36), primary_key=True),
    Column("robot", String(100), nullable=False, index=True),
    Column("version_id", Integer, ForeignKey("robot_versions.id"), nullable=False),
    Column("robot_path", Text, nullable=False),
    Column("status", String(32), nullable=False, index=True),
    Column("trigger", String(32), nullable=False, default="cli"),
    Column("inputs", JSON, nullable=False, default=dict),
    Column("process_name", String(200)),
    Column("service", String(200)),
    Column("minutes_per_item", Float, nullable=False, default=0.0),
    Column("minutes_per_run", Float, nullable=False, default=0.0),
    Column("started_at", DateTime, nullable=False, default=utcnow, index=True),
    Column("finished_at", DateTime),
    Column("heartbeat_at", DateTime),
    Column("host", String(200)),
    Column("pid", Integer),
    Column("error", Text),
    Column("owner", String(120)),        # the process executing it (a lease renewed by heartbeats)
    Column("queue", String(50)),
    Column("cancel_requested", Integer, nullable=False, default=0, server_default="0"),
    Column("created_by", String(100)),   # API token name, "cli" or "schedule:<name>"
    # the client's Idempotency-Key (0009): one run per creator and key, the database refuses a second
    Column("idempotency_key", String(100)),
    Index("uq_runs_created_by_idempotency_key", "created_by", "idempotency_key", unique=True),
)

# A durable work item: stored before it is processed, unique per run and key.
items = Table(
    "items", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(36), ForeignKey("runs.id"), nullable=False),
    Column("block", String(100), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("key", String(500), nullable=False),
    Column("status", String(32), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("evidence", JSON),
    Column("verified", Integer, nullable=False, default=0),
    Column("started_at", DateTime),
    Column("finished_at", DateTime),
    UniqueConstraint("run_id", "key", name="uq_items_run_key"),
    # finished_at too (0008): the overview counts a period's items per run and status from the index alone
    Index("ix_items_run_status", "run_id", "status", "finished_at"),
)

# A step's outcome (run-level steps and failing item steps).
step_events = Table(
    "step_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(36), ForeignKey("runs.id"), nullable=False, index=True),
    Column("item_key", String(500)),
    Column("step", String(200), nullable=False),
    Column("status", String(32), nullable=False),
    Column("duration_ms", Float, nullable=False, default=0.0),
    Column("message", Text),
    Column("at", DateTime, nullable=False, default=utcnow),
)

# Minutes of manual work saved: one row per done item, one per completed run.
# `entry_key` is unique ("item:<run>:<key>" or "run:<run>"): the database itself refuses
# a second row for the same item, whatever happens upstream.
ledger = Table(
    "ledger", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("entry_key", String(600), nullable=False, unique=True),
    Column("run_id", String(36), ForeignKey("runs.id"), nullable=False, index=True),
    Column("kind", String(8), nullable=False),
    Column("robot", String(100), nullable=False),
    Column("process_name", String(200)),
    Column("service", String(200)),
    Column("minutes", Float, nullable=False),
    Column("recorded_at", DateTime, nullable=False, default=utcnow, index=True),
    # Reports sum minutes per process, service, robot or month over a period: each index holds
    # every column its GROUP BY reads, so the sum scans a narrow index, never the table (0003).
    Index("ix_ledger_process_recorded", "process_name", "recorded_at", "minutes"),
    Index("ix_ledger_service_recorded", "service", "recorded_at", "minutes"),
    Index("ix_ledger_robot_recorded", "robot", "recorded_at", "minutes"),
    # SQLite only, the expression `month_key` compiles to; PostgreSQL groups months faster by a
    # parallel scan than through an index (measured in bench/bench_ledger.py)
    Index("ix_ledger_month", text("strftime('%Y-%m', recorded_at)"), "recorded_at", "minutes")
    .ddl_if(dialect="sqlite"),
    # SQLite only (0008): hours per process (per service) and month in the index's order, no sort
    # (robocore.store.overview.month_of writes this expression)
    Index("ix_ledger_process_month", "process_name", text("substr(recorded_at, 1, 7)"), "recorded_at", "minutes")
    .ddl_if(dialect="sqlite"),
    Index("ix_ledger_service_month", "service", text("substr(recorded_at, 1, 7)"), "recorded_at", "minutes")
    .ddl_if(dialect="sqlite"),
    # the run entries alone (0012): each process's runs credited over 12 months without reading its items' entries
    Index("ix_ledger_runs", "process_name", "recorded_at", sqlite_where=text("kind = 'run'"),
          postgresql_where=text("kind = 'run'")),
)

# The ledger summed per UTC day, robot, process and service (0011): kept equal to `ledger` by database triggers,
# in the transaction of every write to it, whoever writes (the store, a bulk load, a fix by hand). The overview
# reads its hours from these few rows per day instead of the entries. A key without process or service (NULL)
# never conflicts: such entries get rows of their own, whose sums stay exact.
ledger_days = Table(
    "ledger_days", metadata,
    Column("day", Date, nullable=False),
    Column("robot", String(100), nullable=False),
    Column("process_name", String(200)),
    Column("service", String(200)),
    Column("minutes", Float, nullable=False),
    Column("entries", Integer, nullable=False),
    UniqueConstraint("day", "robot", "process_name", "service", name="uq_ledger_days_key"),
)

# API tokens: only a hash is stored; the token is shown once at creation.
api_tokens = Table(
    "api_tokens", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("token_hash", String(200), nullable=False),
    Column("lookup", String(16), nullable=False, unique=True),  # token prefix, to find the row
    Column("groups", JSON, nullable=False, default=list),
    Column("created_at", DateTime, nullable=False, default=utcnow),
    Column("last_used_at", DateTime),
    Column("revoked_at", DateTime),
    Column("expires_at", DateTime),  # naive UTC like every timestamp here; NULL: never expires (0004)
)

# Which agent groups may see and launch which robot.
grants = Table(
    "grants", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("robot", String(100), nullable=False),
    Column("group_name", String(100), nullable=False),
    UniqueConstraint("robot", "group_name", name="uq_grants_robot_group"),
)

# Each fire time of a schedule, recorded once (unique): launched, skipped or missed.
schedule_fires = Table(
    "schedule_fires", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("schedule", String(100), nullable=False),
    Column("fire_time", DateTime, nullable=False),
    Column("status", String(32), nullable=False),
    Column("run_id", String(36)),
    Column("note", Text),
    Column("recorded_at", DateTime, nullable=False, default=utcnow),
    UniqueConstraint("schedule", "fire_time", name="uq_schedule_fires_schedule_time"),
)

# Run files kept in the store (ROBOCORE_STORAGE=database, see robocore/store/run_files.py): one row per
# file of a run by its run-relative path, its bytes in chunks of at most 1 MiB so that no statement moves
# a whole 20 MB blob; no foreign key to `runs`: uploads are stored before the run is recorded.
run_files = Table(
    "run_files", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(36), nullable=False),
    Column("path", String(512), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("chunks", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("updated_at", DateTime, nullable=False, default=utcnow),
    UniqueConstraint("run_id", "path", name="uq_run_files_run_path"),
)

run_file_chunks = Table(
    "run_file_chunks", metadata,
    Column("file_id", Integer, ForeignKey("run_files.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("data", LargeBinary, nullable=False),
)

# A run's log lines (JSON text, secrets already removed), numbered from 1 in the order they were written.
run_log_lines = Table(
    "run_log_lines", metadata,
    Column("run_id", String(36), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("line", Text, nullable=False),
    Column("size", Integer, nullable=False),  # bytes of the line in UTF-8 with its newline
)

# The scheduling leader of the deployment (one row): who leads, since when, its last heartbeat (0006).
scheduler_leader = Table(
    "scheduler_leader", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1: one leader per database
    Column("owner", String(200), nullable=False),                 # host:pid:random of the leading process
    Column("host", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("since", DateTime, nullable=False),
    Column("heartbeat_at", DateTime, nullable=False),
    Column("note", Text),                                          # why it gave the lead up, when it did
)

# A business process the ledger counts hours against (0007): created when a robot first names it,
# completed by engineers (lab, region, volume, goal, stage). Robots refer to it by its unique `name`,
# the ledger's and the runs' `process_name`; the minutes in force stay on runs and ledger entries.
processes = Table(
    "processes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("service", String(200)),
    Column("lab", String(200)),
    Column("region", String(200)),
    Column("description", Text),
    Column("annual_volume", BigInteger),   # estimated items per year
    Column("goal_hours", Float),           # hours to save per year
    Column("stage", String(16), nullable=False, default="production"),  # idea|study|production|retired
    Column("created_at", DateTime, nullable=False, default=utcnow),
    Column("updated_at", DateTime, nullable=False, default=utcnow),
    Column("updated_by", String(200)),     # API token name, "cli" or "robot:<name>" (auto-created)
)

# The minutes in force per process (history and current) read the runs of one process in time order (0007).
Index("ix_runs_process_started", runs.c.process_name, runs.c.started_at)

# An attended run's supervision (0010): the agent's time from launch to end, minus the time she marked herself
# away (the tray's « Je m'absente »), one row per run at most. Net savings = the ledger's minutes − these.
run_supervision = Table(
    "run_supervision", metadata,
    Column("run_id", String(36), ForeignKey("runs.id"), primary_key=True),
    Column("started_at", DateTime, nullable=False),
    Column("ended_at", DateTime, nullable=False, index=True),
    Column("minutes", Float, nullable=False),
    Column("away", JSON, nullable=False, default=list),  # [[from, to], ...] ISO 8601, within the run
    Column("recorded_at", DateTime, nullable=False, default=utcnow),
)
