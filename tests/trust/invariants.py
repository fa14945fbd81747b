"""What must hold in the database whatever was sent: its own integrity and pb's invariants.

- ``integrity``: SQLite's ``PRAGMA integrity_check`` and ``foreign_key_check``; on both
  engines, every table readable and no row pointing at a parent row that does not exist;
- ``codes``: in every process, used codes = ballots + held ballots;
- ``budgets``: in every published result, each area's selected projects cost what the result
  says was spent, and no more than its budget;
- ``drafts``: no draft (or never published proposal) is shown to anyone but its author: its
  page and API answer are 404 and the open data lists leave it out.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa


def integrity(engine: sa.Engine) -> list[str]:
    import pb.models  # noqa: F401
    from pb.db import Base

    problems = []
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            result = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check")]
            if result != ["ok"]:
                problems.append(f"integrity_check: {result[:5]}")
            orphans = list(conn.exec_driver_sql("PRAGMA foreign_key_check"))
            if orphans:
                problems.append(f"foreign_key_check: {orphans[:5]}")
        for table in Base.metadata.sorted_tables:
            conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for fk in table.foreign_key_constraints:
                parent = fk.referred_table.alias("parent")
                on = sa.and_(*(parent.c[e.column.name] == e.parent for e in fk.elements))
                present = sa.and_(*(e.parent.is_not(None) for e in fk.elements))
                missing = parent.c[fk.elements[0].column.name].is_(None)
                n = conn.execute(
                    sa.select(sa.func.count())
                    .select_from(table.outerjoin(parent, on))
                    .where(present, missing)
                ).scalar_one()
                if n:
                    problems.append(f"{n} rows of {table.name} point nowhere ({fk.name})")
    return problems


def codes(session: Any) -> list[str]:
    from pb.processes.models import Process
    from pb.voting.models import Ballot, HeldBallot, VotingCode

    def per_process(stmt: Any) -> dict[int, int]:
        return {pid: n for pid, n in session.execute(stmt)}

    used = per_process(
        sa.select(VotingCode.process_id, sa.func.count())
        .where(VotingCode.used.is_(True))
        .group_by(VotingCode.process_id)
    )
    cast = per_process(sa.select(Ballot.process_id, sa.func.count()).group_by(Ballot.process_id))
    held = per_process(
        sa.select(HeldBallot.process_id, sa.func.count()).group_by(HeldBallot.process_id)
    )
    problems = []
    for pid in session.scalars(sa.select(Process.id)):
        if used.get(pid, 0) != cast.get(pid, 0) + held.get(pid, 0):
            problems.append(f"process {pid}: {used.get(pid, 0)} used codes, "
                            f"{cast.get(pid, 0)} ballots + {held.get(pid, 0)} held")  # fmt: skip
    return problems


def budgets(session: Any) -> list[str]:
    from pb.results.models import ResultSnapshot

    problems = []
    for snap in session.scalars(sa.select(ResultSnapshot)):
        for e in snap.data.get("elections", []):
            chosen = sum(Decimal(str(p["cost"])) for p in e["projects"] if p.get("selected"))
            budget, spent = Decimal(str(e["budget"])), Decimal(str(e["spent"]))
            if chosen != spent or spent > budget:
                problems.append(f"process {snap.process_id} area {e.get('key')!r}: selected "
                                f"{chosen}, spent {spent}, budget {budget}")  # fmt: skip
    return problems


def drafts(app: Any, session: Any, limit: int = 60) -> list[str]:
    """Asked as an anonymous visitor: the page, the API answer and the open data list."""
    from pb.processes.models import Process
    from pb.proposals.models import Proposal, ProposalStatus

    private = list(
        session.execute(
            sa.select(Proposal.id, Process.slug)
            .join(Process, Process.id == Proposal.process_id)
            .where(sa.or_(Proposal.status == ProposalStatus.DRAFT, Proposal.published_at.is_(None)))
            .order_by(Proposal.id.desc())
            .limit(limit)
        )
    )
    problems = []
    anon = app.test_client()
    listed: dict[str, set[int]] = {}
    for pid, slug in private:
        if slug not in listed:
            data = anon.get(f"/p/{slug}/proposals.json").get_json() or {}
            listed[slug] = {p["id"] for p in data.get("proposals", [])}
        if pid in listed[slug]:
            problems.append(f"draft {pid} is in the open data of {slug}")
        for url in (f"/p/{slug}/proposals/{pid}", f"/api/v1/proposals/{pid}"):
            status = anon.get(url).status_code
            if status != 404:
                problems.append(f"draft {pid}: {url} answers {status} to anyone")
    return problems


def check(app: Any) -> dict[str, list[str]]:
    """Every check; a name with an empty list holds."""
    from sqlalchemy.orm import Session

    from pb.db import get_engine

    engine = get_engine(app)
    with Session(engine) as session:
        return {
            "integrity": integrity(engine),
            "codes": codes(session),
            "budgets": budgets(session),
            "drafts": drafts(app, session),
        }
