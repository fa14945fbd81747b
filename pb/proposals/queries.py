"""Reading proposals: the public list with filters, search, sorting and pages.

Only public proposals (not drafts, not hidden) are ever listed. The list uses the
``ix_proposals_list_*`` indexes, reads counters from their columns, searches a folded
``search_text`` with LIKE and sorts "random" by a hash of the id and the visitor's seed,
which is stable across pages and the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, defer, raiseload

from pb.proposals.models import PUBLIC_STATUSES, Proposal, ProposalStatus, valid_id
from pb.proposals.similarity import fold, like_escape

PER_PAGE = 20
SORTS = ("newest", "supported", "random")
ALL = "all"  # the status filter that lists withdrawn and merged proposals too
# Left out of the list unless asked for: they are no longer in the running.
SET_ASIDE = (ProposalStatus.WITHDRAWN, ProposalStatus.MERGED)
_PRIME = 2147483647  # 2**31 - 1: products stay inside 64-bit integers on both databases


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class ListQuery:
    area: int | None = None
    category: int | None = None
    status: str | None = None
    q: str = ""
    sort: str = "newest"
    page: int = 1
    seed: int = 0

    @classmethod
    def from_args(cls, args: Mapping[str, Any], seed: int = 0) -> ListQuery:
        """Parse the query string; anything unexpected falls back to the default."""
        status = args.get("status") or None
        sort = args.get("sort") or "newest"
        page = _int(args.get("page")) or 1
        return cls(
            area=valid_id(args.get("area")),
            category=valid_id(args.get("category")),
            status=status if status in PUBLIC_STATUSES or status == ALL else None,
            q=(args.get("q") or "").strip()[:100],
            sort=sort if sort in SORTS else "newest",
            page=min(max(page, 1), 100000),
            seed=(_int(args.get("seed")) or seed) % _PRIME,
        )

    @property
    def filtered(self) -> bool:
        """Has the visitor narrowed the list (beyond the default of proposals in the running)?"""
        return bool(self.area or self.category or self.status or self.q)

    def args(self, **changes: Any) -> dict[str, Any]:
        """The query string for a link (defaults left out)."""
        q = replace(self, **changes)
        out = {"area": q.area, "category": q.category, "status": q.status, "q": q.q or None,
               "sort": q.sort if q.sort != "newest" else None,
               "seed": q.seed if q.sort == "random" else None,
               "page": q.page if q.page > 1 else None}  # fmt: skip
        return {k: v for k, v in out.items() if v is not None}


@dataclass(frozen=True)
class Page:
    items: list[Proposal]
    total: int
    page: int
    pages: int


def public_filter(process_id: int) -> list[sa.ColumnElement[bool]]:
    return [
        Proposal.process_id == process_id,
        Proposal.hidden.is_(False),
        Proposal.status != ProposalStatus.DRAFT,
        Proposal.published_at.is_not(None),  # never published: private, whatever its status
    ]


def search_terms(q: str) -> list[sa.ColumnElement[bool]]:
    return [
        Proposal.search_text.like(f"%{like_escape(w)}%", escape="\\") for w in fold(q).split()[:6]
    ]


def random_key(seed: int) -> sa.ColumnElement[int]:
    """A pseudo-random order of ids for one seed: multiply, XOR with the scrambled seed,
    multiply again, all modulo p. (A plain multiply-and-add would keep consecutive ids in
    order; the XOR, written with | and & because SQLite has no XOR operator, breaks that.)"""
    mask = (seed * 2654435761) % 2**31
    x = (sa.cast(Proposal.id, sa.BigInteger) * 1103515245) % _PRIME
    mixed = x.bitwise_or(mask) - x.bitwise_and(mask)
    return (mixed * 48271) % _PRIME


def public_list(session: Session, process_id: int, query: ListQuery,
                per_page: int = PER_PAGE) -> Page:  # fmt: skip
    where = public_filter(process_id)
    if query.area:
        where.append(Proposal.area_id == query.area)
    if query.category:
        where.append(Proposal.category_id == query.category)
    if query.status == ALL:
        pass
    elif query.status:
        where.append(Proposal.status == query.status)
    else:
        where.append(Proposal.status.not_in(SET_ASIDE))
    if query.q:
        where.extend(search_terms(query.q))
    total = session.scalar(sa.select(sa.func.count()).select_from(Proposal).where(*where)) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(query.page, pages)
    if query.sort == "supported":
        order: list[Any] = [Proposal.support_count.desc(), Proposal.id.desc()]
    elif query.sort == "random":
        order = [random_key(query.seed), Proposal.id]
    else:
        order = [Proposal.published_at.desc(), Proposal.id.desc()]
    stmt = (
        sa.select(Proposal)
        .where(*where)
        .order_by(*order)
        .limit(per_page)
        .offset((page - 1) * per_page)
        .options(raiseload(Proposal.author), defer(Proposal.search_text))
    )
    return Page(items=list(session.scalars(stmt)), total=total, page=page, pages=pages)


def any_public(session: Session, process_id: int) -> bool:
    """Is there any public proposal at all (to tell "none yet" from "none match")?"""
    stmt = sa.select(Proposal.id).where(*public_filter(process_id)).limit(1)
    return session.scalar(stmt) is not None


def public_all(session: Session, process_id: int) -> list[Proposal]:
    """Every public proposal of the process, oldest first (open data)."""
    stmt = (
        sa.select(Proposal)
        .where(*public_filter(process_id))
        .order_by(Proposal.id)
        .options(raiseload(Proposal.author), defer(Proposal.search_text))
    )
    return list(session.scalars(stmt))


def mine(session: Session, process_id: int, user_id: int) -> list[Proposal]:
    stmt = (
        sa.select(Proposal)
        .where(Proposal.process_id == process_id, Proposal.author_id == user_id)
        .order_by(Proposal.id.desc())
    )
    return list(session.scalars(stmt))


def of_person(session: Session, user_id: int) -> tuple[list[Any], list[Any]]:
    """A person's own proposals (drafts included) and the public ones they follow, in every
    process, newest first, each as (proposal, process): the sections of their page."""
    from pb.processes.models import Process
    from pb.proposals.models import Follow

    both = sa.select(Proposal, Process).join(Process, Process.id == Proposal.process_id)
    own = both.where(Proposal.author_id == user_id).order_by(Proposal.id.desc())
    followed = (
        both.join(Follow, Follow.proposal_id == Proposal.id)
        .where(Follow.user_id == user_id, Proposal.author_id.is_distinct_from(user_id))
        .where(Proposal.status.in_(PUBLIC_STATUSES), Proposal.hidden.is_(False))
        .order_by(Proposal.id.desc())
    )
    return [tuple(r) for r in session.execute(own)], [tuple(r) for r in session.execute(followed)]
