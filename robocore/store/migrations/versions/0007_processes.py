"""processes

Revision ID: 0007
Revises: 0006

Processes as records (service, lab, region, volume, goal, stage), and the runs' index by process.
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "processes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("service", sa.String(length=200), nullable=True),
        sa.Column("lab", sa.String(length=200), nullable=True),
        sa.Column("region", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("annual_volume", sa.BigInteger(), nullable=True),
        sa.Column("goal_hours", sa.Float(), nullable=True),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_index("ix_runs_process_started", "runs", ["process_name", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_runs_process_started", table_name="runs")
    op.drop_table("processes")
