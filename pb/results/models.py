"""The results schema.

- ``results_snapshots``: one row per published process, written once: the outcome of
  every election with every explanation (as data, in Swedish and English), the rule,
  tie-break and seed used, the fingerprint of the rules frozen when voting opened, the
  turnout figures (small groups already merged) and when and by whom it was published.
  Public pages and the API read only this row; nothing is recounted per request.
- ``results_files``: the anonymous ballot files frozen at publishing (pabulib ``.pb``,
  CSV and JSON per election), each with its SHA-256. A file whose text no longer matches
  its hash is never served.
- ``results_imports``: for a process created by ``pb import-pb``, what a process cannot
  hold by itself (the file's own rule, ballot rules, exact costs and META), so that
  counting it gives exactly what ``pb tally`` gives on the file.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pb.db import Base, UTCDateTime, utcnow


class ResultSnapshot(Base):
    __tablename__ = "results_snapshots"

    process_id: Mapped[int] = mapped_column(
        sa.ForeignKey("processes.id", ondelete="CASCADE"), primary_key=True
    )
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    rule: Mapped[str] = mapped_column(sa.String(40))
    tie_break: Mapped[str] = mapped_column(sa.String(24))
    seed: Mapped[str | None] = mapped_column(sa.String(64))
    fingerprint: Mapped[str | None] = mapped_column(sa.String(64))
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON)


class ResultFile(Base):
    __tablename__ = "results_files"
    __table_args__ = (
        sa.UniqueConstraint("process_id", "election", "kind", name="uq_results_files_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(
        sa.ForeignKey("processes.id", ondelete="CASCADE"), index=True
    )
    election: Mapped[str] = mapped_column(sa.String(80), default="")  # area slug, "" if none
    kind: Mapped[str] = mapped_column(sa.String(8))  # pb, csv, json
    sha256: Mapped[str] = mapped_column(sa.String(64))
    content: Mapped[str] = mapped_column(sa.Text)


class ImportedElection(Base):
    __tablename__ = "results_imports"

    process_id: Mapped[int] = mapped_column(
        sa.ForeignKey("processes.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(sa.String(300), default="")
    rule: Mapped[str] = mapped_column(sa.String(40))
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON)


class ProjectFollow(Base):
    """Someone, with no account, who asked to hear what becomes of a project on the ballot.

    Only the address, the project and the language are kept: a follow is not tied to a
    ballot (it is asked for separately, anyone may follow any project at any time) and a row
    exists only once the address was confirmed by its signed link."""

    __tablename__ = "results_project_follows"

    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str] = mapped_column(sa.String(254), primary_key=True, index=True)
    locale: Mapped[str] = mapped_column(sa.String(5), default="sv")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProjectProgress(Base):
    """Where a funded project stands, set by the process's officials after publishing:
    ``status`` (planned, in_progress, done, cancelled), ``progress`` in percent (0-100, a
    constraint) and, for a cancelled project, the public ``reason``."""

    __tablename__ = "results_progress"
    __table_args__ = (
        sa.CheckConstraint("progress >= 0 AND progress <= 100", name="progress_percent"),
    )

    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(sa.String(16), default="planned")
    progress: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProjectUpdate(Base):
    """A dated public update on a funded project, with an optional re-encoded photo (a file
    name under ``UPLOAD_DIR``, as ``pb.images`` stores it)."""

    __tablename__ = "results_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    body: Mapped[str] = mapped_column(sa.Text)
    image: Mapped[str] = mapped_column(sa.String(64), default="")
    # What the photo shows, for people who cannot see it ("" = none given: the page says
    # whose photo it is).
    image_alt: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")
