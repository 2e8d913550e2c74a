"""run idempotency

Revision ID: 0009
Revises: 0008

The client's Idempotency-Key kept with the run (`runs.idempotency_key`), unique per creator: a launch
sent twice (the tray's queue resending after a lost answer, two requests racing) records one run. Runs
without a key (NULL) are never in conflict.
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('runs', sa.Column('idempotency_key', sa.String(length=100), nullable=True))
    op.create_index('uq_runs_created_by_idempotency_key', 'runs', ['created_by', 'idempotency_key'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_runs_created_by_idempotency_key', table_name='runs')
    with op.batch_alter_table('runs') as batch:
        batch.drop_column('idempotency_key')
