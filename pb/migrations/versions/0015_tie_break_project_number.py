"""tie-break "by project number" counts the numbers as numbers (project-number)

Until now the choice "By project number" ran pb.tally's lexicographic tie-break, which compares
the codes as text ("10" before "2"), against its published sentence ("the one with the lower
project number comes first"). A process whose rules are not frozen yet gets project-number,
which does what the sentence says; a frozen one (voting opened, an admin froze its rules, or
its rules' fingerprint was taken) keeps lexicographic, so its rules and fingerprint stay as
they were; its page then names the rule honestly ("By project code in alphabetical order").

Down: every project-number becomes lexicographic again (the code before this revision knows
no other way to count "by project number").

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 06:10:00
"""

import datetime as dt

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

processes = sa.table(
    'processes',
    sa.column('id', sa.Integer()),
    sa.column('tie_break', sa.String(24)),
    sa.column('frozen_at', sa.DateTime(timezone=True)),
    sa.column('version', sa.Integer()),
)
phases = sa.table(
    'phases',
    sa.column('process_id', sa.Integer()),
    sa.column('kind', sa.String(24)),
    sa.column('starts_at', sa.DateTime(timezone=True)),
)
records = sa.table(
    'voting_records',
    sa.column('process_id', sa.Integer()),
    sa.column('fingerprint', sa.String(64)),
)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def upgrade() -> None:
    conn = op.get_bind()
    now = dt.datetime.now(dt.UTC)
    candidates = conn.execute(
        sa.select(processes.c.id, processes.c.frozen_at)
        .where(processes.c.tie_break == 'lexicographic')
    ).all()
    voting = {
        pid: _utc(starts)
        for pid, starts in conn.execute(
            sa.select(phases.c.process_id, phases.c.starts_at).where(phases.c.kind == 'voting')
        )
    }
    fingerprinted = set(conn.scalars(
        sa.select(records.c.process_id).where(records.c.fingerprint.is_not(None))
    ))
    for pid, frozen_at in candidates:
        frozen = _utc(frozen_at)
        opens = voting.get(pid)
        if (frozen is not None and frozen <= now) or (opens is not None and opens <= now):
            continue  # frozen: Process.is_frozen
        if pid in fingerprinted:
            continue
        conn.execute(
            processes.update().where(processes.c.id == pid)
            .values(tie_break='project-number', version=processes.c.version + 1)
        )


def downgrade() -> None:
    op.get_bind().execute(
        processes.update()
        .where(processes.c.tie_break == 'project-number')
        .values(tie_break='lexicographic')
    )
