"""A person's proposals, comments, supports and follows (see ``pb.accounts.privacy``).

On deleting an account: published proposals and comments stay, with no author (pages show
no name, or "Former participant"); drafts, which only their author could ever see, are
deleted with their images; follows (a wish for e-mail) are deleted; supports stay, tied to
the emptied account, so that the support counts others saw do not change after the fact.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from pb import images
from pb.accounts.privacy import DataPart
from pb.db import rows_changed
from pb.processes.models import Process
from pb.proposals.models import Comment, Follow, Proposal, ProposalStatus, Support


def _slugs(session: Session) -> dict[int, str]:
    return {pid: slug for pid, slug in session.execute(sa.select(Process.id, Process.slug))}


def export(session: Session, user: Any) -> dict[str, Any]:
    slugs = _slugs(session)
    proposals = session.scalars(
        sa.select(Proposal).where(Proposal.author_id == user.id).order_by(Proposal.id)
    )
    comments = session.scalars(
        sa.select(Comment).where(Comment.author_id == user.id).order_by(Comment.id)
    )
    supports = session.execute(
        sa.select(Support.proposal_id, Proposal.title, Support.created_at)
        .join(Proposal, Proposal.id == Support.proposal_id)
        .where(Support.user_id == user.id)
        .order_by(Support.created_at)
    )
    follows = session.execute(
        sa.select(Follow.proposal_id, Proposal.title, Follow.created_at)
        .join(Proposal, Proposal.id == Follow.proposal_id)
        .where(Follow.user_id == user.id)
        .order_by(Follow.created_at)
    )
    return {
        "proposals": [
            {
                "id": p.id,
                "process": slugs.get(p.process_id),
                "status": p.status,
                "title": p.title,
                "description": p.description,
                "address": p.address,
                "latitude": p.latitude,
                "longitude": p.longitude,
                "cost_estimate": p.cost_estimate,
                "image": p.image,
                "consent": p.consent,
                "created_at": p.created_at,
                "updated_at": p.updated_at,
                "published_at": p.published_at,
                "answer": p.answer,
                "hidden": p.hidden,
                "hidden_reason": p.hidden_reason,
            }
            for p in proposals
        ],
        "comments": [
            {
                "id": c.id,
                "proposal_id": c.proposal_id,
                "body": c.body,
                "created_at": c.created_at,
                "hidden": c.hidden,
                "hidden_reason": c.hidden_reason,
            }
            for c in comments
        ],
        "supports": [{"proposal_id": i, "title": t, "at": at} for i, t, at in supports],
        "follows": [{"proposal_id": i, "title": t, "at": at} for i, t, at in follows],
    }


def erase(session: Session, user: Any) -> dict[str, int]:
    drafts = list(
        session.scalars(
            sa.select(Proposal).where(
                Proposal.author_id == user.id,
                sa.or_(Proposal.status == ProposalStatus.DRAFT, Proposal.published_at.is_(None)),
            )
        )
    )
    files = [p.image for p in drafts if p.image]
    for draft in drafts:
        session.delete(draft)
    session.flush()
    if files:
        upload_dir = current_app.config["UPLOAD_DIR"]

        def remove_files(_session: Session) -> None:
            for name in files:
                images.remove(upload_dir, name, folder=images.PROPOSALS)

        event.listen(session, "after_commit", remove_files, once=True)
    return {
        "drafts_deleted": len(drafts),
        "proposals_unsigned": rows_changed(
            session,
            sa.update(Proposal).where(Proposal.author_id == user.id).values(author_id=None),
        ),
        "comments_unsigned": rows_changed(
            session, sa.update(Comment).where(Comment.author_id == user.id).values(author_id=None)
        ),
        "follows_deleted": rows_changed(
            session, sa.delete(Follow).where(Follow.user_id == user.id)
        ),
    }


PART = DataPart("proposals", export, erase)
