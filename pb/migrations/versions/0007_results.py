"""results: snapshots, frozen ballot files, imported elections

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 16:25:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('results_snapshots',
    sa.Column('process_id', sa.Integer(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('rule', sa.String(length=40), nullable=False),
    sa.Column('tie_break', sa.String(length=24), nullable=False),
    sa.Column('seed', sa.String(length=64), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['process_id'], ['processes.id'], name=op.f('fk_results_snapshots_process_id_processes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_results_snapshots_published_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('process_id', name=op.f('pk_results_snapshots'))
    )
    op.create_table('results_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_id', sa.Integer(), nullable=False),
    sa.Column('election', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['process_id'], ['processes.id'], name=op.f('fk_results_files_process_id_processes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_results_files')),
    sa.UniqueConstraint('process_id', 'election', 'kind', name='uq_results_files_kind')
    )
    with op.batch_alter_table('results_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_results_files_process_id'), ['process_id'], unique=False)
    op.create_table('results_imports',
    sa.Column('process_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('rule', sa.String(length=40), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['process_id'], ['processes.id'], name=op.f('fk_results_imports_process_id_processes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('process_id', name=op.f('pk_results_imports'))
    )


def downgrade() -> None:
    op.drop_table('results_imports')
    with op.batch_alter_table('results_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_results_files_process_id'))
    op.drop_table('results_files')
    op.drop_table('results_snapshots')
