"""feedback and follow-up: no-account project follows, funded projects' progress and updates

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

    op.create_table('results_progress',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('progress >= 0 AND progress <= 100', name=op.f('ck_results_progress_progress_percent')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_results_progress_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_results_progress'))
    )
    op.create_table('results_updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('image', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_results_updates_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_results_updates_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_results_updates'))
    )
    with op.batch_alter_table('results_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_results_updates_project_id'), ['project_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('results_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_results_updates_project_id'))
    op.drop_table('results_updates')
    op.drop_table('results_progress')
    with op.batch_alter_table('results_project_follows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_results_project_follows_email'))
    op.drop_table('results_project_follows')
