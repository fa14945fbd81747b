"""initial schema: accounts, processes, audit, rate limits

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-27 17:40:37.952216
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('processes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.Column('title_sv', sa.String(length=200), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=False),
    sa.Column('purpose_sv', sa.Text(), nullable=False),
    sa.Column('purpose_en', sa.Text(), nullable=False),
    sa.Column('question_sv', sa.String(length=300), nullable=False),
    sa.Column('question_en', sa.String(length=300), nullable=False),
    sa.Column('influence_level', sa.Enum('information', 'consultation', 'discussion', 'learning-dialogue', 'co-creation', name='influencelevel', native_enum=False, length=24), nullable=False),
    sa.Column('decision_body_sv', sa.String(length=200), nullable=False),
    sa.Column('decision_body_en', sa.String(length=200), nullable=False),
    sa.Column('decision_date', sa.Date(), nullable=True),
    sa.Column('decision_text_sv', sa.Text(), nullable=False),
    sa.Column('decision_text_en', sa.Text(), nullable=False),
    sa.Column('budget', sa.BigInteger(), nullable=False),
    sa.Column('min_age', sa.Integer(), nullable=False),
    sa.Column('connections', sa.JSON(), nullable=False),
    sa.Column('other_connection_sv', sa.String(length=300), nullable=False),
    sa.Column('other_connection_en', sa.String(length=300), nullable=False),
    sa.Column('area_restricted', sa.Boolean(), nullable=False),
    sa.Column('code_channels', sa.JSON(), nullable=False),
    sa.Column('ballot_type', sa.Enum('approval-budget', 'approval-k', 'cumulative', name='ballottype', native_enum=False, length=24), nullable=False),
    sa.Column('max_projects', sa.Integer(), nullable=True),
    sa.Column('min_projects', sa.Integer(), nullable=True),
    sa.Column('min_budget_share_pct', sa.Integer(), nullable=True),
    sa.Column('points_total', sa.Integer(), nullable=True),
    sa.Column('max_points_per_project', sa.Integer(), nullable=True),
    sa.Column('counting_rule', sa.Enum('greedy', 'equal-shares', name='countingrule', native_enum=False, length=24), nullable=False),
    sa.Column('tie_break', sa.Enum('lexicographic', 'cheaper-first', 'lottery', name='tiebreak', native_enum=False, length=24), nullable=False),
    sa.Column('lottery_seed', sa.String(length=64), nullable=True),
    sa.Column('frozen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('budget > 0', name=op.f('ck_processes_budget_positive')),
    sa.CheckConstraint('min_age >= 0 AND min_age <= 120', name=op.f('ck_processes_min_age_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_processes')),
    sa.UniqueConstraint('slug', name=op.f('uq_processes_slug'))
    )
    op.create_table('rate_limit_hits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rate_limit_hits'))
    )
    with op.batch_alter_table('rate_limit_hits', schema=None) as batch_op:
        batch_op.create_index('ix_rate_limit_hits_key_at', ['key', 'at'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('display_name', sa.String(length=80), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.Enum('participant', 'official', 'admin', name='role', native_enum=False, length=20), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('areas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('budget', sa.BigInteger(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint('budget > 0', name=op.f('ck_areas_budget_positive')),
    sa.ForeignKeyConstraint(['process_id'], ['processes.id'], name=op.f('fk_areas_process_id_processes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_areas')),
    sa.UniqueConstraint('process_id', 'slug', name='uq_areas_process_slug')
    )
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('subject_type', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('process_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_events_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['process_id'], ['processes.id'], name=op.f('fk_audit_events_process_id_processes'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_process_id'), ['process_id'], unique=False)

    op.create_table('categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('name_sv', sa.String(length=80), nullable=False),
    sa.Column('name_en', sa.String(length=80), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['process_id'], ['processes.id'], name=op.f('fk_categories_process_id_processes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_categories')),
    sa.UniqueConstraint('process_id', 'key', name='uq_categories_process_key')
    )
    op.create_table('phases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('proposals', 'review', 'voting', 'counting', 'results', 'implementation', name='phasekind', native_enum=False, length=24), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_phases_ends_after_start')),
    sa.ForeignKeyConstraint(['process_id'], ['processes.id'], name=op.f('fk_phases_process_id_processes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phases')),
    sa.UniqueConstraint('process_id', 'kind', name='uq_phases_process_kind')
    )
    op.create_table('process_officials',
    sa.Column('process_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['process_id'], ['processes.id'], name=op.f('fk_process_officials_process_id_processes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_process_officials_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('process_id', 'user_id', name=op.f('pk_process_officials'))
    )
    if op.get_bind().dialect.name == "postgresql":
        # The audit log is append-only in SQL too, not only in the ORM.
        op.execute(
            """
            CREATE FUNCTION pb_audit_append_only() RETURNS trigger AS $$
            BEGIN
              RAISE EXCEPTION 'audit_events is append-only';
            END;
            $$ LANGUAGE plpgsql;
            CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
              FOR EACH ROW EXECUTE FUNCTION pb_audit_append_only();
            """
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS pb_audit_append_only()")
    op.drop_table('process_officials')
    op.drop_table('phases')
    op.drop_table('categories')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_process_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))

    op.drop_table('audit_events')
    op.drop_table('areas')
    op.drop_table('users')
    with op.batch_alter_table('rate_limit_hits', schema=None) as batch_op:
        batch_op.drop_index('ix_rate_limit_hits_key_at')

    op.drop_table('rate_limit_hits')
    op.drop_table('processes')
