"""Counting, publishing and the frozen snapshot; the anonymous ballot files; pabulib import.

``count`` runs the frozen contract (rule, tie-break, seed) through ``pb.tally`` on every
mixed ballot, one election per area; it refuses before voting has closed. ``publish``
counts once more and freezes the result in a ``ResultSnapshot`` with the ballot files and
their SHA-256, audited; it refuses a second time. Pages read ``snapshot`` only.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import inspect
import io
import json
import re
import secrets
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from pb import tally
from pb.audit import AuditAction, head, record
from pb.errors import Conflict, Invalid, NotAllowed
from pb.processes.contract import AreaBudget, Contract
from pb.processes.models import (
    Area,
    BallotType,
    CountingRule,
    Phase,
    PhaseKind,
    Process,
    TieBreak,
)
from pb.proposals import projects as ballot_projects
from pb.proposals.models import Project
from pb.results import feedback
from pb.results.models import ImportedElection, ResultFile, ResultSnapshot
from pb.tally.cli import outcome_as_json
from pb.voting import services as voting
from pb.voting.models import Ballot, random_id

SMALL_GROUP = 10
"""A turnout group with fewer ballots than this is never shown on its own."""

FILE_KINDS = ("pb", "csv", "json")

# pb.tally rule name -> the pabulib META rule that names it (``pb tally`` reads it back).
PABULIB_RULE_NAMES = {ours: theirs for theirs, ours in tally.PABULIB_RULES.items()}
PABULIB_RULE_NAMES["greedy"] = "greedy"


# -- errors ------------------------------------------------------------------------------


class VotingNotClosed(NotAllowed):
    message = _l("The results are counted only after voting has closed.")


class NoVote(NotAllowed):
    message = _l("This process has no vote to count.")


class AlreadyPublished(Conflict):
    message = _l("The results of this process are already published; they cannot change.")


class NotPublished(NotAllowed):
    message = _l("The results of this process are not published yet.")


class FileTampered(Conflict):
    message = _l(
        "This ballot file no longer matches its published SHA-256, so it is not served. "
        "Please tell the municipality."
    )


class UnknownElection(Invalid):
    message = _l("This process has no such area.")


class CannotCount(Invalid):
    message = _l("These ballots cannot be counted with the rules as they stand.")


class ImportInvalid(Invalid):
    message = _l("The pabulib file has errors; nothing was created.")


# -- seeds, closing ----------------------------------------------------------------------


# The one conversion of a published text seed into the lottery's number, the one that
# `pb tally --seed TEXT` and the process contract use.
seed_from_text = tally.seed_from_text


def voting_closed(process: Process, now: dt.datetime) -> bool:
    voting_phase = process.phase(PhaseKind.VOTING)
    return voting_phase is not None and now >= voting_phase.ends_at


def check_closed(process: Process, now: dt.datetime) -> None:
    if process.phase(PhaseKind.VOTING) is None:
        raise NoVote()
    if not voting_closed(process, now):
        raise VotingNotClosed()


def snapshot(session: Session, process: Process) -> ResultSnapshot | None:
    return session.get(ResultSnapshot, process.id)


def held_count(session: Session, process: Process) -> int:
    return voting.counts(session, process.id)["held"]


# -- building the elections --------------------------------------------------------------


@dataclass(frozen=True)
class ElectionCount:
    """One election of a process (an area, or the whole process) and its outcome."""

    key: str  # the area's slug, "" when the process has no areas
    name: str
    whole_municipality: bool
    election: tally.Election
    outcome: tally.Outcome
    titles: dict[str, str]
    titles_en: dict[str, str] = field(default_factory=dict)  # only those written


@dataclass(frozen=True)
class Count:
    rule: str
    tie_break: str
    seed_text: str | None
    elections: tuple[ElectionCount, ...]
    turnout: dict[str, Any]
    ballots: int

    def as_tally_json(self) -> dict[str, Any]:
        """What ``pb tally --json`` prints for each election: the object itself without
        areas, else one per area slug."""
        seed_text = self.seed_text if self.tie_break == "lottery" else None
        if len(self.elections) == 1 and self.elections[0].key == "":
            return tally_json(self.elections[0].outcome, seed_text)
        return {e.key: tally_json(e.outcome, seed_text) for e in self.elections}


def tally_json(outcome: tally.Outcome, seed_text: str | None) -> dict[str, Any]:
    """``outcome_as_json`` as ``pb tally --json`` calls it (with the published text seed where
    that version of ``pb tally`` prints it)."""
    as_json: Any = outcome_as_json
    if "seed_text" in inspect.signature(as_json).parameters:
        return dict(as_json(outcome, "en", seed_text=seed_text))
    return dict(as_json(outcome, "en"))


def _ballot_rows(session: Session, process: Process) -> list[Any]:
    """Every mixed ballot's parts and declared bands, read once for counting and turnout."""
    return list(
        session.execute(
            sa.select(Ballot.choices, Ballot.paper, Ballot.age_band, Ballot.connection).where(
                Ballot.process_id == process.id
            )
        ).all()
    )


