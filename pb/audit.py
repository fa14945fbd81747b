"""The append-only audit log: who did what, when, to which object, and why.

Rows are only ever inserted. The ORM refuses updates and deletes of audit events, and
on PostgreSQL a trigger (created by the migrations) refuses them in SQL as well.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from pb.db import Base, UTCDateTime, utcnow


class AuditAction(enum.StrEnum):
    USER_REGISTER = "user.register"
    USER_LOGIN = "user.login"
    USER_PASSWORD = "user.password"  # noqa: S105 - an event name, not a secret
    USER_ROLE = "user.role"
    USER_DELETE = "user.delete"  # the account was emptied at its owner's request
    PROCESS_CREATE = "process.create"
    PROCESS_UPDATE = "process.update"
    PROCESS_FREEZE = "process.freeze"
    PROCESS_EDIT_REFUSED = "process.edit-refused"
    PROCESS_OFFICIAL = "process.official"
    PROPOSAL_SUBMIT = "proposal.submit"
    PROPOSAL_EDIT = "proposal.edit"
    PROPOSAL_WITHDRAW = "proposal.withdraw"
    PROPOSAL_REVIEW = "proposal.review"
    PROPOSAL_ACCEPT = "proposal.accept"
    PROPOSAL_REJECT = "proposal.reject"
    PROPOSAL_MERGE = "proposal.merge"
    PROJECT_MOVE = "project.move"  # a ballot project moved to another area
    PROJECT_REORDER = "project.reorder"  # the ballot order changed
    CONTENT_REPORT = "content.report"
    CONTENT_HIDE = "content.hide"
    CONTENT_RESTORE = "content.restore"
    CONTENT_AUTOHIDE = "content.autohide"
    CONTENT_DISMISS = "content.dismiss"  # an official looked at reports and kept the content
    PROPOSAL_SEEN = "proposal.seen"  # an official looked at a new proposal
    CODES_ISSUE = "codes.issue"  # counts, channel and purpose; never a code
    CODES_REVOKE = "codes.revoke"
    PAPER_ENTRY = "voting.paper-entry"  # one entry by an official; never its content
    PAPER_DISCARD = "voting.paper-discard"
    VOTING_FINGERPRINT = "voting.fingerprint"
    VOTING_EXTEND = "voting.extend"
    RESULTS_PUBLISH = "results.publish"  # rule, tie-break, seed, file hashes
    RESULTS_IMPORT = "results.import"  # a process made from a pabulib file


# What each action means, for the people who read the log (the code stays in the data).
ACTION_LABELS = {
    AuditAction.USER_REGISTER: _l("Account registered"),
    AuditAction.USER_LOGIN: _l("Logged in"),
    AuditAction.USER_PASSWORD: _l("Password changed"),
    AuditAction.USER_ROLE: _l("Role changed"),
    AuditAction.USER_DELETE: _l("Account deleted by its owner"),
    AuditAction.PROCESS_CREATE: _l("Process created"),
    AuditAction.PROCESS_UPDATE: _l("Process changed"),
    AuditAction.PROCESS_FREEZE: _l("Rules frozen as voting opened"),
    AuditAction.PROCESS_EDIT_REFUSED: _l("Change refused: the rules are frozen"),
    AuditAction.PROCESS_OFFICIAL: _l("Official assigned to the process"),
    AuditAction.PROPOSAL_SUBMIT: _l("Proposal submitted"),
    AuditAction.PROPOSAL_EDIT: _l("Proposal edited"),
    AuditAction.PROPOSAL_WITHDRAW: _l("Proposal withdrawn"),
    AuditAction.PROPOSAL_REVIEW: _l("Proposal assessed"),
    AuditAction.PROPOSAL_ACCEPT: _l("Proposal accepted onto the ballot"),
    AuditAction.PROPOSAL_REJECT: _l("Proposal rejected"),
    AuditAction.PROPOSAL_MERGE: _l("Proposal merged into another"),
    AuditAction.PROJECT_MOVE: _l("Ballot project moved to another area"),
    AuditAction.PROJECT_REORDER: _l("Ballot order changed"),
    AuditAction.CONTENT_REPORT: _l("Content reported"),
    AuditAction.CONTENT_HIDE: _l("Content hidden by an official"),
    AuditAction.CONTENT_RESTORE: _l("Content restored"),
    AuditAction.CONTENT_AUTOHIDE: _l("Content hidden automatically after reports"),
    AuditAction.CONTENT_DISMISS: _l("Reports dismissed, content kept"),
    AuditAction.PROPOSAL_SEEN: _l("New proposal seen by an official"),
    AuditAction.CODES_ISSUE: _l("Voting codes issued"),
    AuditAction.CODES_REVOKE: _l("Voting codes revoked"),
    AuditAction.PAPER_ENTRY: _l("Paper ballot entered"),
    AuditAction.PAPER_DISCARD: _l("Pending paper ballot entry discarded"),
    AuditAction.VOTING_FINGERPRINT: _l("Fingerprint of the frozen rules taken as voting opened"),
    AuditAction.VOTING_EXTEND: _l("Voting extended"),
    AuditAction.RESULTS_PUBLISH: _l("Results counted and published"),
    AuditAction.RESULTS_IMPORT: _l("Process imported from a pabulib file"),
}


def action_label(code: str) -> str:
    """The reader's words for an action code (the code itself if it has none)."""
    try:
        return str(ACTION_LABELS[AuditAction(code)])
    except (ValueError, KeyError):
        return code


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(sa.String(40))
    subject_type: Mapped[str] = mapped_column(sa.String(40))
    subject_id: Mapped[int | None]
    process_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("processes.id", ondelete="SET NULL"), index=True
    )
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)


class AuditLogIsAppendOnly(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditLogIsAppendOnly("audit events cannot be changed or deleted")


def record(
    session: Session,
    action: AuditAction,
    *,
    actor: Any = None,
    subject: Any = None,
    subject_type: str | None = None,
    subject_id: int | None = None,
    process_id: int | None = None,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. ``subject`` may be any model with an ``id``."""
    if subject is not None:
        subject_type = subject_type or type(subject).__tablename__
        subject_id = subject_id if subject_id is not None else subject.id
    actor_id = getattr(actor, "id", None) if getattr(actor, "is_authenticated", True) else None
    ev = AuditEvent(
        actor_id=actor_id,
        action=str(action),
        subject_type=subject_type or "",
        subject_id=subject_id,
        process_id=process_id,
        reason=reason,
        data=_jsonable(data or {}),
    )
    session.add(ev)
    return ev


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value
