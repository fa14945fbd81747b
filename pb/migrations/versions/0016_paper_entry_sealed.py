"""a pending paper entry keeps its choices sealed (key from the pepper and the code), so a
second entry that differs can show both side by side

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 06:10:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('voting_paper_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('voting_paper_entries', schema=None) as batch_op:
        batch_op.drop_column('sealed')
