"""token expiry

Revision ID: 0004
Revises: 0003

Optional expiry of API tokens: `api_tokens.expires_at`, naive UTC like every timestamp of the
store, NULL for a token that never expires (every token created before this revision).
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
