"""Proposals, their supports, comments, followers and public history, and ballot projects.

Counters (``support_count``, ``comment_count``) are denormalised and changed by the same
transaction that adds or removes a support or comment, so the list never counts rows.
``search_text`` is the proposal's words lower-cased with Swedish letters folded, for a
plain LIKE search that works the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pb.accounts.models import User
from pb.db import Base, UTCDateTime, utcnow
from pb.processes.models import Area, Category


def _enum(cls: type[enum.Enum], length: int = 20) -> sa.Enum:
    return sa.Enum(
        cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


class ProposalStatus(enum.StrEnum):
    DRAFT = "draft"  # seen by its author only
    PUBLISHED = "published"  # public, open for support and comments
    IN_REVIEW = "in-review"  # an official has recorded a review; the author can no longer edit
    ACCEPTED = "accepted"  # on the ballot as a project
    REJECTED = "rejected"
    MERGED = "merged"  # merged into another proposal
    WITHDRAWN = "withdrawn"  # by its author


# Ids are 32-bit integers on PostgreSQL and SQLite refuses integers beyond 64 bits: a larger
# number from a URL or a form is no row at all (404 or a form error), never a database error.
MAX_ID = 2**31 - 1


def valid_id(value: object) -> int | None:
    """``value`` as a row id (1 .. MAX_ID), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value or "").strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 10:
            return None
        number = int(text)
    return number if 1 <= number <= MAX_ID else None


PUBLIC_STATUSES = tuple(s for s in ProposalStatus if s != ProposalStatus.DRAFT)
OPEN_STATUSES = (ProposalStatus.PUBLISHED, ProposalStatus.IN_REVIEW)
DECIDED_STATUSES = (ProposalStatus.ACCEPTED, ProposalStatus.REJECTED, ProposalStatus.MERGED)


class Feasibility(enum.StrEnum):
    FEASIBLE = "feasible"
    NOT_FEASIBLE = "not-feasible"
    NEEDS_WORK = "needs-work"


class EventKind(enum.StrEnum):
    """Entries of a proposal's public history."""

    SUBMITTED = "submitted"
    EDITED = "edited"
    REVIEWED = "reviewed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    MERGED = "merged"  # this proposal was merged into other_id
    MERGED_FROM = "merged-from"  # other_id was merged into this one
    WITHDRAWN = "withdrawn"
    HIDDEN = "hidden"  # shown to the author and officials only
    RESTORED = "restored"


class Proposal(Base):
    __tablename__ = "proposals"
    __table_args__ = (
        sa.CheckConstraint("cost_estimate IS NULL OR cost_estimate > 0", name="cost_positive"),
        sa.CheckConstraint(
            "official_cost IS NULL OR official_cost > 0", name="official_cost_positive"
        ),
        sa.CheckConstraint("support_count >= 0", name="support_count_nonnegative"),
        # The list: newest first and most supported, public ones of one process.
        sa.Index("ix_proposals_list_newest", "process_id", "hidden", "published_at"),
        sa.Index("ix_proposals_list_supported", "process_id", "hidden", "support_count"),
        sa.Index("ix_proposals_author", "author_id", "process_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(sa.ForeignKey("processes.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[ProposalStatus] = mapped_column(
        _enum(ProposalStatus), default=ProposalStatus.DRAFT
    )

    title: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    category_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("categories.id", ondelete="SET NULL")
    )
    # The process edit refuses to remove an area that proposals belong to (a guard in
    # pb.proposals.projects), so SET NULL never runs. It stays in the schema because SQLite
    # can only change it by rebuilding this table, which its cascades make unsafe.
    area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("areas.id", ondelete="SET NULL"))
    address: Mapped[str] = mapped_column(sa.String(200), default="")
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    cost_estimate: Mapped[int | None] = mapped_column(sa.BigInteger)
    image: Mapped[str] = mapped_column(sa.String(64), default="")
    consent: Mapped[bool] = mapped_column(default=False)

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    # Review, by an official, in public.
    feasibility: Mapped[Feasibility | None] = mapped_column(_enum(Feasibility))
    official_cost: Mapped[int | None] = mapped_column(sa.BigInteger)
    answer: Mapped[str] = mapped_column(sa.Text, default="")
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    merged_into_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("proposals.id", ondelete="SET NULL")
    )

    # Moderation. Hidden content is kept; it only leaves lists, search and feeds.
    hidden: Mapped[bool] = mapped_column(default=False)
    auto_hidden: Mapped[bool] = mapped_column(default=False)
    hidden_reason: Mapped[str] = mapped_column(sa.Text, default="")
    hidden_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # an official looked

    support_count: Mapped[int] = mapped_column(default=0)
    comment_count: Mapped[int] = mapped_column(default=0)
    search_text: Mapped[str] = mapped_column(sa.Text, default="")

    author: Mapped[User | None] = relationship(lazy="joined")
    category: Mapped[Category | None] = relationship()
    area: Mapped[Area | None] = relationship()
    merged_into: Mapped[Proposal | None] = relationship(remote_side=[id])

    @property
    def is_private(self) -> bool:
        """Its author's alone: a draft, or one that was never published (a draft withdrawn
        before drafts were deleted on withdrawal kept ``published_at`` empty)."""
        return self.status == ProposalStatus.DRAFT or self.published_at is None

    @property
    def is_public(self) -> bool:
        return not self.is_private and not self.hidden

    def is_author(self, user: Any) -> bool:
        return bool(getattr(user, "is_authenticated", False)) and user.id == self.author_id


