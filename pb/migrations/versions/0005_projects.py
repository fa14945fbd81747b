"""projects: one position per place on the ballot, areas that projects belong to stay,
an area may cover the whole municipality

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 16:00:00

Existing positions are renumbered 0, 1, 2 ... per process (in their old order, then by id)
before the unique constraint is added, because the old code could give two projects the
same position. ``projects.area_id`` loses its ON DELETE SET NULL: deleting an area that
projects belong to is refused. (``proposals.area_id`` keeps it: on SQLite changing it means
rebuilding ``proposals``, whose dependants would cascade; the process edit refuses such a
removal instead.)
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def _renumber() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT id, process_id FROM projects ORDER BY process_id, position, id"
    )).all()
    # Out of the way first, so that no intermediate state repeats a position.
    conn.execute(sa.text("UPDATE projects SET position = -1 - id"))
    last, n = None, 0
    for project_id, process_id in rows:
        n = 0 if process_id != last else n + 1
        last = process_id
        conn.execute(sa.text("UPDATE projects SET position = :n WHERE id = :id"),
                     {"n": n, "id": project_id})


def upgrade() -> None:
    op.add_column('areas', sa.Column('whole_municipality', sa.Boolean(), nullable=False,
                                     server_default=sa.false()))
    _renumber()
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_constraint('fk_projects_area_id_areas', type_='foreignkey')
        batch_op.create_foreign_key('fk_projects_area_id_areas', 'areas', ['area_id'], ['id'])
        batch_op.create_unique_constraint('uq_projects_process_position', ['process_id', 'position'])


def downgrade() -> None:
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_constraint('uq_projects_process_position', type_='unique')
        batch_op.drop_constraint('fk_projects_area_id_areas', type_='foreignkey')
        batch_op.create_foreign_key('fk_projects_area_id_areas', 'areas', ['area_id'], ['id'],
                                    ondelete='SET NULL')
    op.drop_column('areas', 'whole_municipality')
