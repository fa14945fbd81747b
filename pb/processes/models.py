"""A participatory budgeting process and the parts of its upfront contract.

The vocabularies (influence level, phases, connections, channels, ballot types, counting
rules, tie-breaks) are enums stored as their string values, so the database, the forms
and the contract objects speak the same words.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pb.db import Base, UTCDateTime, utcnow


def _enum(cls: type[enum.Enum], length: int = 24) -> sa.Enum:
    return sa.Enum(
        cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


class InfluenceLevel(enum.StrEnum):
    """Lund's model of influence (Lunds kommuns strategi för medborgardialog, 2016)."""

    INFORMATION = "information"
    CONSULTATION = "consultation"
    DISCUSSION = "discussion"
    LEARNING_DIALOGUE = "learning-dialogue"
    CO_CREATION = "co-creation"


class PhaseKind(enum.StrEnum):
    PROPOSALS = "proposals"
    REVIEW = "review"
    VOTING = "voting"
    COUNTING = "counting"
    RESULTS = "results"
    IMPLEMENTATION = "implementation"

    @property
    def order(self) -> int:
        return list(PhaseKind).index(self)


class Connection(enum.StrEnum):
    """Ways someone counts as a citizen of the municipality; they combine with OR."""

    LIVES = "lives"
    STUDIES = "studies"
    WORKS = "works"
    BUSINESS = "business"
    OTHER = "other"


class CodeChannel(enum.StrEnum):
    LETTER = "letter"
    EMAIL = "email"
    SCHOOL = "school"
    LIBRARY = "library"


class BallotType(enum.StrEnum):
    APPROVAL_BUDGET = "approval-budget"
    APPROVAL_K = "approval-k"
    CUMULATIVE = "cumulative"


class CountingRule(enum.StrEnum):
    """Names are those of ``pb.tally`` rules."""

    GREEDY = "greedy"
    EQUAL_SHARES = "equal-shares"


class TieBreak(enum.StrEnum):
    """Names are those of ``pb.tally`` tie-breaks. ``project-number`` is "by project number"
    (2 before 10); ``lexicographic`` compares the codes as text (10 before 2; pabutools')."""

    PROJECT_NUMBER = "project-number"
    LEXICOGRAPHIC = "lexicographic"
    CHEAPER_FIRST = "cheaper-first"
    LOTTERY = "lottery"


