"""audit log as a hash chain: seq, prev_sha256, sha256 on audit_events; the audit_chain head

Existing entries are chained in the order of their ids, with the canonical form of
pb.audit (docs/audit.md).

Revision ID: 0011
Revises: 0009
Create Date: 2026-11-30 18:40:00
"""

import hashlib

from alembic import op
import sqlalchemy as sa

from pb.audit import GENESIS, canonical
from pb.db import UTCDateTime


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def _chain_existing_rows() -> tuple[int, str]:
    events = sa.table(
        'audit_events', sa.column('id', sa.Integer()), sa.column('at', UTCDateTime()),
        sa.column('actor_id', sa.Integer()), sa.column('action', sa.String()),
        sa.column('subject_type', sa.String()), sa.column('subject_id', sa.Integer()),
        sa.column('process_id', sa.Integer()), sa.column('reason', sa.Text()),
        sa.column('data', sa.JSON()), sa.column('seq', sa.Integer()),
        sa.column('prev_sha256', sa.String()), sa.column('sha256', sa.String()),
    )
    bind = op.get_bind()
    seq, prev = 0, GENESIS
    rows = bind.execute(sa.select(events).order_by(events.c.id)).mappings().all()
    for row in rows:
        seq += 1
        sha = hashlib.sha256(canonical(
            seq=seq, prev=prev, at=row['at'], actor_id=row['actor_id'], action=row['action'],
            subject_type=row['subject_type'], subject_id=row['subject_id'],
            process_id=row['process_id'], reason=row['reason'], data=row['data'],
        )).hexdigest()
        bind.execute(sa.update(events).where(events.c.id == row['id'])
                     .values(seq=seq, prev_sha256=prev, sha256=sha))
        prev = sha
    return seq, prev


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('prev_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('sha256', sa.String(length=64), nullable=True))
    if postgres:  # the append-only trigger would refuse the one-time chaining below
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
    seq, head = _chain_existing_rows()
    if postgres:
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('prev_sha256', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('sha256', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_events_seq'), ['seq'])
    chain = op.create_table('audit_chain',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain'))
    )
    op.bulk_insert(chain, [{'id': 1, 'seq': seq, 'sha256': head}])


def downgrade() -> None:
    op.drop_table('audit_chain')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_events_seq'), type_='unique')
        batch_op.drop_column('sha256')
        batch_op.drop_column('prev_sha256')
        batch_op.drop_column('seq')
