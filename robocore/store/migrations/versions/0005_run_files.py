"""run files

Revision ID: 0005
Revises: 0004

Run files and log lines kept in the store for every process of a deployment
(ROBOCORE_STORAGE=database): files by run-relative path with their bytes in chunks,
and each run's log lines numbered from 1.
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'run_files',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('run_id', sa.String(length=36), nullable=False),
        sa.Column('path', sa.String(length=512), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('chunks', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('run_id', 'path', name='uq_run_files_run_path'),
    )
    op.create_table(
        'run_file_chunks',
        sa.Column('file_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['file_id'], ['run_files.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('file_id', 'seq'),
    )
    op.create_table(
        'run_log_lines',
        sa.Column('run_id', sa.String(length=36), nullable=False),
        sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('line', sa.Text(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('run_id', 'seq'),
    )


def downgrade() -> None:
    op.drop_table('run_log_lines')
    op.drop_table('run_file_chunks')
    op.drop_table('run_files')
