"""easy-to-read (lättläst) summaries of processes and ballot projects, in both languages

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 19:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('processes', 'projects'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('easy_sv', sa.Text(), server_default='', nullable=False))
            batch_op.add_column(sa.Column('easy_en', sa.Text(), server_default='', nullable=False))


def downgrade() -> None:
    for table in ('projects', 'processes'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('easy_en')
            batch_op.drop_column('easy_sv')
