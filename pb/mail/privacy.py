"""The addresses the outbox holds: a person's part of it (export, erase) and the purge of
e-mail that was sent or given up long enough ago (``pb privacy purge``).

Kept on purpose: ``mail_opt_outs``. An address that asked for no more e-mail stays on that
list, or the next mail would go out again; it holds the address and when, nothing else.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pb.db import rows_changed
from pb.mail.models import MailOptOut, OutboxMessage
from pb.mail.services import normalize


def _to(address: str) -> Any:
    return sa.func.lower(OutboxMessage.to) == normalize(address)


def export_address(session: Session, user: Any) -> dict[str, Any]:
    """The e-mail to the account's address that the outbox still holds, and its opt-out."""
    rows = session.scalars(
        sa.select(OutboxMessage).where(_to(user.email)).order_by(OutboxMessage.id)
    )
    opt_out = session.get(MailOptOut, normalize(user.email))
    return {
        "outbox": [
            {
                "subject": m.subject,
                "queued_at": m.created_at,
                "sent_at": m.sent_at,
                "failed_at": m.failed_at,
            }
            for m in rows
        ],
        "unsubscribed_at": opt_out.at if opt_out else None,
    }


def erase_address(session: Session, user: Any) -> dict[str, int]:
    """Delete every message to the account's address, sent or not (the opt-out stays)."""
    return {
        "outbox_messages": rows_changed(session, sa.delete(OutboxMessage).where(_to(user.email)))
    }


def purge_sent(session: Session, before: dt.datetime) -> int:
    """Delete the messages sent or given up before ``before``; unsent ones stay."""
    return rows_changed(
        session,
        sa.delete(OutboxMessage).where(
            sa.or_(OutboxMessage.sent_at < before, OutboxMessage.failed_at < before)
        ),
    )
