"""The processes an account is an official of (see ``pb.accounts.privacy``). Deleting the
account ends those assignments."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pb.accounts.privacy import DataPart
from pb.db import rows_changed
from pb.processes.models import Process, ProcessOfficial


def export(session: Session, user: Any) -> list[str]:
    return list(
        session.scalars(
            sa.select(Process.slug)
            .join(ProcessOfficial, ProcessOfficial.process_id == Process.id)
            .where(ProcessOfficial.user_id == user.id)
            .order_by(Process.slug)
        )
    )


def erase(session: Session, user: Any) -> dict[str, int]:
    stmt = sa.delete(ProcessOfficial).where(ProcessOfficial.user_id == user.id)
    return {"official_assignments": rows_changed(session, stmt)}


PART = DataPart("official_of_processes", export, erase)
