"""Issuing and revoking codes, casting, mixing, receipts, changing one's mind, paper ballots,
the voting-phase extension and the rules fingerprint.

Services take the session, flush and raise ``pb.errors.DomainError`` subclasses; the caller
commits once (or rolls back). Two rules keep ballots secret from whoever reads the database
(see ``docs/voting.md``):

- the casting transaction marks the code used and writes the ballot into the *holding*
  table only; ``mix`` moves held ballots to ``voting_ballots`` in shuffled batches, in a
  transaction of its own, with fresh random ids, so no ballot row shares a PostgreSQL
  ``xmin`` with a code update and neither heap order nor SQLite rowids follow casting order;
- no ballot row carries a code, a code digest, a person, an address or a time finer than
  the day.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import secrets
import threading
import time
import typing
import weakref
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy.orm import Session

from pb.audit import AuditAction, record
from pb.db import utcnow
from pb.errors import Conflict, Invalid, NotAllowed
from pb.forms import DIRECTION_MESSAGE, single_line
from pb.i18n import last_day, locale_code, sek, when
from pb.processes import vocab
from pb.processes.contract import Contract
from pb.processes.models import Area, CodeChannel, Connection, PhaseKind, Process
from pb.proposals.models import Project
from pb.security import RateLimiter, hit_columns, hit_params
from pb.tally import Ballot as TallyBallot
from pb.tally import Project as TallyProject
from pb.text import DIRECTION_CONTROLS
from pb.voting import codes
from pb.voting.models import (
    AgeBand,
    Ballot,
    CodeBatch,
    HeldBallot,
    PaperEntry,
    VotingCode,
    VotingRecord,
    random_id,
)

MIX_BATCH = 20
"""Held ballots are moved only in batches at least this large (all of them once voting closed)."""
ISSUE_CHUNK = 5000
MAX_ISSUE = 1_000_000

# The statements of a cast, built once (Core, bound parameters): building a SQLAlchemy
# statement and its cache key costs more than SQLite takes to run it.
_codes = typing.cast(sa.Table, VotingCode.__table__)
_held = typing.cast(sa.Table, HeldBallot.__table__)
_ballots = typing.cast(sa.Table, Ballot.__table__)
_records = typing.cast(sa.Table, VotingRecord.__table__)
_projects = typing.cast(sa.Table, Project.__table__)
_LOOK_UP = sa.select(_codes.c.process_id, _codes.c.area_id, _codes.c.used, _codes.c.revoked).where(
    _codes.c.digest == sa.bindparam("digest")
)
_MARK_USED = (
    sa.update(_codes)
    .where(
        _codes.c.digest == sa.bindparam("b_digest"),
        _codes.c.process_id == sa.bindparam("b_process"),
        _codes.c.used.is_(False),
        _codes.c.revoked.is_(False),
    )
    .values(used=True, receipt_bind=sa.bindparam("b_bind"))
)
_HOLD = sa.insert(_held)
# On PostgreSQL the code is marked used and the ballot held in one statement (one round
# trip): the INSERT takes its row from the UPDATE's RETURNING, so it inserts nothing when
# the code was used (or revoked) meanwhile. Same transaction, same xmin as two statements.
_MARKED = _MARK_USED.returning(_codes.c.process_id).cte("marked")
_MARK_AND_HOLD = (
    sa.insert(_held)
    .from_select(
        ["id", "process_id", "receipt_digest", "content"],
        sa.select(
            sa.bindparam("id", type_=_held.c.id.type),
            _MARKED.c.process_id,
            sa.bindparam("receipt_digest", type_=_held.c.receipt_digest.type),
            sa.bindparam("content", type_=_held.c.content.type),
        ),
    )
    .add_cte(_MARKED)
    .execution_options(preserve_rowcount=True)  # an INSERT's rowcount is not kept otherwise
)
_HELD_COUNT = (
    sa.select(sa.func.count())
    .select_from(_held)
    .where(_held.c.process_id == sa.bindparam("process"))
    .scalar_subquery()
)
_FINGERPRINTED = (
    sa.select(sa.func.count())
    .select_from(_records)
    .where(_records.c.process_id == sa.bindparam("process"), _records.c.fingerprint.is_not(None))
    .scalar_subquery()
)
_DUE = sa.select(_HELD_COUNT, _FINGERPRINTED)
_ON_BALLOT = (
    sa.select(_projects.c.code, _projects.c.title, _projects.c.cost, _projects.c.area_id,
              _projects.c.proposal_id, _projects.c.easy_sv, _projects.c.easy_en,
              _projects.c.title_en)
    .where(_projects.c.process_id == sa.bindparam("process"))
    .order_by(_projects.c.position, _projects.c.code)
)  # fmt: skip


# -- errors ------------------------------------------------------------------------------


class CodeUnknown(Invalid):
    message = _l("This code is not valid for this vote. Please check it and try again.")


class CodeRevoked(NotAllowed):
    message = _l("This code has been withdrawn and can no longer be used.")


class CodeAlreadyUsed(Conflict):
    message = _l("This code has already been used. Each code can cast one ballot.")


class VotingClosed(NotAllowed):
    message = _l("Voting is not open.")


class BallotInvalid(Invalid):
    """The ballot breaks the rules; ``problems`` lists every broken rule as a sentence."""

    message = _l("The ballot does not follow the rules.")

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(" ".join(problems) or None)
        self.problems = list(problems)


class OverBudget(BallotInvalid):
    pass


class TooManyProjects(BallotInvalid):
    pass


class PointsInvalid(BallotInvalid):
    pass


class ReceiptUnknown(Invalid):
    message = _l("We found no ballot with this receipt.")


class ReceiptMismatch(Invalid):
    message = _l("This receipt does not belong to this code. Both must come from the same vote.")


class PaperMismatch(Conflict):
    """A second entry that differs from the first. ``first``: the first entry, opened with
    the code just typed (None if it cannot be shown), for the page to show both."""

    message = _l(
        "This entry does not match the first entry of this ballot; nothing is counted. "
        "Compare both with the paper ballot (the differences are shown below). If the first "
        "entry is wrong, throw it away and enter the ballot again, twice. If the first entry "
        "is right, type the ballot again as it is on the paper."
    )

    def __init__(self, first: BallotInput | None = None) -> None:
        super().__init__()
        self.first = first


class PaperResubmitted(Conflict):
    message = _l(
        "This is the first entry sent again (a double click or a reload), not a second "
        "typing. Type the ballot again to confirm it."
    )


class NoPendingEntry(Invalid):
    message = _l(
        "There is no unconfirmed first entry for this code (it may have been thrown away or "
        "counted meanwhile). Enter the ballot as a first entry."
    )


class ExtensionRefused(Invalid):
    pass


class Busy(Conflict):
    message = _l("Your ballot was being changed at the same moment. Please confirm again.")


# -- the ballot --------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """The choices in one area of a ballot (``area`` None: the whole process)."""

    area: str | None
    projects: tuple[str, ...]
    points: tuple[int, ...] | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "area": self.area,
            "projects": list(self.projects),
            "points": list(self.points) if self.points is not None else None,
        }


@dataclass(frozen=True)
class BallotInput:
    """What a voter (or an official typing a paper ballot) chose."""

    parts: tuple[Part, ...]
    district: str | None = None
    age_band: AgeBand | None = None
    connection: Connection | None = None

    def canonical(self) -> str:
        return json.dumps(
            {
                "parts": sorted(
                    (
                        {
                            "area": p.area or "",
                            "choices": sorted(
                                zip(p.projects, p.points or [1] * len(p.projects), strict=True)
                            ),
                        }
                        for p in self.parts
                    ),
                    key=lambda d: str(d["area"]),
                ),
                "district": self.district or "",
                "age_band": self.age_band.value if self.age_band else "",
                "connection": self.connection.value if self.connection else "",
            },
            sort_keys=True,
            separators=(",", ":"),
        )


@dataclass
class BallotProject:
    code: str
    title: str
    cost: int
    area: str | None
    proposal_id: int | None
    easy_sv: str = ""  # the easy-to-read summary, shown first where filled in
    easy_en: str = ""
    title_en: str = ""  # the English title, shown to English readers where filled in

    def easy(self, locale: str) -> str:
        return (self.easy_en if locale == "en" and self.easy_en else self.easy_sv) or ""

    def display_title(self, locale: str) -> str:
        """As ``Project.display_title``: English where asked for and written, else ``title``."""
        return self.title_en if locale == "en" and self.title_en else self.title

    def title_lang(self, locale: str) -> str:
        return "en" if locale == "en" and self.title_en else "sv"


@dataclass
class Ballotpaper:
    """What a voter sees for one process: the projects per area and the rules of each."""

    process: Process
    contract: Contract
    projects: dict[str | None, list[BallotProject]] = field(default_factory=dict)

    @property
    def districts(self) -> list[Area]:
        """The areas a voter chooses one of (every area but the whole municipality's)."""
        return [a for a in self.process.areas if not a.whole_municipality]

    @property
    def only_district(self) -> str | None:
        """The district every voter votes in when there is just one: nobody is asked to pick
        it (the ballot shows it, and a ballot cast without a district is counted in it)."""
        districts = self.districts
        return districts[0].slug if len(districts) == 1 else None

    @property
    def whole_area(self) -> str | None:
        """The slug of the whole-municipality area, where every voter votes, if there is one."""
        return next((a.slug for a in self.process.areas if a.whole_municipality), None)

    def scopes(self, district: str | None) -> list[str | None]:
        """The elections one ballot votes in: the one election of a process without areas;
        else the whole-municipality area (if there is one) and one district."""
        if not self.process.areas:
            return [None]
        out: list[str | None] = []
        if self.whole_area is not None:
            out.append(self.whole_area)
        if district is not None:
            out.append(district)
        return out

    def rules(self, area: str | None) -> Any:
        return self.contract.ballot_rules(area)


def pepper() -> str:
    return str(current_app.config["VOTING_CODE_PEPPER"])


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def ballotpaper(session: Session, process: Process) -> Ballotpaper:
    """The projects on the ballot (accepted in review), by area."""
    slugs = {a.id: a.slug for a in process.areas}
    rows = session.execute(_ON_BALLOT, {"process": process.id})
    paper = Ballotpaper(process, Contract.of(process))
    for row in rows:
        area = slugs.get(row.area_id) if row.area_id is not None else None
        project = BallotProject(row.code, row.title, row.cost, area, row.proposal_id,
                                row.easy_sv, row.easy_en, row.title_en)  # fmt: skip
        paper.projects.setdefault(area, []).append(project)
    return paper


def _problem(code: str, params: dict[str, Any], names: dict[str, str]) -> str:
    return str(_problem_text(code, params, names))


def _problem_text(code: str, params: dict[str, Any], names: dict[str, str]) -> Any:
    def name(pid: Any) -> str:
        return names.get(str(pid), str(pid))

    match code:
        case "over_budget":
            return _(
                "The projects you chose cost %(total)s together, more than the %(limit)s you "
                "may spend.",
                total=sek(params["total"]),
                limit=sek(params["limit"]),
            )
        case "under_min_cost":
            return _(
                "The projects you chose cost %(total)s together; they must cost at least %(min)s.",
                total=sek(params["total"]),
                min=sek(params["min"]),
            )
        case "too_many_projects":
            return ngettext(
                "You chose %(num)s project; you may choose at most %(max)s.",
                "You chose %(num)s projects; you may choose at most %(max)s.",
                params["count"],
                max=params["max"],
            )
        case "too_few_projects":
            return ngettext(
                "You chose %(num)s project; you must choose at least %(min)s.",
                "You chose %(num)s projects; you must choose at least %(min)s.",
                params["count"],
                min=params["min"],
            )
        case "unknown_project":
            return _("The project %(project)s is not on this ballot.", project=params["project"])
        case "duplicate_project":
            return _(
                "The project %(project)s was chosen more than once.",
                project=name(params["project"]),
            )
        case "points_missing" | "points_not_positive":
            return _("Give each project you choose a whole number of points, at least 1.")
        case "too_many_points":
            return _(
                "You gave %(project)s %(points)s points; at most %(max)s are allowed.",
                project=name(params["project"]),
                points=params["points"],
                max=params["max"],
            )
        case "too_few_points":
            return _(
                "You gave %(project)s %(points)s points; at least %(min)s are needed.",
                project=name(params["project"]),
                points=params["points"],
                min=params["min"],
            )
        case "too_many_total_points":
            return _(
                "You gave %(total)s points in all; you have %(max)s.",
                total=params["total"],
                max=params["max"],
            )
        case "too_few_total_points":
            return _(
                "You gave %(total)s points in all; you must give at least %(min)s.",
                total=params["total"],
                min=params["min"],
            )
    return _("The ballot does not follow the rules.")


def check_ballot(paper: Ballotpaper, ballot: BallotInput, code_area: str | None) -> list[Part]:
    """The ballot's parts as they will be stored, checked with the very ``BallotRules`` the
    process page describes (``contract.ballot_rules(area)``); ``BallotInvalid`` (or a
    subclass naming the first problem) lists every broken rule. Totals are computed here
    from the projects' costs; nothing the browser computed is trusted."""
    process = paper.process
    district = ballot.district or None
    slugs = [a.slug for a in paper.districts]
    problems: list[str] = []
    kinds: list[str] = []
    if process.areas:
        if code_area is not None:
            if district is not None and district != code_area:
                problems.append(_("Your code is for another district than the one you chose."))
            district = code_area
        if district is None:
            district = paper.only_district
        if district is not None and district not in slugs:
            problems.append(_("Choose one of the districts of this vote."))
            district = None
        if district is None and process.area_restricted:
            problems.append(_("Choose the district you vote in."))
    elif district is not None:
        problems.append(_("Choose one of the districts of this vote."))
        district = None
    scopes = paper.scopes(district)
    if not scopes:
        problems.append(_("Choose the district you vote in."))
    given = {p.area: p for p in ballot.parts}
    for area in given:
        if area not in scopes:
            problems.append(_("The ballot has choices in an area you do not vote in."))
            kinds.append("unknown_project")
    parts = []
    locale = locale_code()  # the reader's project titles in the messages
    for area in scopes:
        part = given.get(area, Part(area, ()))
        on_ballot = paper.projects.get(area, [])
        tally_projects = {p.code: TallyProject(p.code, Decimal(p.cost)) for p in on_ballot}
        names = {p.code: p.display_title(locale) for p in on_ballot}
        rules = paper.rules(area)
        points = part.points
        if rules.ballot_type == "cumulative":
            # Projects given no points are not chosen.
            pairs = [(p, n) for p, n in zip(part.projects, points or (), strict=False) if n]
            part = Part(area, tuple(p for p, _n in pairs), tuple(n for _p, n in pairs))
        else:
            part = Part(area, part.projects, None)
        violations = rules.check(TallyBallot(part.projects, part.points), tally_projects)
        for code, params in violations:
            problems.append(_problem(code, params, names))
            kinds.append(code)
        parts.append(part)
    if problems:
        problems = list(dict.fromkeys(problems))
        cls: type[BallotInvalid] = BallotInvalid
        for kind in kinds:
            if kind in {"over_budget"}:
                cls = OverBudget
            elif kind in {"too_many_projects"}:
                cls = TooManyProjects
            elif "points" in kind:
                cls = PointsInvalid
            else:
                continue
            break
        raise cls(problems)
    return parts


def _check_open(process: Process, now: dt.datetime) -> None:
    if process.in_phase(PhaseKind.VOTING, now):
        return
    voting = process.phase(PhaseKind.VOTING)
    if voting is None:
        raise VotingClosed(_("This process has no vote."))
    if now < voting.starts_at:
        raise VotingClosed(_("Voting opens on %(date)s.", date=when(voting.starts_at)))
    raise VotingClosed(_("Voting closed on %(date)s.", date=when(voting.ends_at)))


def _check_declared(process: Process, ballot: BallotInput) -> None:
    """What the voter declared (age band, connection) checked with the process's own
    ``Eligibility.check``; a band counts as its oldest age. Nothing declared, nothing to
    check: the code is what entitles."""
    if ballot.age_band is None and ballot.connection is None:
        return
    eligibility = Contract.of(process).eligibility
    problems = eligibility.check(
        age=ballot.age_band.highest if ballot.age_band else 120,
        connections={ballot.connection} if ballot.connection else eligibility.connections,
    )
    for problem in problems:
        if problem.code == "too_young":
            raise NotAllowed(
                _("You must be at least %(age)s years old to vote.", age=eligibility.min_age)
            )
        if problem.code == "no_connection":
            raise Invalid(_("Choose one of the connections that make you eligible."))


@dataclass(frozen=True)
class CodeState:
    digest: str
    canonical: str
    area: str | None


def look_up_code(session: Session, process: Process, text: str) -> CodeState:
    """The code someone typed, checked without changing anything: its check symbol first
    (``CodeTypo``, no look-up), then unknown, revoked or used."""
    canonical = codes.normalize(text)
    digest = codes.digest_canonical(pepper(), canonical)
    row = session.execute(_LOOK_UP, {"digest": digest}).first()
    return _code_state(process, row, digest, canonical)


def _code_state(process: Process, row: Any, digest: str, canonical: str) -> CodeState:
    """A looked-up code's row as a usable code: unknown (or another process's), revoked or
    used refuse, in that order."""
    if row is None or row.process_id != process.id:
        raise CodeUnknown()
    if row.revoked:
        raise CodeRevoked()
    if row.used:
        raise CodeAlreadyUsed()
    area = next((a.slug for a in process.areas if a.id == row.area_id), None)
    return CodeState(digest, canonical, area)


@dataclass(frozen=True)
class Entry:
    """What a ballot step reads before anything else, in one statement (``read_entry``):
    the rate-limit hits, the typed code's row (or why the text cannot be a code) and, for a
    cast, what says whether mixing will be due."""

    hits: list[int]
    canonical: str = ""
    digest: str = ""
    unreadable: Invalid | None = None  # CodeFormatError or CodeTypo: nothing was looked up
    row: Any = None
    held: int = 0
    fingerprinted: bool = True

    def code(self, process: Process) -> CodeState:
        """The code as ``look_up_code`` checks it (same errors, same order)."""
        if self.unreadable is not None:
            raise self.unreadable
        return _code_state(process, self.row, self.digest, self.canonical)

    def mix_due_after_cast(self, process: Process, now: dt.datetime) -> bool:
        """``mix_is_due`` once this step has cast one ballot, from what was read before it
        (concurrent casts may make the count short by a few: a later cast mixes then)."""
        voting = process.phase(PhaseKind.VOTING)
        if voting is not None and now >= voting.ends_at:
            return True
        return self.held + 1 >= MIX_BATCH or not self.fingerprinted


@functools.cache
def _entry_statement(limits: int, code: bool, due: bool) -> sa.Select[Any]:
    columns: list[Any] = list(hit_columns(limits))
    if due:
        columns += [_HELD_COUNT.label("held"), _FINGERPRINTED.label("fingerprinted")]
    if not code:
        return sa.select(*columns)
    columns += [_codes.c.process_id, _codes.c.area_id, _codes.c.used, _codes.c.revoked]
    one = sa.select(sa.literal(1).label("one")).subquery("one")
    return sa.select(*columns).select_from(
        one.outerjoin(_codes, _codes.c.digest == sa.bindparam("digest"))
    )


def read_entry(
    session: Session,
    process: Process,
    code_text: str | None,
    limits: Sequence[tuple[RateLimiter, str]],
    *,
    due: bool = False,
) -> Entry:
    """One statement for what a ballot step checks first: the hits of ``limits`` (as
    ``pb.security.hit_counts``), the code's row if ``code_text`` is given (as
    ``look_up_code``, which ``Entry.code`` then checks; a text that cannot be a code is
    looked up as nothing) and, if ``due``, the held ballots and whether the rules'
    fingerprint is taken (``Entry.mix_due_after_cast``). Reads only, on the session's
    connection (no autoflush: call it before changing anything in the session)."""
    params = hit_params(*limits)
    canonical = digest = ""
    unreadable = None
    if code_text is not None:
        try:
            canonical = codes.normalize(code_text)
        except Invalid as exc:
            unreadable = exc
        else:
            digest = codes.digest_canonical(pepper(), canonical)
        params["digest"] = digest
    if due:
        params["process"] = process.id
    statement = _entry_statement(len(limits), code_text is not None, due)
    row = session.connection().execute(statement, params).one()
    n = len(limits)
    hits = [int(x or 0) for x in row[:n]]
    held, fingerprinted = (int(row[n] or 0), bool(row[n + 1])) if due else (0, True)
    found = row if digest and row.process_id is not None else None
    return Entry(hits, canonical, digest, unreadable, found, held, fingerprinted)


def _content(
    process: Process, parts: list[Part], ballot: BallotInput, now: dt.datetime
) -> dict[str, Any]:
    """A held ballot's content. ``paper`` is always false: once mixed, a paper ballot looks
    like any other (see ``cast``)."""
    # The district voted in: not the whole-municipality area every voter also votes in.
    whole = {a.slug for a in process.areas if a.whole_municipality}
    district = next((p.area for p in parts if p.area is not None and p.area not in whole), None)
    return {
        "day": now.astimezone(_tz()).date().isoformat(),
        "area": district,
        "age_band": ballot.age_band.value if ballot.age_band else None,
        "connection": ballot.connection.value if ballot.connection else None,
        "paper": False,
        "choices": [p.as_json() for p in parts],
    }


def cast(
    session: Session,
    process: Process,
    code_text: str,
    ballot: BallotInput,
    now: dt.datetime,
    *,
    paper: bool = False,
    on_ballot: Ballotpaper | None = None,
    looked_up: CodeState | None = None,
    checked: list[Part] | None = None,
) -> str | None:
    """Cast a ballot with a code; returns the voter's receipt code (None for paper).

    In one transaction (the caller's): the ballot is checked, a conditional UPDATE marks
    the code used (``WHERE digest=? AND NOT used AND NOT revoked``, exactly one row, so two
    simultaneous casts give one ballot and one ``CodeAlreadyUsed``), and the sealed ballot
    goes into the holding table. Nothing is consumed if anything fails. On PostgreSQL the
    UPDATE and the INSERT are one statement (the INSERT reads the UPDATE's RETURNING).

    ``looked_up``: the caller's own ``look_up_code`` of this very code in this request (the
    ballot route checks the code before anything else), so it is not read twice; whatever
    happened since, the conditional UPDATE is what decides. ``checked``: what the caller's
    own ``check_ballot(on_ballot, ballot, looked_up.area)`` returned for this very ballot in
    this request (the route checks it before casting, to show the problems on the ballot),
    so the same rules are not run twice; used only with ``on_ballot`` and ``looked_up``."""
    _check_open(process, now)
    state = looked_up
    if state is None or state.canonical != codes.normalize(code_text):
        state = look_up_code(session, process, code_text)
    _check_declared(process, ballot)
    if checked is not None and on_ballot is not None and state is looked_up:
        parts = checked
    else:
        parts = check_ballot(on_ballot or ballotpaper(session, process), ballot, state.area)
    receipt = None if paper else codes.generate(receipt=True)
    # A paper ballot gets a receipt no one holds: its code row and its ballot row then look
    # like a web voter's (an operator knows which codes were cast on paper: the official's
    # audited entry shares the casting transaction, so a "paper" mark on ballots, or a
    # missing bind or receipt digest, would tie each paper ballot to its code).
    unheld = None if receipt else codes.generate(receipt=True)
    bind = codes.keyed(
        pepper(), "bind", state.canonical, codes.normalize(receipt or unheld or "", receipt=True)
    )
    held = {
        "id": random_id(),
        "receipt_digest": codes.digest(pepper(), receipt or unheld or "", purpose="receipt"),
        "content": _content(process, parts, ballot, now),
    }
    marked = {"b_digest": state.digest, "b_process": process.id, "b_bind": bind}
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        if conn.execute(_MARK_AND_HOLD, {**marked, **held}).rowcount != 1:
            raise CodeAlreadyUsed()
        return receipt
    if conn.execute(_MARK_USED, marked).rowcount != 1:
        raise CodeAlreadyUsed()
    conn.execute(_HOLD, {**held, "process_id": process.id})
    return receipt


def replace(
    session: Session,
    process: Process,
    code_text: str,
    receipt_text: str,
    ballot: BallotInput,
    now: dt.datetime,
) -> None:
    """Replace the ballot cast with this code by a new one, until voting closes.

    The voter proves they cast it by giving both the code and the receipt: the code row's
    ``receipt_bind`` is a keyed HMAC of the two, which no one without both can recompute.
    The code row is not touched (so nothing ties this transaction to the code); the new
    ballot is held under the same receipt digest and the mixer drops the old one when it
    moves the new one. The receipt stays valid."""
    _check_open(process, now)
    area = code_area_for_replacement(session, process, code_text, receipt_text)
    _check_declared(process, ballot)
    receipt_canonical = codes.normalize(receipt_text, receipt=True)
    parts = check_ballot(ballotpaper(session, process), ballot, area)
    receipt_digest = codes.digest_canonical(pepper(), receipt_canonical, purpose="receipt")
    if not receipt_found(session, process, receipt_digest=receipt_digest):
        raise ReceiptUnknown()
    session.execute(
        sa.delete(HeldBallot)
        .where(HeldBallot.receipt_digest == receipt_digest)
        .execution_options(synchronize_session=False)
    )
    session.add(
        HeldBallot(
            id=random_id(),
            process_id=process.id,
            receipt_digest=receipt_digest,
            content=_content(process, parts, ballot, now),
        )
    )
    session.flush()


def code_area_for_replacement(
    session: Session, process: Process, code_text: str, receipt_text: str
) -> str | None:
    """Check that this code cast a ballot whose receipt this is (nothing changes); the
    code's district, if it is bound to one."""
    canonical = codes.normalize(code_text)
    receipt_canonical = codes.normalize(receipt_text, receipt=True)
    digest = codes.digest_canonical(pepper(), canonical)
    row = session.execute(
        sa.select(VotingCode.process_id, VotingCode.area_id, VotingCode.revoked,
                  VotingCode.receipt_bind).where(VotingCode.digest == digest)
    ).first()  # fmt: skip
    if row is None or row.process_id != process.id:
        raise CodeUnknown()
    if row.revoked:
        raise CodeRevoked()
    expected = codes.keyed(pepper(), "bind", canonical, receipt_canonical)
    if row.receipt_bind is None or not codes.same(row.receipt_bind, expected):
        raise ReceiptMismatch()
    return next((a.slug for a in process.areas if a.id == row.area_id), None)


def receipt_found(
    session: Session, process: Process, text: str | None = None, *, receipt_digest: str = ""
) -> bool:
    """Is a ballot with this receipt in the count (mixed or still held)?"""
    if text is not None:
        receipt_digest = codes.digest(pepper(), text, purpose="receipt")
    for model in (Ballot, HeldBallot):
        hit = session.scalar(
            sa.select(sa.literal(1)).where(
                model.receipt_digest == receipt_digest, model.process_id == process.id
            )
        )
        if hit:
            return True
    return False


# -- mixing ------------------------------------------------------------------------------


def mix(
    session: Session, process_id: int, *, everything: bool = False, minimum: int = MIX_BATCH
) -> int:
    """Move held ballots to the ballot table in one shuffled batch, deleting the held rows;
    returns how many moved (0 if fewer than ``minimum`` are held and not ``everything``).

    Run it in its own transaction, never in a casting one: then every ballot row of a batch
    has the ``xmin`` of the mixing transaction, the batch is inserted in a random order
    (heap order, SQLite rowids) with fresh random ids. A ballot replacing an earlier one
    (same receipt digest) removes that one here. A concurrent mixer that took some of the
    same rows makes this one refuse (``Conflict``): roll back and try later."""
    waiting = session.scalar(
        sa.select(sa.func.count())
        .select_from(HeldBallot)
        .where(HeldBallot.process_id == process_id)
    )
    if not waiting or (waiting < minimum and not everything):
        return 0
    held = session.execute(
        sa.select(HeldBallot.id, HeldBallot.receipt_digest, HeldBallot.content).where(
            HeldBallot.process_id == process_id
        )
    ).all()
    rows = list(held)
    _overwrite_deleted(session)  # the held rows, in casting order, with their choices
    secrets.SystemRandom().shuffle(rows)
    ids = [r.id for r in rows]
    deleted = 0
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        result = session.execute(
            sa.delete(HeldBallot)
            .where(HeldBallot.id.in_(chunk))
            .execution_options(synchronize_session=False)
        )
        deleted += result.rowcount  # type: ignore[attr-defined]
    if deleted != len(ids):
        raise Conflict()
    replaced = [r.receipt_digest for r in rows if r.receipt_digest]
    for start in range(0, len(replaced), 500):
        session.execute(
            sa.delete(Ballot)
            .where(Ballot.receipt_digest.in_(replaced[start : start + 500]))
            .execution_options(synchronize_session=False)
        )
    values = []
    for r in rows:
        c = r.content
        values.append(
            {
                "id": random_id(),
                "process_id": process_id,
                "day": dt.date.fromisoformat(c["day"]),
                "area": c.get("area"),
                "age_band": c.get("age_band"),
                "connection": c.get("connection"),
                "paper": bool(c.get("paper")),
                "choices": c["choices"],
                "receipt_digest": r.receipt_digest,
            }
        )
    # One executemany in the shuffled order: SQLite inserts row by row in that order (so
    # rowids are the shuffled order), PostgreSQL's batched VALUES lists keep it in the heap.
    session.connection().execute(sa.insert(_ballots), values)
    session.flush()
    return len(values)


def forget_held(engine: sa.Engine) -> bool:
    """After a mix on SQLite, best effort: checkpoint and truncate the write-ahead log, whose
    frames still hold the held ballots' pages as they were written, in casting order. Never
    waits: with readers or writers busy it degrades to a passive checkpoint (False), and the
    next mix tries again. Run it outside any transaction. (PostgreSQL: see docs/voting.md.)"""
    if engine.dialect.name != "sqlite":
        return False
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA busy_timeout = 0")
        try:
            busy, _log, _done = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
        finally:
            conn.exec_driver_sql("PRAGMA busy_timeout = 10000")
    return not busy


FORGET_EVERY = 1.0
"""Seconds between two truncations of SQLite's write-ahead log by one app process."""


@dataclass
class _Forgetting:
    lock: threading.Lock = field(default_factory=threading.Lock)
    last: float = -FORGET_EVERY
    timer: threading.Timer | None = None


_FORGETTING: weakref.WeakKeyDictionary[sa.Engine, _Forgetting] = weakref.WeakKeyDictionary()
_FORGETTING_LOCK = threading.Lock()


def forget_held_soon(engine: sa.Engine) -> None:
    """After a mix on the web: ``forget_held`` now, unless this process truncated the log
    less than ``FORGET_EVERY`` seconds ago; then (or if the database was busy) once that
    time has passed, in a timer thread of this process.

    Why not after every mix: a truncating checkpoint holds SQLite's write lock while it
    copies the log into the database and syncs the file to disk, and every cast waits for
    it (about 20 ms here, 200 ms on a busy disk). During a rush a batch is mixed many times
    a second; one truncation a second per app process forgets every mixed batch at most
    ``FORGET_EVERY`` seconds later (while it is held, a ballot is in the database anyway,
    see docs/voting.md) and keeps those stalls off most casts."""
    if engine.dialect.name != "sqlite":
        return
    with _FORGETTING_LOCK:
        state = _FORGETTING.setdefault(engine, _Forgetting())
    with state.lock:
        wait = state.last + FORGET_EVERY - time.monotonic()
        if wait > 0 or state.timer is not None:
            _forget_later(engine, state, wait)
            return
        state.last = time.monotonic()
    if not forget_held(engine):
        with state.lock:
            _forget_later(engine, state, FORGET_EVERY)


def _forget_later(engine: sa.Engine, state: _Forgetting, wait: float) -> None:
    """Schedule one truncation (hold ``state.lock``); at most one is pending per engine."""
    if state.timer is not None:
        return

    def run() -> None:
        with state.lock:
            state.timer = None
            state.last = time.monotonic()
        try:
            done = forget_held(engine)
        except sa.exc.SQLAlchemyError:  # the database went away (a test's, a restart)
            return
        if not done:
            with state.lock:
                _forget_later(engine, state, FORGET_EVERY)

    state.timer = threading.Timer(max(wait, 0.0), run)
    state.timer.daemon = True
    state.timer.start()


def mix_is_due(session: Session, process: Process, now: dt.datetime) -> bool:
    """Is there mixing (or the rules' fingerprint) to do after this cast? One statement,
    read in the casting transaction (a read ties nothing): a full batch held, voting
    closed, or no fingerprint yet. Most casts then need no second transaction at all."""
    voting = process.phase(PhaseKind.VOTING)
    if voting is not None and now >= voting.ends_at:
        return True
    held, taken = session.execute(_DUE, {"process": process.id}).one()
    return bool(held >= MIX_BATCH or not taken)


def mix_due(session: Session, process: Process, now: dt.datetime) -> int:
    """Mix what is due: a full batch during voting, everything once voting has closed; and
    take the rules' fingerprint if voting has opened and it was not taken yet. Run it in a
    transaction of its own after a cast (a concurrent mixer makes it raise ``Conflict`` or
    an ``IntegrityError``: roll back, the next one will do it)."""
    ensure_fingerprint(session, process, now)
    voting = process.phase(PhaseKind.VOTING)
    closed = voting is not None and now >= voting.ends_at
    if closed:
        forget_pending_paper(session, process)
    return mix(session, process.id, everything=closed)


# -- issuing and revoking ----------------------------------------------------------------


@dataclass
class Issued:
    batch: CodeBatch
    codes: list[str]


class ChannelNotStated(NotAllowed):
    """Codes asked for through a channel the process's upfront contract does not name."""


def _channel_words(channel: CodeChannel) -> str:
    """A channel as it reads inside a sentence ("by letter", "i skolan")."""
    label = vocab.name(vocab.CHANNELS, channel)
    return label[:1].lower() + label[1:]


def check_channel(process: Process, channel: CodeChannel, contract: Contract | None = None) -> None:
    """Refuse to issue codes through a channel the process's contract does not name: the
    process page promised how codes are handed out (``eligibility.code_channels``), and that
    promise binds officials too (an undeclared channel would be a way to mint extra codes
    unnoticed). Every issuing path calls this before anything is stored or audited."""
    stated = (contract or Contract.of(process)).eligibility.code_channels
    if channel in stated:
        return
    names = [_channel_words(c) for c in vocab.CHANNELS if c in stated]
    if not names:
        raise ChannelNotStated(
            _("This process does not hand out codes %(channel)s: the process page states no "
              "way of handing out codes. Nothing was issued.",
              channel=_channel_words(channel))
        )  # fmt: skip
    listed = names[0] if len(names) == 1 else _(
        "%(first)s and %(last)s", first=", ".join(names[:-1]), last=names[-1])  # fmt: skip
    raise ChannelNotStated(
        _("This process does not hand out codes %(channel)s: the process page states that "
          "codes are handed out %(channels)s. Nothing was issued.",
          channel=_channel_words(channel), channels=listed)
    )  # fmt: skip


PURPOSE_MAX = 200  # voting_code_batches.purpose


def batch_purpose(text: str) -> str:
    """A batch's purpose as it is stored, printed on every card and written in the audit
    log: one line, control characters dropped; refused (``Invalid``) when longer than the
    column (it used to be cut silently) or when it carries characters that reverse how text
    reads (they flipped the text of every card and of the audit line: third probe)."""
    purpose = single_line(text).strip()
    if len(purpose) > PURPOSE_MAX:
        raise Invalid(_("Say what the batch is for in at most %(max)s characters (now "
                        "%(length)s).", max=PURPOSE_MAX, length=len(purpose)))  # fmt: skip
    if any(c in DIRECTION_CONTROLS for c in purpose):
        raise Invalid(str(DIRECTION_MESSAGE))
    return str(purpose)


def issue_codes_iter(
    session: Session,
    process: Process,
    *,
    count: int,
    channel: CodeChannel,
    purpose: str,
    actor: Any,
    area: str | None = None,
    now: dt.datetime,
) -> tuple[CodeBatch, Iterator[list[str]]]:
    """Issue ``count`` codes in one batch; yields the plain codes chunk by chunk as they are
    stored (bounded memory). The audit log records the count, channel and purpose, never a
    code. A channel the process's contract does not name is refused (``check_channel``)
    before anything is stored. Exhaust the iterator before committing."""
    if count < 1 or count > MAX_ISSUE:
        raise Invalid(_("Issue between 1 and %(max)s codes at a time.", max=MAX_ISSUE))
    voting = process.phase(PhaseKind.VOTING)
    if voting is None:
        raise NotAllowed(_("This process has no vote."))
    if now >= voting.ends_at:
        raise VotingClosed(_("Voting has closed; new codes would be worthless."))
    check_channel(process, channel)
    purpose = batch_purpose(purpose)
    area_row = None
    if area:
        area_row = next((a for a in process.areas if a.slug == area or a.name == area), None)
        if area_row is None or area_row.whole_municipality:
            raise Invalid(_("This process has no district %(area)s.", area=area))
    batch = CodeBatch(
        process_id=process.id, channel=channel, purpose=purpose, count=count,
        area_id=area_row.id if area_row else None, issued_by_id=getattr(actor, "id", None),
        issued_at=now,
    )  # fmt: skip
    session.add(batch)
    session.flush()
    record(
        session, AuditAction.CODES_ISSUE, actor=actor, subject=batch, process_id=process.id,
        reason=batch.purpose,
        data={"count": count, "channel": channel.value, "purpose": batch.purpose,
              "area": area_row.slug if area_row else None},
    )  # fmt: skip
    key = pepper().encode()

    def chunks() -> Iterator[list[str]]:
        left = count
        while left:
            n = min(ISSUE_CHUNK, left)
            left -= n
            plain = []
            rows = []
            for _i in range(n):
                value = secrets.randbits(codes.BITS)
                body = codes.encode(value)
                plain.append(codes.format_body(body, value))
                rows.append(
                    {
                        "digest": codes.digest_canonical(key, body),
                        "process_id": process.id,
                        "area_id": batch.area_id,
                        "batch_id": batch.id,
                        "used": False,
                        "revoked": False,
                        "receipt_bind": None,
                    }
                )
            # Core, not the ORM: one executemany per chunk keeps 100,000 codes fast.
            session.connection().execute(
                sa.insert(typing.cast(sa.Table, VotingCode.__table__)), rows
            )
            yield plain

    return batch, chunks()


def issue_codes(
    session: Session,
    process: Process,
    *,
    count: int,
    channel: CodeChannel,
    purpose: str,
    actor: Any,
    area: str | None = None,
    now: dt.datetime,
) -> Issued:
    """Issue ``count`` codes; returns the batch and the plain codes (shown once, never stored)."""
    batch, chunks = issue_codes_iter(
        session, process, count=count, channel=channel, purpose=purpose, actor=actor,
        area=area, now=now,
    )  # fmt: skip
    plain = [code for chunk in chunks for code in chunk]
    session.flush()
    return Issued(batch, plain)


class CodeIssuer:
    """Issue codes one at a time, as letters are drawn: ``code(area)`` returns a new plain
    code bound to that district (by slug or name; None for none) and stores its digest,
    buffered and written in chunks. One batch per district, created when first needed;
    ``finish()`` writes what is left, sets each batch's count and records one audit event
    per batch (counts and purpose, never a code). A channel the process's contract does not
    name is refused (``check_channel``) here, before any code. Exhaust before committing."""

    def __init__(
        self,
        session: Session,
        process: Process,
        *,
        channel: CodeChannel,
        purpose: str,
        actor: Any,
        now: dt.datetime,
    ) -> None:
        voting = process.phase(PhaseKind.VOTING)
        if voting is None:
            raise NotAllowed(_("This process has no vote."))
        if now >= voting.ends_at:
            raise VotingClosed(_("Voting has closed; new codes would be worthless."))
        check_channel(process, channel)
        self.session, self.process, self.channel = session, process, channel
        self.purpose, self.actor, self.now = batch_purpose(purpose), actor, now
        self.key = pepper().encode()
        self.batches: dict[int | None, CodeBatch] = {}
        self.counts: dict[int | None, int] = {}
        self.rows: list[dict[str, Any]] = []

    def _batch(self, area: str | None) -> CodeBatch:
        area_row = None
        if area:
            area_row = next((a for a in self.process.areas if area in (a.slug, a.name)), None)
            if area_row is None or area_row.whole_municipality:
                raise Invalid(_("This process has no district %(area)s.", area=area))
        area_id = area_row.id if area_row else None
        if area_id not in self.batches:
            batch = CodeBatch(
                process_id=self.process.id, channel=self.channel, purpose=self.purpose,
                count=0, area_id=area_id, issued_by_id=getattr(self.actor, "id", None),
                issued_at=self.now,
            )  # fmt: skip
            self.session.add(batch)
            self.session.flush()
            self.batches[area_id] = batch
            self.counts[area_id] = 0
        return self.batches[area_id]

    def code(self, area: str | None = None) -> str:
        batch = self._batch(area)
        value = secrets.randbits(codes.BITS)
        body = codes.encode(value)
        self.rows.append(
            {
                "digest": codes.digest_canonical(self.key, body),
                "process_id": self.process.id,
                "area_id": batch.area_id,
                "batch_id": batch.id,
                "used": False,
                "revoked": False,
                "receipt_bind": None,
            }
        )
        self.counts[batch.area_id] += 1
        if len(self.rows) >= ISSUE_CHUNK:
            self._write()
        return codes.format_body(body, value)

    def _write(self) -> None:
        if self.rows:
            table = typing.cast(sa.Table, VotingCode.__table__)
            self.session.connection().execute(sa.insert(table), self.rows)
            self.rows = []

    def finish(self) -> int:
        """Write what is left; the number of codes issued."""
        self._write()
        for area_id, batch in self.batches.items():
            batch.count = self.counts[area_id]
            area = next((a.slug for a in self.process.areas if a.id == area_id), None)
            record(
                self.session, AuditAction.CODES_ISSUE, actor=self.actor, subject=batch,
                process_id=self.process.id, reason=batch.purpose,
                data={"count": batch.count, "channel": self.channel.value,
                      "purpose": batch.purpose, "area": area},
            )  # fmt: skip
        self.session.flush()
        return sum(self.counts.values())


def revoke_code(session: Session, process: Process, text: str, actor: Any) -> None:
    """Revoke one unused code by its plain text. A used code cannot be revoked: its ballot
    cannot be found (by design) and stays in the count."""
    digest = codes.digest(pepper(), text)
    code = session.get(VotingCode, digest)
    if code is None or code.process_id != process.id:
        raise CodeUnknown()
    if code.used:
        raise CodeAlreadyUsed(
            _("This code has already been used; its ballot cannot be found or removed.")
        )
    code.revoked = True
    record(
        session, AuditAction.CODES_REVOKE, actor=actor, subject_type="voting_code_batches",
        subject_id=code.batch_id, process_id=process.id, data={"count": 1},
    )  # fmt: skip
    session.flush()


def revoke_batch(session: Session, process: Process, batch_id: int, actor: Any) -> int:
    """Revoke every unused code of a batch; returns how many."""
    batch = session.get(CodeBatch, batch_id)
    if batch is None or batch.process_id != process.id:
        raise Invalid(_("This process has no batch %(id)s.", id=batch_id))
    result = session.execute(
        sa.update(VotingCode)
        .where(
            VotingCode.batch_id == batch_id,
            VotingCode.used.is_(False),
            VotingCode.revoked.is_(False),
        )
        .values(revoked=True)
        .execution_options(synchronize_session=False)
    )
    batch.revoked = True
    n = int(result.rowcount)  # type: ignore[attr-defined]
    record(
        session, AuditAction.CODES_REVOKE, actor=actor, subject=batch, process_id=process.id,
        data={"count": n},
    )  # fmt: skip
    session.flush()
    return n


# -- paper ballots -----------------------------------------------------------------------


def enter_paper(
    session: Session,
    process: Process,
    code_text: str,
    ballot: BallotInput,
    official: Any,
    now: dt.datetime,
    *,
    form: str = "",
) -> bool:
    """Enter a paper ballot that carries a printed code; True once it counts.

    ``form`` names the form the entry was typed into (a random token each time the form is
    shown): the same form sent twice (a double click, a reload) is one typing, not two, and
    the second sending is refused with ``PaperResubmitted``.

    The first entry is checked like a cast (open vote, valid unused code, valid ballot) and
    kept only as a keyed commitment to (code, choices). A second entry of the same code
    (by another official, or the same ballot typed again) that matches casts the ballot
    through ``cast``; one that differs is refused and the first entry stays. The audit log
    counts entries per official, never their content."""
    _check_open(process, now)
    state = look_up_code(session, process, code_text)
    _check_declared(process, ballot)
    paper = ballotpaper(session, process)
    check_ballot(paper, ballot, state.area)
    code_key = codes.keyed(pepper(), "paper-code", state.canonical)
    commitment = codes.keyed(pepper(), "paper", state.canonical, ballot.canonical())
    if not form:  # a form's token decides the entry's id; else a random one
        form = secrets.token_hex(16)
    record(
        session, AuditAction.PAPER_ENTRY, actor=official, subject=process,
        process_id=process.id, data={"entries": 1},
    )  # fmt: skip
    first = session.scalar(
        sa.select(PaperEntry).where(
            PaperEntry.process_id == process.id, PaperEntry.code_key == code_key
        )
    )
    # The entry's id is derived from its form's token (random either way).
    entry_id = codes.keyed(pepper(), "paper-form", form, code_key)[:32]
    if first is None:
        session.add(
            PaperEntry(
                id=entry_id, process_id=process.id, code_key=code_key,
                commitment=commitment, entered_by_id=getattr(official, "id", None),
                sealed=_seal(state.canonical, entry_id, ballot),
            )
        )  # fmt: skip
        session.flush()
        return False
    if codes.same(first.id, entry_id):
        raise PaperResubmitted()
    if not codes.same(first.commitment, commitment):
        raise PaperMismatch(_unseal(state.canonical, first))
    _overwrite_deleted(session)  # the entry held the code's key beside its sealed choices
    session.delete(first)
    cast(session, process, code_text, ballot, now, paper=True)
    return True


def record_paper_mismatch(session: Session, process: Process, official: Any) -> None:
    """A second entry that differs from the first is refused, and its transaction rolled
    back with its audit entry; it was typed all the same, so the audit log counts it under
    its official like every entry (fourth probe F14). Never its content."""
    record(
        session, AuditAction.PAPER_ENTRY, actor=official, subject=process,
        process_id=process.id, data={"entries": 1, "matched_first": False},
    )  # fmt: skip


PAPER_SEAL_BLOCK = 512
"""A pending entry's sealed choices are padded to a multiple of this many bytes, so their
length does not tell how many projects were chosen."""


SEAL_NONCE = 12
SEAL_OVERHEAD = SEAL_NONCE + 16
"""Bytes a sealed entry has beyond its padded choices: the nonce before, AES-GCM's tag after."""


def _sealer(canonical: str, entry_id: str) -> AESGCM:
    """AES-256-GCM (the ``cryptography`` package) under a key only the pepper and the code
    give; the entry's (random) id makes it differ for every entry of the same code."""
    return AESGCM(bytes.fromhex(codes.keyed(pepper(), "paper-seal", canonical, entry_id)))


def _seal(canonical: str, entry_id: str, ballot: BallotInput) -> str:
    """The choices of a first paper entry, sealed (hex): readable only with the pepper and
    the code, i.e. by a second entry of the same paper ballot."""
    plain = json.dumps(
        {
            "parts": [p.as_json() for p in ballot.parts],
            "district": ballot.district,
            "age_band": ballot.age_band.value if ballot.age_band else None,
            "connection": ballot.connection.value if ballot.connection else None,
        },
        separators=(",", ":"),
    ).encode()
    size = -(-(len(plain) + 1) // PAPER_SEAL_BLOCK) * PAPER_SEAL_BLOCK
    nonce = secrets.token_bytes(SEAL_NONCE)
    sealed = _sealer(canonical, entry_id).encrypt(nonce, plain.ljust(size, b" "), entry_id.encode())
    return (nonce + sealed).hex()


def _unseal(canonical: str, entry: PaperEntry) -> BallotInput | None:
    """The first entry's choices, if they open with this code and match its commitment."""
    if not entry.sealed:
        return None
    try:
        data = bytes.fromhex(entry.sealed)
        plain = _sealer(canonical, entry.id).decrypt(
            data[:SEAL_NONCE], data[SEAL_NONCE:], entry.id.encode()
        )
        doc = json.loads(plain.decode())
        ballot = BallotInput(
            tuple(
                Part(p["area"], tuple(p["projects"]),
                     tuple(p["points"]) if p.get("points") is not None else None)
                for p in doc["parts"]
            ),
            doc.get("district"),
            AgeBand(doc["age_band"]) if doc.get("age_band") else None,
            Connection(doc["connection"]) if doc.get("connection") else None,
        )  # fmt: skip
    except (ValueError, KeyError, TypeError, InvalidTag):  # InvalidTag: another code, or tampered
        return None
    expected = codes.keyed(pepper(), "paper", canonical, ballot.canonical())
    return ballot if codes.same(entry.commitment, expected) else None


def discard_paper_entry(
    session: Session, process: Process, code_text: str, official: Any,
    now: dt.datetime | None = None,
) -> None:  # fmt: skip
    """Throw away the pending first entry of a paper ballot (after a mismatch, the officials
    looked at the paper and found the first entry wrong): the row is deleted, and the ballot
    is entered afresh, twice. Audited as a count, never the content. The code stays unused.
    Only while voting is open: afterwards nothing can be entered again (and the pending
    entries are deleted, ``forget_pending_paper``)."""
    _check_open(process, now or utcnow())
    canonical = codes.normalize(code_text)
    code_key = codes.keyed(pepper(), "paper-code", canonical)
    _overwrite_deleted(session)
    result = session.execute(
        sa.delete(PaperEntry).where(
            PaperEntry.process_id == process.id, PaperEntry.code_key == code_key
        )
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NoPendingEntry()
    record(
        session, AuditAction.PAPER_DISCARD, actor=official, subject=process,
        process_id=process.id, data={"entries": 1},
    )  # fmt: skip
    session.flush()


def _overwrite_deleted(session: Session) -> None:
    """On SQLite, make this connection's deletes overwrite the rows' bytes: a deleted held
    ballot or pending paper entry (a code's key beside its sealed choices) would otherwise stay
    in the file's free space, readable by whoever copies the file. (Debian's SQLite does this
    by default; not every build does.) PostgreSQL: see docs/voting.md on dead tuples."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(sa.text("PRAGMA secure_delete = ON"))


def forget_pending_paper(session: Session, process: Process) -> int:
    """Once voting has closed, a first paper entry without a second can never count:
    delete it (its sealed choices have no purpose left)."""
    _overwrite_deleted(session)
    result = session.execute(sa.delete(PaperEntry).where(PaperEntry.process_id == process.id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# -- the rules fingerprint and the extension ---------------------------------------------


def canonical_rules(session: Session, process: Process) -> str:
    """The frozen rules as canonical JSON (sorted keys, no spaces): budget, areas,
    eligibility, the ballot rules of each area, counting, voting dates and the projects."""
    contract = Contract.of(process)
    paper = ballotpaper(session, process)
    scopes: list[str | None] = [a.slug for a in contract.areas] if contract.areas else [None]
    voting = process.phase(PhaseKind.VOTING)

    def rules(area: str | None) -> dict[str, Any]:
        r = contract.ballot_rules(area)
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in sorted(vars(r).items())}

    doc = {
        "process": process.slug,
        "budget": contract.budget,
        "areas": [[a.slug, a.name, a.budget] for a in contract.areas],
        "eligibility": {
            "min_age": contract.eligibility.min_age,
            "connections": sorted(c.value for c in contract.eligibility.connections),
            "area_restricted": contract.eligibility.area_restricted,
        },
        "ballot": {str(area or ""): rules(area) for area in scopes},
        "counting": {
            "rule": contract.counting.rule.value,
            "tie_break": contract.counting.tie_break.value,
            "lottery_seed": contract.counting.lottery_seed,
        },
        "voting_starts": voting.starts_at.isoformat() if voting else None,
        "projects": sorted(
            [p.code, p.title, p.cost, p.area or ""] for ps in paper.projects.values() for p in ps
        ),
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def fingerprint_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def voting_record(session: Session, process: Process) -> VotingRecord | None:
    return session.get(VotingRecord, process.id)


def ensure_fingerprint(session: Session, process: Process, now: dt.datetime) -> str | None:
    """Store the fingerprint of the rules the first time it is needed once voting opened."""
    voting = process.phase(PhaseKind.VOTING)
    if voting is None or now < voting.starts_at:
        return None
    rec = session.get(VotingRecord, process.id)
    if rec is not None and rec.fingerprint:
        return rec.fingerprint
    text = canonical_rules(session, process)
    if rec is None:
        rec = VotingRecord(process_id=process.id, extension_reason="")
        session.add(rec)
    rec.canonical_rules = text
    rec.fingerprint = fingerprint_of(text)
    rec.fingerprinted_at = now
    record(
        session, AuditAction.VOTING_FINGERPRINT, subject=process, process_id=process.id,
        data={"sha256": rec.fingerprint},
    )  # fmt: skip
    session.flush()
    return rec.fingerprint


@dataclass(frozen=True)
class Shift:
    """One phase before and after an extension of voting."""

    kind: PhaseKind
    starts_at: dt.datetime
    ends_at: dt.datetime
    new_starts_at: dt.datetime
    new_ends_at: dt.datetime


MIN_EXTENSION = dt.timedelta(minutes=1)
"""The least an extension adds: an "extension" by seconds typed by hand read, in the audit
log, as a move from 6 December 00:00 to 6 December 00:00 (fourth probe)."""


def plan_extension(process: Process, new_end: dt.datetime) -> list[Shift]:
    """What an extension to ``new_end`` moves: the end of voting, and every later phase by
    as much. Refuses an extension after which the results would be published after the
    decision date the contract states (``Process.decision_date``): the committee cannot
    decide on results that do not exist yet; the message names the latest end that keeps
    the date."""
    voting = process.phase(PhaseKind.VOTING)
    if voting is None:
        raise ExtensionRefused(_("This process has no vote."))
    if new_end - voting.ends_at < MIN_EXTENSION:  # the preview refuses what extending would
        raise ExtensionRefused(_("The new end must be later than the current end of voting."))
    delta = new_end - voting.ends_at
    shifts = [Shift(voting.kind, voting.starts_at, voting.ends_at, voting.starts_at, new_end)]
    try:
        for p in process.phases:
            if p.kind.order > PhaseKind.VOTING.order:
                shifts.append(Shift(p.kind, p.starts_at, p.ends_at,
                                    p.starts_at + delta, p.ends_at + delta))  # fmt: skip
    except OverflowError:
        raise ExtensionRefused(_("The new end is too far in the future.")) from None
    decided = process.decision_date
    results = next((s for s in shifts if s.kind == PhaseKind.RESULTS), None)
    if decided is not None and results is not None:
        published = results.new_starts_at.astimezone(_tz()).date()
        if published > decided:
            spare = (decided - results.starts_at.astimezone(_tz()).date()).days
            latest = voting.ends_at + dt.timedelta(days=spare)
            if spare > 0 and latest > voting.ends_at:
                hint = _(
                    "Choose a shorter extension: voting can end at the latest on %(end)s "
                    "(last day to vote %(day)s).",
                    end=when(latest), day=last_day(latest),
                )  # fmt: skip
            else:
                hint = _(
                    "Voting cannot be extended without that: the results phase already "
                    "starts too close to the decision."
                )
            raise ExtensionRefused(
                _(
                    "With this end the results would be published from %(results)s, after "
                    "the decision on %(decision)s that the process states.",
                    results=when(results.new_starts_at, "date"),
                    decision=when(decided),
                )
                + " "
                + hint
            )
    return shifts


def extend_voting(
    session: Session,
    process: Process,
    new_end: dt.datetime,
    reason: str,
    actor: Any,
    now: dt.datetime,
) -> None:
    """Move the end of voting later (never earlier, never once it has ended), with a reason
    shown on the process page and kept in the audit log. Later phases move by as much
    (``plan_extension``, which also keeps the results before the stated decision date).
    The frozen rules do not change (they hold the start of voting, not its end)."""
    voting = process.phase(PhaseKind.VOTING)
    if voting is None:
        raise ExtensionRefused(_("This process has no vote."))
    if now >= voting.ends_at:
        raise ExtensionRefused(_("Voting has already ended; it cannot be extended."))
    reason = reason.strip()
    if not reason:
        raise ExtensionRefused(_("Give the reason for extending the vote."))
    old_end = voting.ends_at
    moved = {s.kind: s for s in plan_extension(process, new_end)}  # voting's own included
    for phase in process.phases:
        if (shift := moved.get(phase.kind)) is not None:
            phase.starts_at, phase.ends_at = shift.new_starts_at, shift.new_ends_at
    rec = session.get(VotingRecord, process.id)
    if rec is None:
        rec = VotingRecord(process_id=process.id, canonical_rules="")
        session.add(rec)
    if rec.original_ends_at is None:
        rec.original_ends_at = old_end
    rec.extension_reason = reason[:2000]
    rec.extended_at = now
    record(
        session, AuditAction.VOTING_EXTEND, actor=actor, subject=process, process_id=process.id,
        reason=rec.extension_reason, data={"from": old_end, "to": new_end},
    )  # fmt: skip
    session.flush()


def counts(session: Session, process_id: int) -> dict[str, int]:
    """Ballots (mixed and held) and used codes, for officials and benchmarks."""

    def n(stmt: Any) -> int:
        return int(session.scalar(stmt) or 0)

    return {
        "ballots": n(sa.select(sa.func.count()).select_from(Ballot).where(
            Ballot.process_id == process_id)),
        "held": n(sa.select(sa.func.count()).select_from(HeldBallot).where(
            HeldBallot.process_id == process_id)),
        "used_codes": n(sa.select(sa.func.count()).select_from(VotingCode).where(
            VotingCode.process_id == process_id, VotingCode.used.is_(True))),
        "receipts": n(sa.select(sa.func.count()).select_from(Ballot).where(
            Ballot.process_id == process_id, Ballot.receipt_digest.is_not(None))),
    }  # fmt: skip


def ballots_for_tally(session: Session, process_id: int) -> Iterable[Ballot]:
    return session.scalars(sa.select(Ballot).where(Ballot.process_id == process_id))
