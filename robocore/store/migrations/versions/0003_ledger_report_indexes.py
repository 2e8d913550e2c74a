"""ledger report indexes

Revision ID: 0003
Revises: 0002

Covering indexes for hours saved summed per process, service, robot and month (GROUP BY in
SQL, see robocore/store/ledger.py); the month one is an expression index, SQLite only.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_ledger_process_recorded', 'ledger', ['process_name', 'recorded_at', 'minutes'], unique=False)
    op.create_index('ix_ledger_service_recorded', 'ledger', ['service', 'recorded_at', 'minutes'], unique=False)
    op.create_index('ix_ledger_robot_recorded', 'ledger', ['robot', 'recorded_at', 'minutes'], unique=False)
    if op.get_bind().dialect.name == 'sqlite':
        op.create_index('ix_ledger_month', 'ledger',
                        [sa.text("strftime('%Y-%m', recorded_at)"), 'recorded_at', 'minutes'], unique=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.drop_index('ix_ledger_month', table_name='ledger')
    op.drop_index('ix_ledger_robot_recorded', table_name='ledger')
    op.drop_index('ix_ledger_service_recorded', table_name='ledger')
    op.drop_index('ix_ledger_process_recorded', table_name='ledger')