class Process(Base):
    __tablename__ = "processes"
    __table_args__ = (
        sa.CheckConstraint("budget > 0", name="budget_positive"),
        sa.CheckConstraint("min_age >= 0 AND min_age <= 120", name="min_age_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    published: Mapped[bool] = mapped_column(default=False)

    title_sv: Mapped[str] = mapped_column(sa.String(200))
    title_en: Mapped[str] = mapped_column(sa.String(200), default="")
    purpose_sv: Mapped[str] = mapped_column(sa.Text)
    purpose_en: Mapped[str] = mapped_column(sa.Text, default="")
    # An optional easy-to-read (lättläst) summary, shown first where filled in.
    easy_sv: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    easy_en: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    question_sv: Mapped[str] = mapped_column(sa.String(300), default="")
    question_en: Mapped[str] = mapped_column(sa.String(300), default="")
    # An optional picture for the process's card and page (a file name that ``pb.images``
    # made, under its PROCESSES folder) and what it shows, for people who cannot see it.
    image: Mapped[str] = mapped_column(sa.String(64), default="", server_default="")
    image_alt_sv: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")
    image_alt_en: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")

    influence_level: Mapped[InfluenceLevel] = mapped_column(
        _enum(InfluenceLevel), default=InfluenceLevel.CO_CREATION
    )
    decision_body_sv: Mapped[str] = mapped_column(sa.String(200))
    decision_body_en: Mapped[str] = mapped_column(sa.String(200), default="")
    decision_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    decision_text_sv: Mapped[str] = mapped_column(sa.Text)
    decision_text_en: Mapped[str] = mapped_column(sa.Text, default="")

    budget: Mapped[int] = mapped_column(sa.BigInteger)

    min_age: Mapped[int] = mapped_column(default=12)
    connections: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    other_connection_sv: Mapped[str] = mapped_column(sa.String(300), default="")
    other_connection_en: Mapped[str] = mapped_column(sa.String(300), default="")
    area_restricted: Mapped[bool] = mapped_column(default=False)
    code_channels: Mapped[list[str]] = mapped_column(sa.JSON, default=list)

    ballot_type: Mapped[BallotType] = mapped_column(
        _enum(BallotType), default=BallotType.APPROVAL_BUDGET
    )
    max_projects: Mapped[int | None]
    min_projects: Mapped[int | None]
    min_budget_share_pct: Mapped[int | None]
    points_total: Mapped[int | None]
    max_points_per_project: Mapped[int | None]
    counting_rule: Mapped[CountingRule] = mapped_column(
        _enum(CountingRule), default=CountingRule.GREEDY
    )
    tie_break: Mapped[TieBreak] = mapped_column(_enum(TieBreak), default=TieBreak.PROJECT_NUMBER)
    lottery_seed: Mapped[str | None] = mapped_column(sa.String(64))

    frozen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    areas: Mapped[list[Area]] = relationship(
        back_populates="process", cascade="all, delete-orphan", order_by="Area.position"
    )
    categories: Mapped[list[Category]] = relationship(
        back_populates="process", cascade="all, delete-orphan", order_by="Category.position"
    )
    phases: Mapped[list[Phase]] = relationship(
        back_populates="process", cascade="all, delete-orphan", order_by="Phase.starts_at"
    )
    officials: Mapped[list[ProcessOfficial]] = relationship(
        back_populates="process", cascade="all, delete-orphan"
    )

    __mapper_args__: dict[str, Any] = {"version_id_col": version}

    def text(self, field: str, locale: str) -> str:
        """The field in the reader's language, falling back to Swedish."""
        if locale == "en":
            value = getattr(self, f"{field}_en", "")
            if value:
                return str(value)
        return str(getattr(self, f"{field}_sv"))

    def text_lang(self, field: str, locale: str) -> str:
        """The language ``text`` answers in, for the ``lang`` attribute of a fallback."""
        return "en" if locale == "en" and bool(getattr(self, f"{field}_en", "")) else "sv"

    def phase(self, kind: PhaseKind) -> Phase | None:
        return next((p for p in self.phases if p.kind == kind), None)

    def current_phase(self, now: dt.datetime) -> Phase | None:
        current = [p for p in self.phases if p.starts_at <= now < p.ends_at]
        return current[-1] if current else None

    def next_phase(self, now: dt.datetime) -> Phase | None:
        upcoming = [p for p in self.phases if p.starts_at > now]
        return min(upcoming, key=lambda p: p.starts_at) if upcoming else None

    def in_phase(self, kind: PhaseKind, now: dt.datetime) -> bool:
        phase = self.phase(kind)
        return phase is not None and phase.starts_at <= now < phase.ends_at

    def is_frozen(self, now: dt.datetime) -> bool:
        """Rules are frozen from the moment voting opens (or an admin froze them)."""
        if self.frozen_at is not None and self.frozen_at <= now:
            return True
        voting = self.phase(PhaseKind.VOTING)
        return voting is not None and voting.starts_at <= now

    @property
    def whole_area(self) -> Area | None:
        """The area that covers the whole municipality beside the districts, if any."""
        return next((a for a in self.areas if a.whole_municipality), None)

    def is_official(self, user: Any) -> bool:
        """May this user act as an official on this process?"""
        if not getattr(user, "is_authenticated", False):
            return False
        if user.is_admin:
            return True
        return user.is_official and any(o.user_id == user.id for o in self.officials)


class Area(Base):
    """One election of the process, with its own budget and its own ballot. An area may
    cover the whole municipality (``whole_municipality``, at most one per process) beside
    district areas, as in Warsaw; a voter then votes there and in one district.

    Its id stays the same when it is renamed (the admin form carries it); ``slug`` is set
    when the area is made and kept."""

    __tablename__ = "areas"
    __table_args__ = (
        sa.UniqueConstraint("process_id", "slug", name="uq_areas_process_slug"),
        sa.CheckConstraint("budget > 0", name="budget_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(sa.ForeignKey("processes.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(sa.String(80))
    name: Mapped[str] = mapped_column(sa.String(120))
    budget: Mapped[int] = mapped_column(sa.BigInteger)
    position: Mapped[int] = mapped_column(default=0)
    whole_municipality: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    process: Mapped[Process] = relationship(back_populates="areas")


class Category(Base):
    __tablename__ = "categories"
    __table_args__ = (sa.UniqueConstraint("process_id", "key", name="uq_categories_process_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(sa.ForeignKey("processes.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(40))
    name_sv: Mapped[str] = mapped_column(sa.String(80))
    name_en: Mapped[str] = mapped_column(sa.String(80), default="")
    position: Mapped[int] = mapped_column(default=0)

    process: Mapped[Process] = relationship(back_populates="categories")

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name_sv


class Phase(Base):
    __tablename__ = "phases"
    __table_args__ = (
        sa.UniqueConstraint("process_id", "kind", name="uq_phases_process_kind"),
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(sa.ForeignKey("processes.id", ondelete="CASCADE"))
    kind: Mapped[PhaseKind] = mapped_column(_enum(PhaseKind))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    process: Mapped[Process] = relationship(back_populates="phases")


class ProcessOfficial(Base):
    """An official assigned to moderate and review one process."""

    __tablename__ = "process_officials"

    process_id: Mapped[int] = mapped_column(
        sa.ForeignKey("processes.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )

    process: Mapped[Process] = relationship(back_populates="officials")
