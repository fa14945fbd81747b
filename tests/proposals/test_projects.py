"""The ballot's projects have one owner, ``pb.proposals.projects``: accepting puts a proposal
on the ballot in a free place and in exactly one area, withdrawing takes it off, officials'
services reorder and move projects, and a frozen ballot does not change."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import login
from tests.proposals.helpers import make_proposal


def _review_now(process: Any) -> dt.datetime:
    from pb.processes.models import PhaseKind

    return process.phase(PhaseKind.PROPOSALS).starts_at + dt.timedelta(days=2)


def accept(app: Any, users: Any, process_id: int, pid: int, cost: int = 1000,
           area_id: int | None = None) -> None:  # fmt: skip
    """Accept a proposal through the official review (which calls the projects module)."""
    from pb.db import get_session
    from pb.moderation import services as moderation
    from pb.processes.models import Process
    from pb.proposals.models import Feasibility, Proposal

    with app.test_request_context():
        session = get_session()
        process = session.get(Process, process_id)
        extra = {} if area_id is None else {"area_id": area_id}
        data = moderation.ReviewInput(
            Feasibility.FEASIBLE, cost, "Ja.", moderation.Decision.ACCEPT, **extra
        )
        moderation.review(session, process, session.get(Proposal, pid),
                          session.merge(users["official"]), data, _review_now(process), tell=False)  # fmt: skip
        session.commit()


def positions(db: Any, process_id: int) -> dict[int, int]:
    """proposal id -> position on the ballot."""
    from pb.proposals.models import Project

    db.expire_all()
    rows = db.execute(
        sa.select(Project.proposal_id, Project.position).where(Project.process_id == process_id)
    )
    return {pid: pos for pid, pos in rows}


def test_a_withdrawal_leaves_no_two_projects_in_one_place(
    app: Any, users: Any, proc: Any, client: Any, db: Any
) -> None:
    """The old code took count() as the next position: after a withdrawal the next accepted
    project landed on a position that was still taken."""
    pids = [make_proposal(app, proc.process, users["participant"], title=f"Idé {n}",
                          area_id=proc.north) for n in range(4)]  # fmt: skip
    for pid in pids[:3]:
        accept(app, users, proc.process.id, pid)
    login(client, "participant")
    r = client.post(f"/p/parker/proposals/{pids[0]}/withdraw", data={"confirm": "yes"})
    assert r.status_code == 303
    assert len(positions(db, proc.process.id)) == 2  # withdrawn: off the ballot
    accept(app, users, proc.process.id, pids[3])
    placed = positions(db, proc.process.id)
    assert sorted(placed) == sorted(pids[1:])
    assert len(set(placed.values())) == 3
    assert placed[pids[3]] > max(placed[pids[1]], placed[pids[2]])  # new ones go last


def test_the_database_refuses_two_projects_in_one_place(app: Any, proc: Any, db: Any) -> None:
    from pb.proposals.models import Project

    db.add_all([
        Project(process_id=proc.process.id, area_id=proc.north, code="a", title="A", cost=1,
                position=0),
        Project(process_id=proc.process.id, area_id=proc.north, code="b", title="B", cost=1,
                position=0),
    ])  # fmt: skip
    with pytest.raises(sa.exc.IntegrityError):
        db.commit()
    db.rollback()


def test_two_officials_accepting_at_once_get_different_places(
    app: Any, users: Any, proc: Any, db: Any
) -> None:
    """One transaction has put a project on the ballot and not yet committed when another
    accepts: the second waits for the first and takes the next place (the old count() read
    0 twice)."""
    from sqlalchemy.orm import Session

    from pb.db import get_engine
    from pb.processes.models import Process
    from pb.proposals import projects
    from pb.proposals.models import Proposal

    first, second = (make_proposal(app, proc.process, users["participant"], title=t,
                                   area_id=proc.north) for t in ("Först", "Sedan"))  # fmt: skip
    engine = get_engine(app)
    errors: list[BaseException] = []

    def add(session: Session, pid: int) -> None:
        process = session.get(Process, proc.process.id)
        assert process is not None
        projects.add_from_proposal(session, process, session.get(Proposal, pid), cost=100,
                                   now=_review_now(process))  # fmt: skip

    def other() -> None:
        try:
            with Session(engine) as session:
                add(session, second)
                session.commit()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    with Session(engine) as session:
        add(session, first)  # flushed, not committed
        thread = threading.Thread(target=other)
        thread.start()
        time.sleep(0.5)  # the other transaction is now waiting for this one
        session.commit()
    thread.join(timeout=20)
    assert not errors, errors
    assert positions(db, proc.process.id) == {first: 0, second: 1}


def test_reorder_and_move(app: Any, users: Any, proc: Any, db: Any) -> None:
    from pb.audit import AuditEvent
    from pb.db import get_session
    from pb.processes.models import Process
    from pb.proposals import projects
    from pb.proposals.models import Project, Proposal

    pids = [make_proposal(app, proc.process, users["participant"], title=f"Idé {n}",
                          area_id=proc.north) for n in range(3)]  # fmt: skip
    for pid in pids:
        accept(app, users, proc.process.id, pid)
    with app.test_request_context():
        session = get_session()
        process = session.get(Process, proc.process.id)
        admin = session.merge(users["admin"])
        now = _review_now(process)
        by_pid = {p.proposal_id: p for p in projects.ballot(session, process)}
        # Reorder all three: the last first.
        order = [by_pid[pids[2]].id, by_pid[pids[0]].id, by_pid[pids[1]].id]
        projects.reorder(session, process, order, admin, now)
        session.commit()
        assert [p.proposal_id for p in projects.ballot(session, process)] == [
            pids[2],
            pids[0],
            pids[1],
        ]
        # Each project once, all of this ballot.
        for bad in ([order[0], order[0]], [order[0], 999_999], []):
            with pytest.raises(projects.BadOrder):
                projects.reorder(session, process, bad, admin, now)
            session.rollback()
        # Move one to Klostergården: the project and its proposal follow, and it is audited.
        project = by_pid[pids[0]]
        moved = project.id
        projects.move(session, process, project, proc.klostergarden, admin, now)
        session.commit()
        area = session.get(Process, proc.process.id).areas[1]
        assert [p.proposal_id for p in projects.ballot(session, process, area)] == [pids[0]]
        with pytest.raises(projects.UnknownArea):
            projects.move(session, process, project, 999_999, admin, now)
        session.rollback()
    db.expire_all()
    assert db.get(Project, moved).area_id == proc.klostergarden
    assert db.get(Proposal, pids[0]).area_id == proc.klostergarden
    actions = db.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.process_id == proc.process.id)
    ).all()
    assert "project.reorder" in actions and "project.move" in actions


def test_a_frozen_ballot_does_not_change(app: Any, users: Any, proc: Any, db: Any) -> None:
    """Once an admin froze the rules, a withdrawal cannot take a project off the ballot (it
    used to, until voting opened), nor can projects be reordered or moved."""
    from pb.db import get_session, utcnow
    from pb.processes import services as process_services
    from pb.processes.models import Process
    from pb.proposals import projects
    from pb.proposals import services as proposal_services
    from pb.proposals.models import Project, Proposal

    pid = make_proposal(app, proc.process, users["participant"], area_id=proc.north)
    accept(app, users, proc.process.id, pid)
    with app.test_request_context():
        session = get_session()
        process = session.get(Process, proc.process.id)
        process_services.freeze(session, process, session.merge(users["admin"]),
                                utcnow() - dt.timedelta(minutes=1))  # fmt: skip
        session.commit()
        project = session.scalars(sa.select(Project)).one()
        admin, now = session.merge(users["admin"]), utcnow()
        for call in (lambda: projects.reorder(session, process, [project.id], admin, now),
                     lambda: projects.move(session, process, project, proc.klostergarden, admin, now),
                     lambda: projects.remove(session, process, project, now)):  # fmt: skip
            with pytest.raises(projects.BallotFrozen):
                call()
            session.rollback()
        author = session.merge(users["participant"])
        proposal = session.get(Proposal, pid)
        assert not proposal_services.can_withdraw(process, proposal, author, now)
        with pytest.raises(proposal_services.CannotWithdraw):
            proposal_services.withdraw(session, process, proposal, author, now)
        session.rollback()
    db.expire_all()
    assert db.scalar(sa.select(sa.func.count()).select_from(Project)) == 1


@pytest.mark.parametrize("lang,message", [
    ("en", "area (on its own review page). Nothing was saved."),
    ("sv", "Välj dess område (på förslagets egen granskningssida)"),
])  # fmt: skip
def test_accepting_a_proposal_without_an_area_needs_one(
    app: Any, users: Any, proc: Any, db: Any, lang: str, message: str
) -> None:
    """The process has district areas only. A proposal published without an area before that
    was refused (it could never go on the ballot, and nobody could give it one): the official
    chooses its area on the review page."""
    from pb.proposals.models import Project, Proposal

    pid = make_proposal(app, proc.process, users["participant"])
    db.execute(sa.update(Proposal).where(Proposal.id == pid).values(area_id=None))
    db.commit()
    official = app.test_client()
    login(official, "official")
    page = official.get(f"/p/parker/review/{pid}?lang={lang}").get_data(as_text=True)
    assert 'name="area"' in page and f'value="{proc.klostergarden}"' in page
    review = {"feasibility": "feasible", "official_cost": "80000", "answer": "Bra!",
              "decision": "accept"}  # fmt: skip
    r = official.post(f"/p/parker/review/{pid}?lang={lang}", data=review)
    assert r.status_code == 400 and message in r.get_data(as_text=True)
    assert db.scalar(sa.select(sa.func.count()).select_from(Project)) == 0
    assert db.get(Proposal, pid).status.value == "published"
    r = official.post(f"/p/parker/review/{pid}?lang={lang}",
                      data={**review, "area": str(proc.klostergarden)})  # fmt: skip
    assert r.status_code == 303
    assert db.scalars(sa.select(Project)).one().area_id == proc.klostergarden


def test_the_review_page_offers_the_proposals_own_area(
    app: Any, users: Any, proc: Any, db: Any
) -> None:
    from pb.proposals.models import Project

    pid = make_proposal(app, proc.process, users["participant"], area_id=proc.north)
    official = app.test_client()
    login(official, "official")
    page = official.get(f"/p/parker/review/{pid}?lang=en").get_data(as_text=True)
    assert re.search(rf'<option[^>]*selected[^>]*value="{proc.north}"|'
                     rf'<option[^>]*value="{proc.north}"[^>]*selected', page)  # fmt: skip
    r = official.post(f"/p/parker/review/{pid}?lang=en", data={
        "feasibility": "feasible", "official_cost": "80000", "answer": "Bra!",
        "decision": "accept", "area": str(proc.north)})  # fmt: skip
    assert r.status_code == 303
    assert db.scalars(sa.select(Project)).one().area_id == proc.north


@pytest.mark.parametrize("lang,message", [
    ("en", "Choose the area your proposal is for."),
    ("sv", "Välj vilket område ditt förslag gäller."),
])  # fmt: skip
def test_a_proposal_names_its_area_where_no_area_covers_everything(
    app: Any, users: Any, proc: Any, db: Any, lang: str, message: str
) -> None:
    """Where every area is a district, "no area" is not offered as the whole municipality, and
    publishing needs an area (the form says so at the field; the service refuses it too)."""
    from pb.db import get_session
    from pb.processes.models import PhaseKind, Process
    from pb.proposals import services
    from pb.proposals.models import Proposal

    client = app.test_client()
    login(client, "participant")
    page = client.get(f"/p/parker/proposals/new?lang={lang}").get_data(as_text=True)
    assert "whole municipality" not in page and "Hela kommunen" not in page
    data = {"title": "Bänkar", "description": "Fler bänkar.", "cost_estimate": "9000",
            "category": str(proc.parks), "area": "", "consent": "y", "action": "publish"}  # fmt: skip
    r = client.post(f"/p/parker/proposals/new?lang={lang}", data=data)
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and message in html and 'value="Bänkar"' in html
    assert db.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 0
    r = client.post(f"/p/parker/proposals/new?lang={lang}",
                    data={**data, "area": str(proc.north)})  # fmt: skip
    assert r.status_code == 303
    with app.test_request_context():
        session = get_session()
        process = session.get(Process, proc.process.id)
        now = process.phase(PhaseKind.PROPOSALS).starts_at + dt.timedelta(days=1)
        fields = services.ProposalFields(title="Utan område", description="x", cost_estimate=5,
                                         consent=True)  # fmt: skip
        with pytest.raises(services.AreaMissing):
            services.create(session, process, session.merge(users["participant"]), fields,
                            publish=True, limit=100, now=now)  # fmt: skip


def test_without_an_area_a_proposal_goes_to_the_whole_municipality(
    app: Any, users: Any, make_process: Any, db: Any
) -> None:
    from pb.processes.services import AreaChange
    from pb.proposals.models import Project
    from tests.proposals.helpers import ids

    process = make_process(slug="warszawa", areas=[
        AreaChange("Hela staden", 1_000_000, whole_municipality=True),
        AreaChange("Mokotów", 2_000_000), AreaChange("Wola", 2_000_000),
    ])  # fmt: skip
    whole = ids(app, "warszawa")["Hela staden"]
    pid = make_proposal(app, process, users["participant"])
    accept(app, users, process.id, pid)
    assert db.scalars(sa.select(Project)).one().area_id == whole
