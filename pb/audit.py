"""The append-only audit log: who did what, when, to which object, and why.

Rows are only ever inserted. The ORM refuses updates and deletes of audit events, and
on PostgreSQL a trigger (created by the migrations) refuses them in SQL as well.

The log is a hash chain (docs/audit.md): entry number ``seq`` carries the SHA-256 of entry
``seq - 1`` (``prev_sha256``) and its own (``sha256``), computed over :func:`canonical`. An
edited, deleted or reordered entry breaks the chain, and :func:`verify` (``pb audit verify``)
says where. Events are chained when the transaction that recorded them commits: the
committing transaction takes the chain's lock row (``audit_chain``, an upsert: a row lock on
PostgreSQL, the write lock on SQLite), reads the head, links its events and moves the head, so
appends from any number of processes form one chain and the lock is held only for the commit.
The head (the last entry's number and hash) is shown on the process pages and frozen into
each published result.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column

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
    PROCESS_OFFICIAL_REMOVED = "process.official-removed"
    PROPOSAL_SUBMIT = "proposal.submit"
    PROPOSAL_EDIT = "proposal.edit"
    PROPOSAL_WITHDRAW = "proposal.withdraw"
    PROPOSAL_REVIEW = "proposal.review"
    PROPOSAL_ACCEPT = "proposal.accept"
    PROPOSAL_REJECT = "proposal.reject"
    PROPOSAL_MERGE = "proposal.merge"
    PROJECT_MOVE = "project.move"  # a ballot project moved to another area
    PROJECT_REORDER = "project.reorder"  # the ballot order changed
    PROJECT_EASY = "project.easy"  # a ballot project's easy-to-read summaries, before and after
    PROJECT_TITLE_EN = "project.title-en"  # a ballot project's English title, before and after
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
    FOLLOWUP_STATUS = "followup.status"  # a funded project's status and progress
    FOLLOWUP_UPDATE = "followup.update"  # a dated update on a funded project


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
    AuditAction.PROCESS_OFFICIAL_REMOVED: _l("Official removed from the process"),
    AuditAction.PROPOSAL_SUBMIT: _l("Proposal submitted"),
    AuditAction.PROPOSAL_EDIT: _l("Proposal edited"),
    AuditAction.PROPOSAL_WITHDRAW: _l("Proposal withdrawn"),
    AuditAction.PROPOSAL_REVIEW: _l("Proposal assessed"),
    AuditAction.PROPOSAL_ACCEPT: _l("Proposal accepted onto the ballot"),
    AuditAction.PROPOSAL_REJECT: _l("Proposal rejected"),
    AuditAction.PROPOSAL_MERGE: _l("Proposal merged into another"),
    AuditAction.PROJECT_MOVE: _l("Ballot project moved to another area"),
    AuditAction.PROJECT_REORDER: _l("Ballot order changed"),
    AuditAction.PROJECT_EASY: _l("Easy-to-read summary of a ballot project changed"),
    AuditAction.PROJECT_TITLE_EN: _l("English title of a ballot project changed"),
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
    AuditAction.FOLLOWUP_STATUS: _l("Follow-up status of a funded project set"),
    AuditAction.FOLLOWUP_UPDATE: _l("Follow-up update on a funded project written"),
}


def action_label(code: str) -> str:
    """The reader's words for an action code (the code itself if it has none)."""
    try:
        return str(ACTION_LABELS[AuditAction(code)])
    except (ValueError, KeyError):
        return code


GENESIS = "0" * 64
"""The ``prev_sha256`` of the first entry."""


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
    # The chain: this entry's place (1, 2, 3, ... with no gap), the previous entry's hash and
    # this entry's hash over canonical(); set when the recording transaction commits.
    seq: Mapped[int] = mapped_column(unique=True)
    prev_sha256: Mapped[str] = mapped_column(sa.String(64))
    sha256: Mapped[str] = mapped_column(sa.String(64))