def _ballot_parts(rows: list[Any]) -> dict[str, list[tally.Ballot]]:
    parts: dict[str, list[tally.Ballot]] = {}
    for choices, *_rest in rows:
        for part in choices:
            points = part.get("points")
            parts.setdefault(part.get("area") or "", []).append(
                tally.Ballot(tuple(part["projects"]), tuple(points) if points else None)
            )
    return parts


def _rules_from(data: dict[str, Any]) -> tally.BallotRules:
    return tally.BallotRules(**data)


def _rules_as_data(rules: tally.BallotRules) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in vars(rules).items()}


def _elections(
    session: Session, process: Process, rows: list[Any]
) -> list[tuple[str, str, bool, tally.Election, dict[str, str], dict[str, str]]]:
    contract = Contract.of(process)
    imported = session.get(ImportedElection, process.id)
    parts = _ballot_parts(rows)
    result = []
    for area, rules in contract.elections():
        area_row = _area_row(process, area)
        rows = ballot_projects.ballot(session, process, area_row)
        titles = {p.code: p.title for p in rows}
        titles_en = {p.code: p.title_en for p in rows if p.title_en}
        key = area.slug if area is not None else ""
        if imported is not None:
            data = imported.data
            costs = data["costs"]
            election = tally.Election(
                projects=tuple(
                    tally.Project(p.code, Decimal(costs[p.code]), p.title) for p in rows
                ),
                budget=Decimal(data["budget"]),
                ballots=tuple(parts.get(key, ())),
                rules=_rules_from(data["rules"]),
                min_project_score=(
                    Decimal(data["min_project_score"]) if data.get("min_project_score") else None
                ),
                meta=tuple((k, v) for k, v in data["meta"]),
            )
        else:
            election = tally.Election(
                projects=tuple(tally.Project(p.code, Decimal(p.cost), p.title) for p in rows),
                budget=Decimal(contract.budget_for(area)),
                ballots=tuple(parts.get(key, ())),
                rules=rules,
                meta=_meta(process, area, contract),
            )
        name = area.name if area is not None else process.title_sv
        whole = bool(area is not None and area.whole_municipality)
        result.append((key, name, whole, election, titles, titles_en))
    return result


def _area_row(process: Process, area: AreaBudget | None) -> Area | None:
    if area is None:
        return None
    return next(a for a in process.areas if a.id == area.id)


