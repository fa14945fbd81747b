"""The reports an account made (see ``pb.accounts.privacy``). They stay when the account is
deleted, tied to the emptied account: the moderation record of what was reported and what
officials did about it does not change after the fact, and it names no one."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pb.accounts.privacy import DataPart
from pb.moderation.models import Report


def export(session: Session, user: Any) -> list[dict[str, Any]]:
    reports = session.scalars(
        sa.select(Report).where(Report.reporter_id == user.id).order_by(Report.id)
    )
    return [
        {
            "target": r.target,
            "reason": r.reason,
            "note": r.note,
            "created_at": r.created_at,
            "resolved_at": r.resolved_at,
            "resolution": r.resolution,
        }
        for r in reports
    ]


PART = DataPart("reports", export)
