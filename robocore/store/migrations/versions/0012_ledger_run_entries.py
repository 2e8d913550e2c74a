"""ledger run entries

Revision ID: 0012
Revises: 0011

`ix_ledger_runs`: a partial index of the ledger's run entries (kind 'run': one per completed run, a few
in a thousand entries) by process and time. The process pages count each process's runs credited over
the last 12 months (the estimate's fixed minutes per run) from it instead of reading every entry of the
12 months (bench/bench_process_page.py: the list of 50 processes over 1,000,000 entries). Its WHERE is
written `kind = 'run'` with a literal, as the queries write it (`robocore.store.processes.RUN_ENTRY`):
a planner uses a partial index only for a query whose condition implies the index's.
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    where = sa.text("kind = 'run'")
    op.create_index('ix_ledger_runs', 'ledger', ['process_name', 'recorded_at'], unique=False,
                    sqlite_where=where, postgresql_where=where)
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite' and bind.execute(sa.text('SELECT count(*) FROM ledger')).scalar_one() >= 100_000:
        op.execute('PRAGMA analysis_limit = 1000')  # a large store's statistics (0008) get the new index's
        op.execute('ANALYZE ix_ledger_runs')


def downgrade() -> None:
    op.drop_index('ix_ledger_runs', table_name='ledger')