def _meta(
    process: Process, area: AreaBudget | None, contract: Contract
) -> tuple[tuple[str, str], ...]:
    """The process's own rules in pabulib META (budget, vote_type and limits come from the
    election itself when the file is written)."""
    voting_phase = process.phase(PhaseKind.VOTING)
    rule = contract.counting.rule.value
    rows = [
        ("description", f"{process.title_sv}" + (f" – {area.name}" if area else "")),
        ("country", "Sweden"),
        ("unit", process.title_sv),
        ("instance", process.slug),
        ("subunit", area.name if area else ""),
        ("rule", PABULIB_RULE_NAMES.get(rule, rule)),
        ("tie_break", contract.counting.tie_break.value),
        ("currency", "SEK"),
        ("language", "sv"),
    ]
    if contract.counting.lottery_seed:
        rows.append(("lottery_seed", contract.counting.lottery_seed))
    if voting_phase is not None:
        rows.append(("date_begin", voting_phase.starts_at.date().strftime("%d.%m.%Y")))
        rows.append(("date_end", voting_phase.ends_at.date().strftime("%d.%m.%Y")))
    return tuple((k, v) for k, v in rows if v)


def _counting(session: Session, process: Process) -> tuple[str, str, str | None]:
    contract = Contract.of(process)
    imported = session.get(ImportedElection, process.id)
    rule = imported.rule if imported is not None else contract.counting.rule.value
    return rule, contract.counting.tie_break.value, contract.counting.lottery_seed


def count(session: Session, process: Process, now: dt.datetime, *, mix: bool = True) -> Count:
    """Count every election of the process by its frozen rules. Refuses before voting has
    closed. First every held ballot is mixed (``mix=False``, for a page that only reads,
    counts what is mixed: call it when ``held_count`` is 0)."""
    check_closed(process, now)
    if mix:
        voting.mix_due(session, process, now)  # every held ballot, and the rules' fingerprint
    rule, tie_break, seed_text = _counting(session, process)
    seed = seed_from_text(seed_text) if tie_break == "lottery" and seed_text else None
    rows = _ballot_rows(session, process)
    elections = _elections(session, process, rows)
    counted = []
    if tie_break == "lottery" and seed is None:
        raise CannotCount(_l("The tie-break is a lottery, but no lottery seed was published."))
    for key, name, whole, election, titles, titles_en in elections:
        try:
            outcome = tally.tally(election, rule, tie_break, seed=seed)
        except tally.TallyError as exc:
            raise CannotCount(f"{CannotCount.message} ({exc})") from exc
        counted.append(ElectionCount(key, name, whole, election, outcome, titles, titles_en))
    return Count(rule, tie_break, seed_text, tuple(counted),
                 turnout(rows, used_codes_by_channel(session, process)), len(rows))  # fmt: skip


def used_codes_by_channel(session: Session, process: Process) -> dict[str, int]:
    """Turnout by the way the codes were handed out (letter, e-mail, school, library): the used
    codes of each channel's batches, counted on the code side. A ballot carries no channel
    (nor whether it was typed from paper), so nothing here narrows a ballot's batch."""
    from pb.voting.models import CodeBatch, VotingCode

    rows = session.execute(
        sa.select(CodeBatch.channel, sa.func.count())
        .select_from(VotingCode)
        .join(CodeBatch, CodeBatch.id == VotingCode.batch_id)
        .where(VotingCode.process_id == process.id, VotingCode.used.is_(True))
        .group_by(CodeBatch.channel)
    )
    return {str(channel.value if hasattr(channel, "value") else channel): n for channel, n in rows}


def mix_all(session: Session, process: Process, now: dt.datetime) -> int:
    """Mix every held ballot once voting has closed (the step before counting)."""
    check_closed(process, now)
    return voting.mix_due(session, process, now)


# -- turnout -----------------------------------------------------------------------------


def merge_small(groups: dict[str, int], minimum: int = SMALL_GROUP) -> list[tuple[str, int]]:
    """Groups as (key, ballots), largest first, where no group under ``minimum`` stands on
    its own: small groups are merged into ``"_small"``, which takes the next smallest group
    until it reaches ``minimum``. If all of them together are fewer, nothing is shown."""
    items = sorted(((k, n) for k, n in groups.items() if n > 0), key=lambda kv: (-kv[1], kv[0]))
    if sum(n for _, n in items) < minimum:
        return []
    big = [(k, n) for k, n in items if n >= minimum]
    other = sum(n for _, n in items if n < minimum)
    while 0 < other < minimum and big:
        other += big.pop()[1]
    return big + ([("_small", other)] if other else [])


