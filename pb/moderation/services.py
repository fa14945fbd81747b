"""Reports, hiding and restoring, and the official review of proposals.

Every function flushes and records its action in the audit log (who, when, what, why);
refusals raise a ``pb.errors.DomainError`` with a message for the user. The route commits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from pb.audit import AuditAction, record
from pb.errors import Conflict, DomainError, Invalid, NotAllowed
from pb.moderation.models import Report, ReportReason
from pb.processes.models import Process
from pb.proposals import notify, projects
from pb.proposals.models import (
    OPEN_STATUSES,
    Comment,
    EventKind,
    Feasibility,
    Proposal,
    ProposalEvent,
    ProposalStatus,
    valid_id,
)
from pb.proposals.projects import BallotFrozen as BallotFrozen  # raised by review too

Content = Proposal | Comment


class OwnContent(NotAllowed):
    message = _l("You cannot report what you wrote yourself.")


class AlreadyReported(Conflict):
    message = _l("You have already reported this. An official will look at it.")


class NotHidden(Conflict):
    message = _l("This is not hidden.")


class StillHidden(Conflict):
    message = _l("This is hidden: show it again, or hide it with a reason the author can read.")


class AlreadyDecided(Conflict):
    message = _l("This proposal has already been decided or withdrawn. Nothing was saved.")


class AcceptNeedsFeasibleAndCost(Invalid):
    message = _l(
        "To accept a proposal onto the ballot, mark it feasible and give the official cost."
    )


class RejectNeedsAnswer(Invalid):
    message = _l("To reject a proposal, write a public answer that explains why.")


class BadMergeTarget(Invalid):
    message = _l("Choose another open proposal of the same process to merge into.")


class HiddenProposal(Conflict):
    message = _l("Show the proposal again before deciding on it.")


def target_key(content: Content) -> str:
    return f"{'comment' if isinstance(content, Comment) else 'proposal'}:{content.id}"


def _proposal_of(content: Content) -> Proposal:
    return content.proposal if isinstance(content, Comment) else content


def open_reports(session: Session, content: Content) -> list[Report]:
    return list(
        session.scalars(
            sa.select(Report)
            .where(Report.target == target_key(content), Report.resolved_at.is_(None))
            .order_by(Report.id)
        )
    )


def _event(session: Session, proposal: Proposal, kind: EventKind, now: dt.datetime,
           note: str = "", other_id: int | None = None) -> None:  # fmt: skip
    session.add(
        ProposalEvent(proposal_id=proposal.id, kind=kind, at=now, note=note, other_id=other_id)
    )


def _set_hidden(session: Session, content: Content, hidden: bool, reason: str,
                now: dt.datetime, auto: bool = False) -> None:  # fmt: skip
    was_hidden = content.hidden
    content.hidden = hidden
    content.auto_hidden = auto and hidden
    content.hidden_reason = reason if hidden else ""
    content.hidden_at = now if hidden else None
    if isinstance(content, Comment) and was_hidden != hidden:
        session.execute(
            sa.update(Proposal)
            .where(Proposal.id == content.proposal_id)
            .values(comment_count=Proposal.comment_count + (-1 if hidden else 1))
        )
    if isinstance(content, Proposal):
        _event(session, content, EventKind.HIDDEN if hidden else EventKind.RESTORED, now,
               note=reason)  # fmt: skip


def _resolve(session: Session, content: Content, actor: Any, resolution: str,
             now: dt.datetime) -> int:  # fmt: skip
    reports = open_reports(session, content)
    for r in reports:
        r.resolved_at, r.resolved_by_id, r.resolution = now, actor.id, resolution
    return len(reports)


def report(
    session: Session,
    process: Process,
    content: Content,
    reporter: Any,
    reason: ReportReason,
    note: str,
    *,
    threshold: int,
    now: dt.datetime,
) -> Report:
    """Report a proposal or comment. When ``threshold`` people have open reports on it, it
    is hidden until an official looks (audited as an auto-hide)."""
    if content.author_id == reporter.id:
        raise OwnContent()
    key = target_key(content)
    exists = session.scalar(
        sa.select(Report.id).where(Report.target == key, Report.reporter_id == reporter.id)
    )
    if exists is not None:
        raise AlreadyReported()
    proposal = _proposal_of(content)
    row = Report(process_id=process.id, proposal_id=proposal.id, target=key,
                 comment_id=content.id if isinstance(content, Comment) else None,
                 reporter_id=reporter.id, reason=reason, note=note.strip(), created_at=now)  # fmt: skip
    session.add(row)
    session.flush()
    record(session, AuditAction.CONTENT_REPORT, actor=reporter, subject=content,
           process_id=process.id, reason=note.strip(), data={"reason": reason})  # fmt: skip
    count = len(open_reports(session, content))
    if not content.hidden and count >= threshold:
        _set_hidden(session, content, True, "", now, auto=True)
        record(session, AuditAction.CONTENT_AUTOHIDE, subject=content, process_id=process.id,
               data={"open_reports": count, "threshold": threshold})  # fmt: skip
        if isinstance(content, Proposal):
            session.flush()
            notify.tell(session, process, content, "autohidden", author_only=True)
    session.flush()
    return row


def hide(session: Session, process: Process, content: Content, actor: Any, reason: str,
         now: dt.datetime, *, tell: bool = True) -> None:  # fmt: skip
    """Hide content with a reason its author sees; resolves its open reports. Hiding
    auto-hidden content confirms it."""
    _set_hidden(session, content, True, reason.strip(), now)
    resolved = _resolve(session, content, actor, "hidden", now)
    record(session, AuditAction.CONTENT_HIDE, actor=actor, subject=content,
           process_id=process.id, reason=reason.strip(), data={"reports": resolved})  # fmt: skip
    if isinstance(content, Proposal):
        content.seen_at = content.seen_at or now
        session.flush()
        if tell:
            notify.tell(session, process, content, "hidden")
    session.flush()


def restore(session: Session, process: Process, content: Content, actor: Any, reason: str,
            now: dt.datetime) -> None:  # fmt: skip
    """Show hidden content again, with a reason; dismisses its open reports."""
    if not content.hidden:
        raise NotHidden()
    was_auto = content.auto_hidden  # then only the author was told it was hidden
    _set_hidden(session, content, False, reason.strip(), now)
    resolved = _resolve(session, content, actor, "dismissed", now)
    record(session, AuditAction.CONTENT_RESTORE, actor=actor, subject=content,
           process_id=process.id, reason=reason.strip(), data={"reports": resolved})  # fmt: skip
    session.flush()
    if isinstance(content, Proposal):
        notify.tell(session, process, content, "restored", reason=reason.strip(),
                    author_only=was_auto)  # fmt: skip
        session.flush()


def dismiss(session: Session, process: Process, content: Content, actor: Any, reason: str,
            now: dt.datetime) -> None:  # fmt: skip
    """Keep visible content as it is and close its reports. Hidden content is refused: its
    author was told they would hear whether it is shown again or hidden for a reason."""
    if content.hidden:
        raise StillHidden()
    resolved = _resolve(session, content, actor, "dismissed", now)
    record(session, AuditAction.CONTENT_DISMISS, actor=actor, subject=content,
           process_id=process.id, reason=reason.strip(), data={"reports": resolved})  # fmt: skip
    session.flush()


def mark_seen(session: Session, process: Process, proposal: Proposal, actor: Any,
              now: dt.datetime) -> None:  # fmt: skip
    """An official has looked at a new proposal and left it as it is."""
    if proposal.seen_at is None:
        proposal.seen_at = now
        record(session, AuditAction.PROPOSAL_SEEN, actor=actor, subject=proposal,
               process_id=process.id)  # fmt: skip
    session.flush()


# -- review ------------------------------------------------------------------------------


class Decision:
    NONE = ""
    ACCEPT = "accept"
    REJECT = "reject"
    MERGE = "merge"


@dataclass(frozen=True)
class ReviewInput:
    feasibility: Feasibility | None
    official_cost: int | None
    answer: str
    decision: str = Decision.NONE
    merge_into: int | None = None
    area_id: int | None = None  # the accepted project's area; None: the proposal's own


def check_review(
    session: Session, process: Process, proposal: Proposal, data: ReviewInput, now: dt.datetime
) -> Proposal | None:
    """Everything :func:`review` checks before it changes anything, without changing
    anything: raises its refusals (see there); returns the proposal to merge into, if any.
    The bulk review asks this for every row so that all problems are reported at once."""
    if process.is_frozen(now):
        raise BallotFrozen()
    if proposal.status not in OPEN_STATUSES:
        raise AlreadyDecided()
    if proposal.hidden and data.decision:
        raise HiddenProposal()
    target = None
    if data.decision == Decision.ACCEPT:
        if not (data.feasibility == Feasibility.FEASIBLE and data.official_cost):
            raise AcceptNeedsFeasibleAndCost()
        area = projects.area_for(
            process, data.area_id if data.area_id is not None else proposal.area_id
        )
        projects.check_cost(process, area, data.official_cost)
    if data.decision == Decision.REJECT and not data.answer.strip():
        raise RejectNeedsAnswer()
    if data.decision == Decision.MERGE:
        target = session.get(Proposal, data.merge_into) if valid_id(data.merge_into) else None
        if (
            target is None
            or target.id == proposal.id
            or target.process_id != process.id
            or target.hidden
            or target.status not in (*OPEN_STATUSES, ProposalStatus.ACCEPTED)
        ):
            raise BadMergeTarget()
    return target


def review(
    session: Session,
    process: Process,
    proposal: Proposal,
    actor: Any,
    data: ReviewInput,
    now: dt.datetime,
    *,
    tell: bool = True,
) -> list[str]:
    """Record feasibility, the official cost and the public answer, then apply the decision:
    accept (a ballot project with the official cost, made by ``pb.proposals.projects``),
    reject (needs an answer) or merge into another open proposal (both are linked in their
    histories). Returns what changed.

    Raises ``BallotFrozen`` once voting has opened, ``AlreadyDecided``, ``HiddenProposal``,
    ``AcceptNeedsFeasibleAndCost``, ``RejectNeedsAnswer``, ``BadMergeTarget``, and the
    refusals of ``projects.add_from_proposal`` (e.g. ``ProjectNeedsArea``, and
    ``CostAboveBudget`` for a cost above the budget of the project's area or process)."""
    target = check_review(session, process, proposal, data, now)
    answer = data.answer.strip()

    changed = []
    before = {"feasibility": proposal.feasibility, "official_cost": proposal.official_cost,
              "answer": proposal.answer}  # fmt: skip
    proposal.feasibility = data.feasibility
    proposal.official_cost = data.official_cost
    proposal.answer = answer
    diff = {k: [v, getattr(proposal, k)] for k, v in before.items() if getattr(proposal, k) != v}
    if diff:
        changed.append("review")
        proposal.status = ProposalStatus.IN_REVIEW
        proposal.seen_at = proposal.seen_at or now
        if "answer" in diff:
            proposal.answered_at = now
        if not data.decision:
            _event(session, proposal, EventKind.REVIEWED, now, note=answer)
        record(session, AuditAction.PROPOSAL_REVIEW, actor=actor, subject=proposal,
               process_id=process.id, data=diff)  # fmt: skip
    if data.decision:
        proposal.answered_at = now
    if data.decision == Decision.ACCEPT:
        assert data.official_cost is not None
        project = projects.add_from_proposal(session, process, proposal, cost=data.official_cost,
                                             now=now, area_id=data.area_id)  # fmt: skip
        proposal.status = ProposalStatus.ACCEPTED
        _event(session, proposal, EventKind.ACCEPTED, now, note=answer)
        record(session, AuditAction.PROPOSAL_ACCEPT, actor=actor, subject=proposal,
               process_id=process.id, reason=answer,
               data={"project": project.code, "cost": data.official_cost})  # fmt: skip
        changed.append("accepted")
    elif data.decision == Decision.REJECT:
        proposal.status = ProposalStatus.REJECTED
        _event(session, proposal, EventKind.REJECTED, now, note=answer)
        record(session, AuditAction.PROPOSAL_REJECT, actor=actor, subject=proposal,
               process_id=process.id, reason=answer)  # fmt: skip
        changed.append("rejected")
    elif data.decision == Decision.MERGE and target is not None:
        proposal.status = ProposalStatus.MERGED
        proposal.merged_into_id = target.id
        _event(session, proposal, EventKind.MERGED, now, note=answer, other_id=target.id)
        _event(session, target, EventKind.MERGED_FROM, now, other_id=proposal.id)
        record(session, AuditAction.PROPOSAL_MERGE, actor=actor, subject=proposal,
               process_id=process.id, reason=answer, data={"into": target.id})  # fmt: skip
        changed.append("merged")
    session.flush()
    if tell and changed:
        if target is not None:
            notify.tell(session, process, proposal, "merged", other=target)
        elif data.decision or "answer" in diff:
            notify.tell(session, process, proposal, "answered")
    return changed


def reviewable(
    session: Session, process: Process, *, offset: int = 0, limit: int | None = None
) -> list[Proposal]:
    """Open proposals of the process for the bulk review table, oldest first; ``offset`` and
    ``limit`` page them in SQL."""
    query = (
        sa.select(Proposal)
        .where(Proposal.process_id == process.id, Proposal.status.in_(OPEN_STATUSES))
        .order_by(Proposal.id)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


class BulkReviewFailed(Invalid):
    """Some rows of a bulk review were refused; ``errors`` maps proposal id to the reason.
    The caller rolls back, so either every row is saved or none."""

    message = _l("Some rows could not be saved; see the messages next to them. Nothing was saved.")

    def __init__(self, errors: dict[int, DomainError]) -> None:
        super().__init__()
        self.errors = errors


def _unchanged(proposal: Proposal, data: ReviewInput) -> bool:
    return (
        data.feasibility == proposal.feasibility
        and data.official_cost == proposal.official_cost
        and data.answer.strip() == proposal.answer
        and not data.decision
    )


def bulk_refusals(
    session: Session,
    process: Process,
    rows: list[tuple[Proposal, ReviewInput]],
    now: dt.datetime,
) -> dict[int, DomainError]:
    """What :func:`review_many` would refuse, row by row (proposal id to the reason), without
    changing anything: the bulk page reports these together with the rows' field errors."""
    errors: dict[int, DomainError] = {}
    for proposal, data in rows:
        if _unchanged(proposal, data):
            continue
        try:
            check_review(session, process, proposal, data, now)
        except DomainError as exc:
            errors[proposal.id] = exc
    return errors


def review_many(
    session: Session,
    process: Process,
    actor: Any,
    rows: list[tuple[Proposal, ReviewInput]],
    now: dt.datetime,
) -> dict[int, list[str]]:
    """Review many proposals in one go (the bulk table). Unchanged rows are skipped.
    Raises ``BulkReviewFailed`` listing every refused row."""
    done: dict[int, list[str]] = {}
    errors: dict[int, DomainError] = {}
    for proposal, data in rows:
        if _unchanged(proposal, data):
            continue
        try:
            done[proposal.id] = review(session, process, proposal, actor, data, now)
        except DomainError as exc:
            errors[proposal.id] = exc
    if errors:
        raise BulkReviewFailed(errors)
    return done
