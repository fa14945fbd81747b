"""voting: codes, batches, held and mixed ballots, paper entries, records

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 15:20:04
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('voting_ballots',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('process_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('area', sa.String(length=80), nullable=True),
    sa.Column('age_band', sa.String(length=8), nullable=True),
    sa.Column('connection', sa.String(length=24), nullable=True),
    sa.Column('paper', sa.Boolean(), nullable=False),
    sa.Column('choices', sa.JSON(), nullable=False),
    sa.Column('receipt_digest', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['process_id'], ['processes.id'], name=op.f('fk_voting_ballots_process_id_processes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voting_ballots')),
    sa.UniqueConstraint('receipt_digest', name=op.f('uq_voting_ballots_receipt_digest'))
    )
    with op.batch_alter_table('voting_ballots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voting_ballots_process_id'), ['process_id'], unique=False)

    op.create_table('voting_held_ballots',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('process_id', sa.Integer(), nullable=False),
    sa.Column('receipt_digest', sa.String(length=64), nullable=True),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['process_id'], ['processes.id'], name=op.f('fk_voting_held_ballots_process_id_processes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voting_held_ballots')),
    sa.UniqueConstraint('receipt_digest', name=op.f('uq_voting_held_ballots_receipt_digest'))
    )
    with op.batch_alter_table('voting_held_ballots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voting_held_ballots_process_id'), ['process_id'], unique=False)

    op.create_table('voting_paper_entries',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('process_id', sa.Integer(), nullable=False),
    sa.Column('code_key', sa.String(length=64), nullable=False),
    sa.Column('commitment', sa.String(length=64), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['entered_by_id'], ['users.id'], name=op.f('fk_voting_paper_entries_entered_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['process_id'], ['processes.id'], name=op.f('fk_voting_paper_entries_process_id_processes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voting_paper_entries')),
    sa.UniqueConstraint('process_id', 'code_key', name='uq_voting_paper_entries_code')
    )
    op.create_table('voting_records',
    sa.Column('process_id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.Column('canonical_rules', sa.Text(), nullable=False),
    sa.Column('fingerprinted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('original_ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('extension_reason', sa.Text(), nullable=False),
    sa.Column('extended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['process_id'], ['processes.id'], name=op.f('fk_voting_records_process_id_processes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('process_id', name=op.f('pk_voting_records'))
    )
    op.create_table('voting_code_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum('letter', 'email', 'school', 'library', name='codechannel', native_enum=False, length=24), nullable=False),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=True),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked', sa.Boolean(), nullable=False),
    sa.CheckConstraint('count >= 0', name=op.f('ck_voting_code_batches_count_nonnegative')),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_voting_code_batches_area_id_areas'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_voting_code_batches_issued_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['process_id'], ['processes.id'], name=op.f('fk_voting_code_batches_process_id_processes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voting_code_batches'))
    )
    with op.batch_alter_table('voting_code_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voting_code_batches_process_id'), ['process_id'], unique=False)

    op.create_table('voting_codes',
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('process_id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('used', sa.Boolean(), nullable=False),
    sa.Column('revoked', sa.Boolean(), nullable=False),
    sa.Column('receipt_bind', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_voting_codes_area_id_areas'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['batch_id'], ['voting_code_batches.id'], name=op.f('fk_voting_codes_batch_id_voting_code_batches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['process_id'], ['processes.id'], name=op.f('fk_voting_codes_process_id_processes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('digest', name=op.f('pk_voting_codes'))
    )
    with op.batch_alter_table('voting_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voting_codes_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_voting_codes_process_id'), ['process_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('voting_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voting_codes_process_id'))
        batch_op.drop_index(batch_op.f('ix_voting_codes_batch_id'))

    op.drop_table('voting_codes')
    with op.batch_alter_table('voting_code_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voting_code_batches_process_id'))

    op.drop_table('voting_code_batches')
    op.drop_table('voting_records')
    op.drop_table('voting_paper_entries')
    with op.batch_alter_table('voting_held_ballots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voting_held_ballots_process_id'))

    op.drop_table('voting_held_ballots')
    with op.batch_alter_table('voting_ballots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voting_ballots_process_id'))

    op.drop_table('voting_ballots')

