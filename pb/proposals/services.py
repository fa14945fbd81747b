"""What participants do with proposals: submit (or save a draft), edit, withdraw, support,
comment, follow.

Every function takes the session, flushes and raises a ``pb.errors.DomainError`` whose
``message`` the route shows in the reader's language; the route commits once. Phase gates
are checked here, against the process's own dates, so no route can skip them.
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
from pb.processes.models import PhaseKind, Process
from pb.proposals import projects
from pb.proposals.models import (
    OPEN_STATUSES,
    Comment,
    EventKind,
    Follow,
    Project,
    Proposal,
    ProposalEvent,
    ProposalStatus,
    Support,
    valid_id,
)
from pb.proposals.similarity import fold

TITLE_MAX = 120
DESCRIPTION_MAX = 5000
ADDRESS_MAX = 200
COMMENT_MAX = 2000
COST_MAX = 10**10


class PhaseClosed(NotAllowed):
    message = _l(
        "Proposals can only be submitted and edited while the process is in its proposal "
        "phase. Nothing was saved."
    )


class LimitReached(NotAllowed):
    """The per-person limit of proposals; the message names the limit."""


class NotEditable(NotAllowed):
    message = _l(
        "This proposal can no longer be edited: its review has started or it has been decided."
    )


class ConsentMissing(Invalid):
    message = _l("To publish, agree that your proposal is shown to everyone.")


class Incomplete(Invalid):
    message = _l("To publish, give a description and your cost estimate.")


class CannotWithdraw(Conflict):
    message = _l("This proposal can no longer be withdrawn: voting has started or it is decided.")


class DiscussionClosed(NotAllowed):
    message = _l(
        "Supports and comments are open only during the proposal and review phases, on "
        "proposals that are still open."
    )


class AlreadySupported(Conflict):
    message = _l("You already support this proposal.")


class NotSupported(Conflict):
    message = _l("You do not support this proposal.")


class BadParent(Invalid):
    message = _l("The comment you replied to is no longer there (it may have been hidden).")


@dataclass(frozen=True)
class ProposalFields:
    """What the author fills in, already validated by the form."""

    title: str
    description: str = ""
    category_id: int | None = None
    area_id: int | None = None
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    cost_estimate: int | None = None
    consent: bool = False
    image: str | None = None  # a stored file name; None keeps the current image
    remove_image: bool = False


def _event(session: Session, proposal: Proposal, kind: EventKind, now: dt.datetime,
           note: str = "", other_id: int | None = None) -> None:  # fmt: skip
    session.add(
        ProposalEvent(proposal_id=proposal.id, kind=kind, at=now, note=note, other_id=other_id)
    )


def _before_voting(process: Process, now: dt.datetime) -> bool:
    voting = process.phase(PhaseKind.VOTING)
    return voting is None or now < voting.starts_at


def discussion_open(process: Process, proposal: Proposal, now: dt.datetime) -> bool:
    return (
        (process.in_phase(PhaseKind.PROPOSALS, now) or process.in_phase(PhaseKind.REVIEW, now))
        and proposal.status in OPEN_STATUSES
        and not proposal.hidden
    )


def can_edit(process: Process, proposal: Proposal, user: Any, now: dt.datetime) -> bool:
    return (
        proposal.is_author(user)
        and process.in_phase(PhaseKind.PROPOSALS, now)
        and proposal.status in (ProposalStatus.DRAFT, ProposalStatus.PUBLISHED)
        and proposal.feasibility is None
        and not proposal.official_cost
        and not proposal.answer
    )


class NotTheAuthor(NotAllowed):
    message = _l("Only the person who made this proposal can do this.")


def withdraw_refusal(process: Process, proposal: Proposal, user: Any,
                     now: dt.datetime) -> DomainError | None:  # fmt: skip
    """Why ``withdraw`` would refuse, or None when it may go ahead. The one place the rule
    lives: the page offers the button, the confirmation page explains, the service checks."""
    if not proposal.is_author(user):
        return NotTheAuthor()
    if proposal.status == ProposalStatus.DRAFT:
        return None  # a draft is deleted, never withdrawn into the open
    if proposal.status not in (*OPEN_STATUSES, ProposalStatus.ACCEPTED):
        return CannotWithdraw()
    if not _before_voting(process, now):
        return CannotWithdraw()
    if proposal.status == ProposalStatus.ACCEPTED and process.is_frozen(now):
        return CannotWithdraw()  # an admin froze the ballot before voting opened
    return None


def can_withdraw(process: Process, proposal: Proposal, user: Any, now: dt.datetime) -> bool:
    return withdraw_refusal(process, proposal, user, now) is None


def submitted_count(session: Session, process: Process, author: Any) -> int:
    """Proposals the person has submitted to the process (drafts not counted)."""
    return (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(Proposal)
            .where(
                Proposal.process_id == process.id,
                Proposal.author_id == author.id,
                Proposal.status != ProposalStatus.DRAFT,
            )
        )
        or 0
    )


def _apply(proposal: Proposal, fields: ProposalFields) -> list[str]:
    changed = []
    for name in ("title", "description", "category_id", "area_id", "address", "latitude",
                 "longitude", "cost_estimate", "consent"):  # fmt: skip
        value = getattr(fields, name)
        if isinstance(value, str):
            value = value.strip()
        if getattr(proposal, name) != value:
            setattr(proposal, name, value)
            changed.append(name)
    if fields.image is not None and fields.image != proposal.image:
        proposal.image = fields.image
        changed.append("image")
    elif fields.remove_image and proposal.image:
        proposal.image = ""
        changed.append("image")
    proposal.search_text = fold(proposal.title, proposal.description, proposal.address)
    return changed


class AreaMissing(Invalid):
    message = _l("Choose the area your proposal is for.")


def _check_complete(process: Process, proposal: Proposal) -> None:
    """What a public proposal needs: consent, a description and a cost estimate, and its area
    where the process has areas but none for the whole municipality (there, a proposal without
    one could never go on the ballot). Raises ``ConsentMissing``, ``Incomplete``,
    ``AreaMissing``."""
    if not proposal.consent:
        raise ConsentMissing()
    if not proposal.description or not proposal.cost_estimate:
        raise Incomplete()
    if proposal.area_id is None and process.areas and process.whole_area is None:
        raise AreaMissing()


def _may_publish(session: Session, process: Process, proposal: Proposal, author: Any,
                 limit: int) -> None:  # fmt: skip
    """Raises what keeps the proposal from being published (see ``create``)."""
    _check_complete(process, proposal)
    if submitted_count(session, process, author) >= limit:
        raise LimitReached(
            _l(
                "You have already submitted %(n)s proposals to this process, the most one "
                "person may.",
                n=limit,
            )
        )


def _published(session: Session, process: Process, proposal: Proposal, author: Any,
               now: dt.datetime) -> None:  # fmt: skip
    """The event and the audit entry of a publication (the proposal has its id)."""
    _event(session, proposal, EventKind.SUBMITTED, now)
    record(session, AuditAction.PROPOSAL_SUBMIT, actor=author, subject=proposal,
           process_id=process.id)  # fmt: skip


def _publish(session: Session, process: Process, proposal: Proposal, author: Any,
             limit: int, now: dt.datetime) -> None:  # fmt: skip
    _may_publish(session, process, proposal, author, limit)
    proposal.status = ProposalStatus.PUBLISHED
    proposal.published_at = now
    _published(session, process, proposal, author, now)


def create(
    session: Session,
    process: Process,
    author: Any,
    fields: ProposalFields,
    *,
    publish: bool,
    limit: int,
    now: dt.datetime,
) -> Proposal:
    """A new proposal, published or kept as a draft. Raises ``PhaseClosed``,
    ``ConsentMissing``, ``Incomplete``, ``AreaMissing`` and ``LimitReached``."""
    if not process.in_phase(PhaseKind.PROPOSALS, now):
        raise PhaseClosed()
    proposal = Proposal(process_id=process.id, author_id=author.id, created_at=now,
                        updated_at=now, status=ProposalStatus.DRAFT)  # fmt: skip
    _apply(proposal, fields)
    if publish:
        # Checked before the row is written (the count is of the author's proposals already
        # submitted, as after writing a draft): a published proposal is inserted published,
        # not inserted as a draft and then changed.
        _may_publish(session, process, proposal, author, limit)
        proposal.status = ProposalStatus.PUBLISHED
        proposal.published_at = now
    session.add(proposal)
    session.flush()
    if publish:
        _published(session, process, proposal, author, now)
    session.flush()
    return proposal


def update(
    session: Session,
    process: Process,
    proposal: Proposal,
    author: Any,
    fields: ProposalFields,
    *,
    publish: bool,
    limit: int,
    now: dt.datetime,
) -> list[str]:
    """Edit a draft or a published proposal before its review starts (and publish a draft
    if asked). Returns the names of the changed fields."""
    if not process.in_phase(PhaseKind.PROPOSALS, now):
        raise PhaseClosed()
    if not can_edit(process, proposal, author, now):
        raise NotEditable()
    changed = _apply(proposal, fields)
    proposal.updated_at = now
    if proposal.status == ProposalStatus.DRAFT:
        if publish:
            _publish(session, process, proposal, author, limit, now)
    else:
        _check_complete(process, proposal)
        if changed:
            _event(session, proposal, EventKind.EDITED, now)
            record(session, AuditAction.PROPOSAL_EDIT, actor=author, subject=proposal,
                   process_id=process.id, data={"fields": changed})  # fmt: skip
    session.flush()
    return changed


def withdraw(session: Session, process: Process, proposal: Proposal, author: Any,
             now: dt.datetime) -> str | None:  # fmt: skip
    """The author takes the proposal back, any time before voting; an accepted proposal
    leaves the ballot. A draft was never public, so it is deleted instead (it never becomes
    a public "withdrawn" proposal). Returns the name of the deleted draft's image file, for
    the caller to remove once committed, or None."""
    refusal = withdraw_refusal(process, proposal, author, now)
    if refusal is not None:
        raise refusal
    if proposal.status == ProposalStatus.DRAFT:
        image = proposal.image or None
        record(session, AuditAction.PROPOSAL_WITHDRAW, actor=author, subject=proposal,
               process_id=process.id, data={"from": ProposalStatus.DRAFT, "deleted": True})  # fmt: skip
        session.delete(proposal)
        session.flush()
        return image
    was = proposal.status
    proposal.status = ProposalStatus.WITHDRAWN
    proposal.updated_at = now
    data: dict[str, Any] = {"from": was}
    if was == ProposalStatus.ACCEPTED:
        project = session.scalar(sa.select(Project).where(Project.proposal_id == proposal.id))
        if project is not None:
            data["project"] = projects.remove(session, process, project, now)
    _event(session, proposal, EventKind.WITHDRAWN, now)
    record(session, AuditAction.PROPOSAL_WITHDRAW, actor=author, subject=proposal,
           process_id=process.id, data=data)  # fmt: skip
    session.flush()
    return None


def has_support(session: Session, proposal: Proposal, user: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return session.get(Support, (proposal.id, user.id)) is not None


def support(session: Session, process: Process, proposal: Proposal, user: Any,
            now: dt.datetime) -> None:  # fmt: skip
    """One support per person per proposal. Raises ``AlreadySupported``."""
    if not discussion_open(process, proposal, now):
        raise DiscussionClosed()
    if has_support(session, proposal, user):
        raise AlreadySupported()
    session.add(Support(proposal_id=proposal.id, user_id=user.id, created_at=now))
    session.flush()  # the primary key refuses a second support made at the same moment
    session.execute(
        sa.update(Proposal)
        .where(Proposal.id == proposal.id)
        .values(support_count=Proposal.support_count + 1)
    )
    session.expire(proposal, ["support_count"])  # read again only if someone asks


def unsupport(session: Session, process: Process, proposal: Proposal, user: Any,
              now: dt.datetime) -> None:  # fmt: skip
    if not discussion_open(process, proposal, now):
        raise DiscussionClosed()
    row = session.get(Support, (proposal.id, user.id))
    if row is None:
        raise NotSupported()
    session.delete(row)
    session.flush()
    session.execute(
        sa.update(Proposal)
        .where(Proposal.id == proposal.id, Proposal.support_count > 0)
        .values(support_count=Proposal.support_count - 1)
    )
    session.expire(proposal, ["support_count"])  # read again only if someone asks


def add_comment(
    session: Session,
    process: Process,
    proposal: Proposal,
    author: Any,
    body: str,
    now: dt.datetime,
    parent_id: int | None = None,
) -> Comment:
    """A comment or a reply. A reply to a reply joins its parent's thread (one level)."""
    if not discussion_open(process, proposal, now):
        raise DiscussionClosed()
    parent = None
    if parent_id is not None:
        parent = session.get(Comment, parent_id) if valid_id(parent_id) else None
        if parent is None or parent.proposal_id != proposal.id or parent.hidden:
            raise BadParent()
        if parent.parent_id is not None:
            parent = session.get(Comment, parent.parent_id)
    comment = Comment(proposal_id=proposal.id, author_id=author.id, body=body.strip(),
                      parent_id=parent.id if parent else None, created_at=now,
                      as_official=process.is_official(author))  # fmt: skip
    session.add(comment)
    session.flush()
    session.execute(
        sa.update(Proposal)
        .where(Proposal.id == proposal.id)
        .values(comment_count=Proposal.comment_count + 1)
    )
    return comment


def is_following(session: Session, proposal: Proposal, user: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return session.get(Follow, (proposal.id, user.id)) is not None


def follow(session: Session, proposal: Proposal, user: Any) -> bool:
    """Returns False if the person already followed it."""
    if is_following(session, proposal, user):
        return False
    session.add(Follow(proposal_id=proposal.id, user_id=user.id))
    session.flush()
    return True


def unfollow(session: Session, proposal: Proposal, user: Any) -> bool:
    row = session.get(Follow, (proposal.id, user.id))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True
