"""voting by e-mail: secret outbox messages, and the keyed record of addresses given a code

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 16:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secret', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table('voting_email_claims',
    sa.Column('process_id', sa.Integer(), nullable=False),
    sa.Column('address_key', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['process_id'], ['processes.id'], name=op.f('fk_voting_email_claims_process_id_processes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('process_id', 'address_key', name=op.f('pk_voting_email_claims'))
    )


def downgrade() -> None:
    op.drop_table('voting_email_claims')
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.drop_column('secret')
