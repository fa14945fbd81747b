"""what a follow-up photo shows (alt text), written by the official who posts it

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 03:50:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('results_updates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('image_alt', sa.String(length=300), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('results_updates', schema=None) as batch_op:
        batch_op.drop_column('image_alt')
