"""The record that an e-mail address got a voting code (``voting_email_claims``): what a
person can see of it, and its purge.

A claim is a keyed HMAC of the address per process (no address, no code, no time). It
exists to keep the rule "one code per address" while the vote is open, and it is kept
until some days after the results are published (``PRIVACY_CODE_EMAIL_DAYS``) so that
doubts about the vote (many codes to one person's many addresses, say) can still be
looked into. After that it can matter to nothing: voting is closed, the result is public,
and a code cannot be asked for again. ``purge_email_claims`` deletes the claims of the
processes it is given; the results layer, which knows when results were published, calls
it (``pb privacy purge``).

Deleting an account does not delete claims: a claim is not tied to an account, and while a
vote is open deleting it would let the same address get a second code.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pb.accounts.privacy import DataPart
from pb.audit import AuditAction, AuditEvent
from pb.db import rows_changed
from pb.errors import Invalid
from pb.processes.models import Process
from pb.voting.models import CodeBatch, EmailClaim
from pb.voting.selfservice import address_key


def export(session: Session, user: Any) -> dict[str, Any]:
    """Whether the account's address got a voting code by e-mail (by process), and, for an
    official, how many code batches they issued and paper ballots they entered, pending or
    counted (never which codes or what the ballots said)."""
    batches = session.scalar(
        sa.select(sa.func.count()).select_from(CodeBatch).where(CodeBatch.issued_by_id == user.id)
    )
    # Every entry typed is in the audit log under its official (a pending entry's row goes
    # when its ballot is cast or it is thrown away).
    entries = session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.actor_id == user.id, AuditEvent.action == AuditAction.PAPER_ENTRY)
    )
    return {
        "codes_by_email_in_processes": _claimed(session, user),
        "code_batches_issued": int(batches or 0),
        "paper_ballots_entered": int(entries or 0),
    }


def _claimed(session: Session, user: Any) -> list[str]:
    found = []
    for process in session.scalars(
        sa.select(Process).where(Process.id.in_(sa.select(EmailClaim.process_id).distinct()))
    ):
        try:
            key = address_key(process, user.email)
        except Invalid:  # not an address the e-mail channel would take: it got no code
            continue
        if session.get(EmailClaim, (process.id, key)) is not None:
            found.append(process.slug)
    return sorted(found)


def purge_email_claims(session: Session, process_ids: Collection[int]) -> int:
    """Delete every e-mail claim of these processes; the number deleted."""
    if not process_ids:
        return 0
    stmt = sa.delete(EmailClaim).where(EmailClaim.process_id.in_(list(process_ids)))
    return rows_changed(session, stmt)


PART = DataPart("voting", export)