class AuditChain(Base):
    """One row (id 1): the chain's lock and its head as the last append left it. Appending
    upserts this row first, which serialises appends on every engine; ``pb audit verify``
    checks that the head recorded here is the last entry's."""

    __tablename__ = "audit_chain"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(default=0)
    sha256: Mapped[str] = mapped_column(sa.String(64), default=GENESIS)


class AuditLogIsAppendOnly(RuntimeError):
    pass


# -- the canonical form ------------------------------------------------------------------

CANONICAL_FIELDS = ("seq", "prev", "at", "actor_id", "action", "subject_type", "subject_id",
                    "process_id", "reason", "data")  # fmt: skip


def canonical_time(at: dt.datetime) -> str:
    """``2026-11-30T18:32:12.123456Z``: UTC, always six decimals."""
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(
    *,
    seq: int,
    prev: str,
    at: dt.datetime,
    actor_id: int | None,
    action: str,
    subject_type: str,
    subject_id: int | None,
    process_id: int | None,
    reason: str,
    data: Any,
) -> bytes:
    """The bytes an entry's hash is taken over (docs/audit.md): a JSON object of the fields
    in :data:`CANONICAL_FIELDS`, keys sorted, no spaces, non-ASCII as UTF-8, in UTF-8."""
    doc = {"seq": seq, "prev": prev, "at": canonical_time(at), "actor_id": actor_id,
           "action": action, "subject_type": subject_type, "subject_id": subject_id,
           "process_id": process_id, "reason": reason, "data": data}  # fmt: skip
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(ev: AuditEvent, *, seq: int | None = None, prev: str | None = None) -> str:
    """The SHA-256 (hex) of an entry's canonical form, at its place or at the one given."""
    return hashlib.sha256(
        canonical(seq=ev.seq if seq is None else seq,
                  prev=ev.prev_sha256 if prev is None else prev, at=ev.at,
                  actor_id=ev.actor_id, action=ev.action, subject_type=ev.subject_type,
                  subject_id=ev.subject_id, process_id=ev.process_id, reason=ev.reason,
                  data=ev.data)
    ).hexdigest()  # fmt: skip


# -- appending ---------------------------------------------------------------------------

_PENDING = "pb.audit.pending"


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditLogIsAppendOnly("audit events cannot be changed or deleted")
    for obj in session.new:
        if isinstance(obj, AuditEvent) and obj.sha256 is None:
            raise AuditLogIsAppendOnly("audit events are appended by pb.audit.record()")


@event.listens_for(Session, "before_commit")
def _append_pending(session: Session) -> None:
    pending: list[AuditEvent] = session.info.pop(_PENDING, [])
    if pending:
        session.flush()  # everything else first: the chain's lock is taken last, held briefly
        append(session, pending)


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the whole transaction ended (committed or rolled back)
        session.info.pop(_PENDING, None)


def _lock(session: Session) -> None:
    """Take the chain's lock row (creating it if missing) until the transaction ends."""
    conn = session.connection()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(
        dialect.insert(AuditChain)
        .values(id=1, seq=0, sha256=GENESIS)
        .on_conflict_do_update(index_elements=[AuditChain.id], set_={"id": AuditChain.id})
    )


def head(session: Session) -> tuple[int, str]:
    """The last entry's number and hash: ``(0, GENESIS)`` for an empty log."""
    row = (
        session.connection()
        .execute(
            sa.select(AuditEvent.seq, AuditEvent.sha256).order_by(AuditEvent.seq.desc()).limit(1)
        )
        .first()
    )
    return (row[0], row[1]) if row else (0, GENESIS)


