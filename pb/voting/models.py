"""The voting schema, built so that no row ties a ballot to a code or a person.

- ``voting_code_batches``: one row per issuance (channel, purpose, count, area, who, when);
  never a code.
- ``voting_codes``: the keyed digest of each code, its process, area and batch, and whether
  it is used or revoked. No link to any ballot; ``receipt_bind`` is a keyed HMAC of the
  code *and* its receipt together, which only someone holding both can recompute (it lets
  the voter replace their ballot).
- ``voting_held_ballots``: ballots cast but not yet mixed. The casting transaction writes
  here (so on PostgreSQL a held row shares ``xmin`` with the code it used); the mixer moves
  held ballots to ``voting_ballots`` in shuffled batches and deletes them.
- ``voting_ballots``: the ballots that count. Random ids, the day only, declared bands,
  the choices, and the keyed digest of the voter's receipt.
- ``voting_paper_entries``: first entries of paper ballots awaiting their matching second
  entry; they hold keyed commitments, never the choices.
- ``voting_records``: per process, the fingerprint of the rules frozen when voting opened
  and the latest extension of the voting phase with its reason.
"""

from __future__ import annotations

import datetime as dt
import enum
import secrets
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pb.db import Base, UTCDateTime, utcnow
from pb.processes.models import CodeChannel


def random_id() -> str:
    """128 random bits as hex: ids that carry no order."""
    return secrets.token_hex(16)


def _enum(cls: type[enum.Enum], length: int = 24) -> sa.Enum:
    return sa.Enum(
        cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


class AgeBand(enum.StrEnum):
    """Declared age, in bands only (for turnout figures)."""

    UNDER_16 = "-15"
    AGE_16_17 = "16-17"
    AGE_18_25 = "18-25"
    AGE_26_39 = "26-39"
    AGE_40_64 = "40-64"
    AGE_65_UP = "65-"

    @property
    def lowest(self) -> int:
        return {"-15": 0, "16-17": 16, "18-25": 18, "26-39": 26, "40-64": 40, "65-": 65}[self.value]

    @property
    def highest(self) -> int:
        return {"-15": 15, "16-17": 17, "18-25": 25, "26-39": 39, "40-64": 64, "65-": 120}[
            self.value
        ]


class CodeBatch(Base):
    __tablename__ = "voting_code_batches"
    __table_args__ = (sa.CheckConstraint("count >= 0", name="count_nonnegative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(
        sa.ForeignKey("processes.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[CodeChannel] = mapped_column(_enum(CodeChannel))
    purpose: Mapped[str] = mapped_column(sa.String(200), default="")
    count: Mapped[int] = mapped_column(default=0)
    area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("areas.id", ondelete="SET NULL"))
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked: Mapped[bool] = mapped_column(default=False)


class VotingCode(Base):
    __tablename__ = "voting_codes"

    digest: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    process_id: Mapped[int] = mapped_column(
        sa.ForeignKey("processes.id", ondelete="CASCADE"), index=True
    )
    area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("areas.id", ondelete="SET NULL"))
    batch_id: Mapped[int] = mapped_column(
        sa.ForeignKey("voting_code_batches.id", ondelete="CASCADE"), index=True
    )
    used: Mapped[bool] = mapped_column(default=False)
    revoked: Mapped[bool] = mapped_column(default=False)
    receipt_bind: Mapped[str | None] = mapped_column(sa.String(64))


class HeldBallot(Base):
    """A sealed ballot waiting for the mixer. Deleted when moved."""

    __tablename__ = "voting_held_ballots"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=random_id)
    process_id: Mapped[int] = mapped_column(
        sa.ForeignKey("processes.id", ondelete="CASCADE"), index=True
    )
    receipt_digest: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    content: Mapped[dict[str, Any]] = mapped_column(sa.JSON)


class Ballot(Base):
    """A ballot that counts. ``choices`` is a list of parts, one per area voted in:
    ``{"area": slug or null, "projects": [code, ...], "points": [int, ...] or null}``."""

    __tablename__ = "voting_ballots"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=random_id)
    process_id: Mapped[int] = mapped_column(
        sa.ForeignKey("processes.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[dt.date] = mapped_column(sa.Date)
    area: Mapped[str | None] = mapped_column(sa.String(80))
    age_band: Mapped[str | None] = mapped_column(sa.String(8))
    connection: Mapped[str | None] = mapped_column(sa.String(24))
    # Always false: a mark would tie a lone paper ballot of a batch to its code (an operator
    # knows which codes were cast on paper). Kept so the schema needs no migration.
    paper: Mapped[bool] = mapped_column(default=False)
    choices: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    receipt_digest: Mapped[str | None] = mapped_column(sa.String(64), unique=True)


class PaperEntry(Base):
    """The first entry of a paper ballot: a keyed commitment to (code, choices), and the
    choices sealed under a key only the pepper *and the code* give (``sealed``, padded, so
    that a second entry that differs can show both side by side); never the choices in the
    clear. A matching second entry casts the ballot and deletes this row; so does a discard,
    and the mixing once voting has closed."""

    __tablename__ = "voting_paper_entries"
    __table_args__ = (
        sa.UniqueConstraint("process_id", "code_key", name="uq_voting_paper_entries_code"),
    )

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=random_id)
    process_id: Mapped[int] = mapped_column(sa.ForeignKey("processes.id", ondelete="CASCADE"))
    code_key: Mapped[str] = mapped_column(sa.String(64))
    commitment: Mapped[str] = mapped_column(sa.String(64))
    sealed: Mapped[str | None] = mapped_column(sa.Text)
    entered_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )


class VotingRecord(Base):
    """Per process: the rules as frozen when voting opened, and the latest extension."""

    __tablename__ = "voting_records"

    process_id: Mapped[int] = mapped_column(
        sa.ForeignKey("processes.id", ondelete="CASCADE"), primary_key=True
    )
    fingerprint: Mapped[str | None] = mapped_column(sa.String(64))
    canonical_rules: Mapped[str] = mapped_column(sa.Text, default="")
    fingerprinted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    original_ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    extension_reason: Mapped[str] = mapped_column(sa.Text, default="")
    extended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class EmailClaim(Base):
    """ "This address got a code for this process", as a keyed HMAC of the normalized address
    under the pepper (``pb.voting.selfservice.address_key``); never the address, never the
    code, no time. Without the pepper it tells nothing; with it, one can check whether a
    *given* address got a code, not which code or ballot."""

    __tablename__ = "voting_email_claims"

    process_id: Mapped[int] = mapped_column(
        sa.ForeignKey("processes.id", ondelete="CASCADE"), primary_key=True
    )
    address_key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
