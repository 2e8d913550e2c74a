"""overview covering indexes

Revision ID: 0008
Revises: 0007

The overview's sums without sorting or reading the tables (bench/bench_overview.py):
- SQLite only, ix_ledger_process_month: hours per process and month (`substr(recorded_at, 1, 7)`, the
  expression robocore.store.overview.month_of writes) read in the index's order, the period's rows
  found by skip-scan, instead of a temporary B-tree for the GROUP BY over the period's entries;
  ix_ledger_service_month the same per service and month (the services page);
- ix_items_run_status widened with finished_at: items counted per run and status in a period from the
  index alone, without one table read per item.
A SQLite store with a large ledger then gathers its statistics (ANALYZE, sampled): without sqlite_stat1
the planner reads a period through ix_ledger_recorded_at and sorts, ignoring the covering indexes (the
hours per process and month 3 times slower on 1,000,000 entries). A small store is left without
statistics rather than given a small table's, which would stay once it grows.
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.create_index('ix_ledger_process_month', 'ledger',
                        ['process_name', sa.text('substr(recorded_at, 1, 7)'), 'recorded_at', 'minutes'],
                        unique=False)
        op.create_index('ix_ledger_service_month', 'ledger',
                        ['service', sa.text('substr(recorded_at, 1, 7)'), 'recorded_at', 'minutes'], unique=False)
    op.drop_index('ix_items_run_status', table_name='items')
    op.create_index('ix_items_run_status', 'items', ['run_id', 'status', 'finished_at'], unique=False)
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite' and bind.execute(sa.text('SELECT count(*) FROM ledger')).scalar_one() >= 100_000:
        op.execute('PRAGMA analysis_limit = 1000')  # sampled: a second or so on a large store
        op.execute('ANALYZE')


def downgrade() -> None:
    op.drop_index('ix_items_run_status', table_name='items')
    op.create_index('ix_items_run_status', 'items', ['run_id', 'status'], unique=False)
    if op.get_bind().dialect.name == 'sqlite':
        op.drop_index('ix_ledger_service_month', table_name='ledger')
        op.drop_index('ix_ledger_process_month', table_name='ledger')