def append(session: Session, events: list[AuditEvent]) -> None:
    """Link ``events`` to the chain under its lock and add them, in order."""
    _lock(session)
    seq, prev = head(session)
    for ev in events:
        seq += 1
        ev.seq, ev.prev_sha256 = seq, prev
        ev.sha256 = prev = entry_hash(ev)
        session.add(ev)
    session.connection().execute(
        sa.update(AuditChain).where(AuditChain.id == 1).values(seq=seq, sha256=prev)
    )


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
    """Record one event; it joins the chain when the session commits (a rollback drops it).
    ``subject`` may be any model with an ``id``."""
    if subject is not None:
        subject_type = subject_type or type(subject).__tablename__
        subject_id = subject_id if subject_id is not None else subject.id
    actor_id = getattr(actor, "id", None) if getattr(actor, "is_authenticated", True) else None
    ev = AuditEvent(
        at=utcnow(),
        actor_id=actor_id,
        action=str(action),
        subject_type=subject_type or "",
        subject_id=subject_id,
        process_id=process_id,
        reason=reason,
        # As the database gives it back, so that the hash taken now is the one verify takes.
        data=json.loads(json.dumps(_jsonable(data or {}))),
    )
    session.connection()  # begin the transaction the event belongs to
    session.info.setdefault(_PENDING, []).append(ev)
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


# -- checking ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Break:
    seq: int  # the entry where the chain breaks
    id: int | None  # its row, if it exists
    problem: str

    def __str__(self) -> str:
        row = f" (row id {self.id})" if self.id is not None else ""
        return f"entry {self.seq}{row}: {self.problem}"


@dataclass(frozen=True)
class Verdict:
    entries: int
    head: tuple[int, str]
    breaks: list[Break]

    @property
    def ok(self) -> bool:
        return not self.breaks


def _walk(session: Session, batch: int = 2000) -> Iterator[AuditEvent]:
    last = None
    while True:
        query = sa.select(AuditEvent).order_by(AuditEvent.seq).limit(batch)
        if last is not None:
            query = query.where(AuditEvent.seq > last)
        rows = list(session.scalars(query))
        for row in rows:
            session.expunge(row)  # bounded memory on a long log
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1].seq


def verify(session: Session, known_heads: tuple[str, ...] = (), limit: int = 50) -> Verdict:
    """Recompute the whole chain. A break is an entry whose content no longer gives its hash
    (edited), whose ``prev_sha256`` is not the previous entry's hash (edited, removed or moved
    before it), or a missing number. Also checked: the head in ``audit_chain`` is the last
    entry, and each hash in ``known_heads`` (noted by someone) or frozen into a published
    result (its ``results.publish`` entry holds it) is still the hash of an intact entry."""
    breaks: list[Break] = []
    seq, prev, entries = 0, GENESIS, 0
    found: set[str] = {GENESIS}
    published: list[str] = []
    for ev in _walk(session):
        entries += 1
        if ev.seq != seq + 1:
            breaks.append(Break(seq + 1, None, f"missing: the next entry is number {ev.seq}"))
        if ev.prev_sha256 != prev:
            breaks.append(Break(ev.seq, ev.id, "does not follow the previous entry (its "
                                "previous hash differs): an entry before it was changed, "
                                "removed or moved"))  # fmt: skip
        if entry_hash(ev) != ev.sha256:
            breaks.append(Break(ev.seq, ev.id, "changed: its content no longer gives its hash"))
        else:
            found.add(ev.sha256)
        if ev.action == AuditAction.RESULTS_PUBLISH and isinstance(ev.data, dict):
            frozen = ev.data.get("audit_head")  # the head frozen into that published result
            if isinstance(frozen, dict) and frozen.get("sha256"):
                published.append(str(frozen["sha256"]))
        seq, prev = ev.seq, ev.sha256
    stored = session.get(AuditChain, 1)
    recorded = (stored.seq, stored.sha256) if stored else (0, GENESIS)
    if recorded != (seq, prev):
        breaks.append(Break(seq, None, f"the recorded head is entry {recorded[0]} "
                            f"({recorded[1][:16]}...), not the last entry: entries were "
                            "removed from the end, or the head was changed"))  # fmt: skip
    for known in (*known_heads, *published):
        if known not in found:
            breaks.append(Break(seq, None, f"no intact entry has the noted head {known}"))
    return Verdict(entries=entries, head=(seq, prev), breaks=breaks[:limit])
