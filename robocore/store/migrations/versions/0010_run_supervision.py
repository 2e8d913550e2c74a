"""run supervision

Revision ID: 0010
Revises: 0009

An attended run's supervision time (`run_supervision`, one row per run): launch to end minus the time the
agent marked herself away in the tray. Net savings are the ledger's minutes minus these minutes.
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run_supervision",
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=False),
        sa.Column("minutes", sa.Float(), nullable=False),
        sa.Column("away", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"]),
        sa.PrimaryKeyConstraint("run_id"),
    )
    op.create_index("ix_run_supervision_ended_at", "run_supervision", ["ended_at"])


def downgrade() -> None:
    op.drop_index("ix_run_supervision_ended_at", table_name="run_supervision")
    op.drop_table("run_supervision")