def turnout(rows: list[Any], by_channel: dict[str, int] | None = None) -> dict[str, Any]:
    """Ballots (``_ballot_rows``) by area, by declared age band and connection, and by the
    channel their codes came through (``used_codes_by_channel``; none for an imported file);
    small groups merged (``merge_small``)."""
    by_area: Counter[str] = Counter()
    by_age: Counter[str] = Counter()
    by_connection: Counter[str] = Counter()
    for choices, _paper, age_band, connection in rows:
        for part in choices:
            by_area[part.get("area") or ""] += 1
        by_age[age_band or "undeclared"] += 1
        by_connection[connection or "undeclared"] += 1
    return {
        "ballots": len(rows),
        "area": merge_small(dict(by_area)),
        "channel": merge_small(dict(by_channel or {})),
        "age_band": merge_small(dict(by_age)),
        "connection": merge_small(dict(by_connection)),
    }


# -- publishing --------------------------------------------------------------------------


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def anonymous_election(election: tally.Election) -> tally.Election:
    """The election with its ballots shuffled and voter ids replaced by sequence numbers."""
    ballots = list(election.ballots)
    secrets.SystemRandom().shuffle(ballots)
    return tally.Election(
        projects=election.projects,
        budget=election.budget,
        ballots=tuple(
            tally.Ballot(b.projects, b.points, voter_id=str(i + 1)) for i, b in enumerate(ballots)
        ),
        rules=election.rules,
        min_project_score=election.min_project_score,
        meta=election.meta,
    )


def ballot_files(election: tally.Election) -> dict[str, str]:
    """The three downloads of one (already anonymous) election: pabulib, CSV and JSON."""
    points = election.ballot_type == "cumulative"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["voter_id", "vote", *(["points"] if points else [])])
    for b in election.ballots:
        row = [b.voter_id, ",".join(b.projects)]
        if points:
            row.append(",".join(str(p) for p in (b.points or ())))
        writer.writerow(row)
    doc = {
        "meta": dict(election.meta),
        "budget": str(election.budget),
        "rules": _rules_as_data(election.rules),
        "projects": [{"id": p.id, "cost": str(p.cost), "name": p.name} for p in election.projects],
        "ballots": [
            {"voter_id": b.voter_id, "vote": list(b.projects)}
            | ({"points": list(b.points or ())} if points else {})
            for b in election.ballots
        ],
    }
    return {
        "pb": tally.dumps(election),
        "csv": out.getvalue(),
        "json": json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n",
    }


def election_data(e: ElectionCount, seed_text: str | None = None) -> dict[str, Any]:
    outcome = e.outcome
    data = tally_json(outcome, seed_text)
    for entry in data["projects"]:
        result = outcome.result(entry["id"])
        entry["explanation_sv"] = result.explanation.text("sv")
        entry["rank"] = result.rank
        entry["title"] = e.titles.get(entry["id"], entry["name"])
        # Frozen with the Swedish one, so the page reads the same in English for good; a
        # snapshot published before English titles existed has none (readers see "title").
        entry["title_en"] = e.titles_en.get(entry["id"], "")
    data["key"] = e.key
    data["name"] = e.name
    data["whole_municipality"] = e.whole_municipality
    data["ballots"] = len(e.election.ballots)
    data["ballot_type"] = e.election.ballot_type
    data["currency"] = (e.election.meta_value("currency") or "SEK").strip().upper()[:8]
    return data


