"""a picture for each process: its file name and what it shows (alt text), in both languages

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 00:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('processes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('image', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('image_alt_sv', sa.String(length=300), server_default='', nullable=False))
        batch_op.add_column(sa.Column('image_alt_en', sa.String(length=300), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('processes', schema=None) as batch_op:
        batch_op.drop_column('image_alt_en')
        batch_op.drop_column('image_alt_sv')
        batch_op.drop_column('image')
