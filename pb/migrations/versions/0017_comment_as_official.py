"""whether a comment was written as an official of its process (badge by the role then)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 06:10:00

Existing comments get the badge they showed until now: their author is, today, an official
of the comment's process or an admin. Who was an official when an old comment was written is
not recorded anywhere this migration should trust, so it keeps what readers already saw.
"""

from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('proposal_comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('as_official', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    op.execute(
        "UPDATE proposal_comments SET as_official = true WHERE author_id IN "
        "(SELECT id FROM users WHERE role = 'admin') OR EXISTS (SELECT 1 FROM process_officials po "
        "JOIN proposals p ON p.process_id = po.process_id "
        "WHERE p.id = proposal_comments.proposal_id AND po.user_id = proposal_comments.author_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table('proposal_comments', schema=None) as batch_op:
        batch_op.drop_column('as_official')
