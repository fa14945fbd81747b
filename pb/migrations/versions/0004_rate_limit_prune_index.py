"""index rate-limit hits by time, for the prune of old rows

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 21:30:00
"""

from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_rate_limit_hits_at', 'rate_limit_hits', ['at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_rate_limit_hits_at', table_name='rate_limit_hits')