def publish(session: Session, process: Process, actor: Any, now: dt.datetime) -> ResultSnapshot:
    """Count and freeze the result with its ballot files; audited; once only."""
    if snapshot(session, process) is not None:
        raise AlreadyPublished()
    counted = count(session, process, now)
    rec = voting.voting_record(session, process)
    files: dict[str, dict[str, str]] = {}
    for e in counted.elections:
        texts = ballot_files(anonymous_election(e.election))
        files[e.key] = {}
        for kind, text in texts.items():
            sha = _sha(text)
            files[e.key][kind] = sha
            session.add(
                ResultFile(process_id=process.id, election=e.key, kind=kind, sha256=sha,
                           content=text)
            )  # fmt: skip
    # The audit log's head as the result is published: a later edit of any entry up to it
    # is detectable by anyone holding the result (pb audit verify checks it too).
    seq, sha = head(session)
    audit_head = {"seq": seq, "sha256": sha}
    snap = ResultSnapshot(
        process_id=process.id,
        published_at=now,
        published_by_id=getattr(actor, "id", None),
        rule=counted.rule,
        tie_break=counted.tie_break,
        seed=counted.seed_text,
        fingerprint=rec.fingerprint if rec is not None else None,
        data={
            "version": 1,
            "ballots": counted.ballots,
            "elections": [
                election_data(e, counted.seed_text if counted.tie_break == "lottery" else None)
                for e in counted.elections
            ],
            "turnout": counted.turnout,
            "files": files,
            "audit_head": audit_head,
        },
    )
    session.add(snap)
    record(
        session, AuditAction.RESULTS_PUBLISH, actor=actor, subject=process,
        process_id=process.id,
        data={"rule": counted.rule, "tie_break": counted.tie_break, "seed": counted.seed_text,
              "ballots": counted.ballots, "files": files,
              "fingerprint": snap.fingerprint, "audit_head": audit_head},
    )  # fmt: skip
    session.flush()
    feedback.tell_published(session, process, snap)
    return snap


def published_file(session: Session, process: Process, election: str, kind: str) -> ResultFile:
    """A frozen ballot file, checked against its SHA-256 before it is served."""
    if snapshot(session, process) is None:
        raise NotPublished()
    row = session.scalar(
        sa.select(ResultFile).where(
            ResultFile.process_id == process.id,
            ResultFile.election == election,
            ResultFile.kind == kind,
        )
    )
    if row is None:
        raise UnknownElection()
    if _sha(row.content) != row.sha256:
        raise FileTampered()
    return row


def receipt_counted(session: Session, process: Process, receipt_digest: str) -> bool:
    """Is the ballot with this receipt digest in the published result? Voting had closed and
    every held ballot was mixed when the result was published, so a ballot in the table is
    one that was counted."""
    if snapshot(session, process) is None:
        return False
    return bool(
        session.scalar(
            sa.select(sa.literal(1)).where(
                Ballot.process_id == process.id, Ballot.receipt_digest == receipt_digest
            )
        )
    )


# -- pabulib import ----------------------------------------------------------------------


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:60] or "import"


