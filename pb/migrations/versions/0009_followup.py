"""feedback and follow-up: no-account project follows

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 17:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('results_project_follows',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_results_project_follows_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'email', name=op.f('pk_results_project_follows'))
    )
    with op.batch_alter_table('results_project_follows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_results_project_follows_email'), ['email'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('results_project_follows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_results_project_follows_email'))
    op.drop_table('results_project_follows')