class Support(Base):
    """One person's support for one proposal (the primary key makes it one)."""

    __tablename__ = "proposal_supports"

    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Follow(Base):
    """Someone who wants an e-mail when a proposal is answered, hidden, shown again or merged."""

    __tablename__ = "proposal_follows"

    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Comment(Base):
    """A comment, or a reply to one (one level: a reply's parent is never a reply)."""

    __tablename__ = "proposal_comments"
    __table_args__ = (sa.Index("ix_proposal_comments_proposal", "proposal_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("proposal_comments.id", ondelete="CASCADE")
    )
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    hidden: Mapped[bool] = mapped_column(default=False)
    auto_hidden: Mapped[bool] = mapped_column(default=False)
    hidden_reason: Mapped[str] = mapped_column(sa.Text, default="")
    hidden_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Written as an official of the process (or an admin): the badge shows the role the
    # author had when writing, not the one they have now (migration 0017).
    as_official: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    author: Mapped[User | None] = relationship(lazy="joined")
    proposal: Mapped[Proposal] = relationship()

    def is_author(self, user: Any) -> bool:
        return bool(getattr(user, "is_authenticated", False)) and user.id == self.author_id


class ProposalEvent(Base):
    """One line of a proposal's public history (status changes and answers)."""

    __tablename__ = "proposal_events"
    __table_args__ = (sa.Index("ix_proposal_events_proposal", "proposal_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[EventKind] = mapped_column(_enum(EventKind))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    other_id: Mapped[int | None] = mapped_column(sa.ForeignKey("proposals.id", ondelete="SET NULL"))


class Project(Base):
    """A proposal accepted onto the ballot, with the official cost. ``code`` becomes the
    pabulib ``project_id``.

    Only ``pb.proposals.projects`` creates, removes, orders and moves projects. ``position``
    is the ballot order within the process, unique per process (gaps allowed). When the
    process has areas every project belongs to exactly one of them (an application rule,
    checked by ``projects``); the area cannot be removed while projects belong to it."""

    __tablename__ = "projects"
    __table_args__ = (
        sa.UniqueConstraint("process_id", "code", name="uq_projects_process_code"),
        sa.UniqueConstraint("process_id", "position", name="uq_projects_process_position"),
        sa.CheckConstraint("cost > 0", name="cost_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(sa.ForeignKey("processes.id", ondelete="CASCADE"))
    # No ON DELETE action: the database refuses to delete an area with projects.
    area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("areas.id"))
    proposal_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("proposals.id", ondelete="SET NULL"), unique=True
    )
    code: Mapped[str] = mapped_column(sa.String(20))
    title: Mapped[str] = mapped_column(sa.String(200))
    # An optional English title, written by the officials; the official title stays the one
    # in ``title`` (the pabulib ``name``, the rules fingerprint).
    title_en: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    cost: Mapped[int] = mapped_column(sa.BigInteger)
    position: Mapped[int] = mapped_column(default=0)
    # An optional easy-to-read (lättläst) summary, shown first on the ballot where filled in.
    easy_sv: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    easy_en: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    area: Mapped[Area | None] = relationship()
    proposal: Mapped[Proposal | None] = relationship()

    def easy(self, locale: str) -> str:
        """The easy-to-read summary in the reader's language, falling back to Swedish."""
        return (self.easy_en if locale == "en" and self.easy_en else self.easy_sv) or ""

    def display_title(self, locale: str) -> str:
        """The title in the reader's language: the English one where asked for and written,
        else the official (Swedish) ``title``."""
        return self.title_en if locale == "en" and self.title_en else self.title

    def title_lang(self, locale: str) -> str:
        """The language ``display_title(locale)`` is in (for a ``lang`` attribute)."""
        return "en" if locale == "en" and self.title_en else "sv"