def _free_slug(session: Session, base: str) -> str:
    taken = set(session.scalars(sa.select(Process.slug).where(Process.slug.like(f"{base}%"))).all())
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def import_pabulib(
    session: Session,
    text: str,
    *,
    source: str,
    slug: str | None = None,
    actor: Any = None,
    now: dt.datetime,
) -> Process:
    """A closed, count-ready process from a pabulib file: its projects, ballots and META
    rule. A file with errors raises ``ImportInvalid`` naming the line; nothing is created."""
    try:
        election = tally.loads(text, source)
    except tally.PabulibError as exc:
        raise ImportInvalid(str(exc)) from exc
    if election.budget <= 0:
        raise ImportInvalid(f"{source}: the budget must be positive")
    for p in election.projects:
        if len(p.id) > 20:
            raise ImportInvalid(f"{source}: project id {p.id!r} is longer than 20 characters")
        if p.cost <= 0:
            raise ImportInvalid(f"{source}: project {p.id} has no positive cost")
    if slug is not None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,79}", slug):
            raise ImportInvalid("the slug may hold only a-z, 0-9 and '-'")
        if session.scalar(sa.select(Process.id).where(Process.slug == slug)) is not None:
            raise ImportInvalid(f"a process {slug!r} already exists")
    else:
        slug = _free_slug(session, slugify(Path(source).stem))
    rule = tally.rule_for(election)
    rules = election.rules
    title = (election.meta_value("description") or Path(source).stem)[:200]
    ballot_type = (
        BallotType.CUMULATIVE if rules.ballot_type == "cumulative"
        else BallotType.APPROVAL_BUDGET if rules.max_total_cost is not None
        else BallotType.APPROVAL_K
    )  # fmt: skip
    process = Process(
        slug=slug, published=True, title_sv=title, title_en=title,
        purpose_sv=f"Importerad från pabulib-filen {Path(source).name}.",
        purpose_en=f"Imported from the pabulib file {Path(source).name}.",
        decision_body_sv=(election.meta_value("unit") or "—")[:200],
        decision_body_en=(election.meta_value("unit") or "—")[:200],
        decision_text_sv="Importerade omröstningsdata för demonstration, utbildning och forskning.",
        decision_text_en="Imported voting data for demonstration, training and research.",
        budget=int(-(-election.budget // 1)), min_age=0, connections=["lives"],
        code_channels=[], ballot_type=ballot_type,
        max_projects=rules.effective_max_projects, min_projects=rules.min_projects,
        points_total=rules.max_total_points if ballot_type == BallotType.CUMULATIVE else None,
        counting_rule=(CountingRule.EQUAL_SHARES if rule.startswith("equal-shares")
                       else CountingRule.GREEDY),
        tie_break=TieBreak.LEXICOGRAPHIC, frozen_at=now,
    )  # fmt: skip
    start = now - dt.timedelta(days=180)
    for kind in PhaseKind:
        if kind == PhaseKind.COUNTING:
            start = now - dt.timedelta(minutes=1)
        end = start + dt.timedelta(days=30)
        process.phases.append(Phase(kind=kind, starts_at=start, ends_at=end))
        start = end
    session.add(process)
    session.flush()
    session.execute(
        sa.insert(Project),
        [
            {"process_id": process.id, "code": p.id, "title": (p.name or p.id)[:200],
             "cost": int(-(-p.cost // 1)), "position": i, "area_id": None,
             "created_at": now}
            for i, p in enumerate(election.projects)
        ],
    )  # fmt: skip
    day = now.date()
    points = rules.ballot_type == "cumulative"
    batch: list[dict[str, Any]] = []
    for b in election.ballots:
        batch.append({
            "id": random_id(), "process_id": process.id, "day": day, "area": None,
            "age_band": None, "connection": None, "paper": False, "receipt_digest": None,
            "choices": [{"area": None, "projects": list(b.projects),
                         "points": list(b.points) if points and b.points else None}],
        })  # fmt: skip
        if len(batch) >= 5000:
            session.execute(sa.insert(Ballot), batch)
            batch = []
    if batch:
        session.execute(sa.insert(Ballot), batch)
    session.add(
        ImportedElection(
            process_id=process.id, source=Path(source).name[:300], rule=rule,
            data={
                "budget": str(election.budget),
                "costs": {p.id: str(p.cost) for p in election.projects},
                "rules": _rules_as_data(rules),
                "min_project_score": (str(election.min_project_score)
                                      if election.min_project_score is not None else None),
                "meta": [list(kv) for kv in election.meta],
            },
        )
    )  # fmt: skip
    record(
        session, AuditAction.RESULTS_IMPORT, actor=actor, subject=process, process_id=process.id,
        data={"source": Path(source).name, "ballots": len(election.ballots),
              "projects": len(election.projects), "rule": rule},
    )  # fmt: skip
    session.flush()
    return process
