"""A proposal is never accepted onto the ballot at a cost above the budget it would compete
for (its area's, or the process's without areas), whatever the ballot type; and the bulk
review reports every problem of every row in one pass, each named by its proposal."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import login
from tests.proposals.conftest import make_proc
from tests.proposals.helpers import get, make_proposal


def _official(app: Any) -> Any:
    c = app.test_client()
    login(c, "official")
    return c


def _projects(db: Any) -> int:
    from pb.proposals.models import Project

    db.expire_all()
    return db.scalar(sa.select(sa.func.count()).select_from(Project))


@pytest.mark.parametrize("lang,message", [
    ("sv", "Kommunens kostnad (3\u00a0000\u00a0000\u00a0kr) är mer än budgeten för Norra "
           "Fäladen (2\u00a0500\u00a0000\u00a0kr)"),
    ("en", "The official cost (SEK\u00a03,000,000) is more than the budget of Norra Fäladen "
           "(SEK\u00a02,500,000)"),
])  # fmt: skip
def test_accept_above_the_area_budget_is_refused_and_input_kept(
    app: Any, users: Any, proc: Any, db: Any, lang: str, message: str
) -> None:
    from pb.proposals.models import Proposal

    pid = make_proposal(app, proc.process, users["participant"], area_id=proc.north)
    r = _official(app).post(f"/p/parker/review/{pid}?lang={lang}", data={
        "feasibility": "feasible", "official_cost": "3 000 000", "area": str(proc.north),
        "answer": "Vi bygger det.", "decision": "accept"})  # fmt: skip
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and message in html
    assert 'value="3 000 000"' in html and "Vi bygger det." in html
    p = get(app, Proposal, pid)
    assert p.status.value == "published" and p.official_cost is None
    assert _projects(db) == 0
    # At the area's budget exactly, it is accepted, also written with the narrow no-break
    # spaces of a pasted number (fourth probe: "not a whole number").
    r = _official(app).post(f"/p/parker/review/{pid}", data={
        "feasibility": "feasible", "official_cost": "2\u202f500\u2009000 kr",
        "area": str(proc.north),
        "answer": "", "decision": "accept"})  # fmt: skip
    assert r.status_code == 303 and _projects(db) == 1


@pytest.mark.parametrize("ballot", ["approval-budget", "approval-k"])
def test_without_areas_the_process_budget_limits_every_ballot_type(
    app: Any, users: Any, make_process: Any, db: Any, ballot: str
) -> None:
    extra = {"max_projects": 3} if ballot == "approval-k" else {}
    process = make_process(slug="parker", areas=[], ballot_type=ballot, **extra)
    pid = make_proposal(app, process, users["participant"])
    r = _official(app).post(f"/p/parker/review/{pid}?lang=en", data={
        "feasibility": "feasible", "official_cost": "5000001", "answer": "",
        "decision": "accept"})  # fmt: skip
    assert r.status_code == 400
    assert "more than the whole budget of the process (SEK\u00a05,000,000)" in r.get_data(
        as_text=True
    )
    assert _projects(db) == 0


def test_moving_a_project_to_an_area_with_a_smaller_budget_is_refused(
    app: Any, users: Any, make_process: Any, db: Any
) -> None:
    from pb.db import get_session
    from pb.processes.models import Process
    from pb.proposals import projects
    from pb.proposals.models import Project

    proc = make_proc(app, make_process)
    with app.app_context():
        s = get_session()
        process = s.get(Process, proc.process.id)
        next(a for a in process.areas if a.id == proc.klostergarden).budget = 100_000
        s.commit()
    pid = make_proposal(app, proc.process, users["participant"], area_id=proc.north)
    r = _official(app).post(f"/p/parker/review/{pid}", data={
        "feasibility": "feasible", "official_cost": "200000", "answer": "",
        "decision": "accept"})  # fmt: skip
    assert r.status_code == 303
    with app.test_request_context("/?lang=en"):
        s = get_session()
        process = s.get(Process, proc.process.id)
        project = s.scalars(sa.select(Project)).one()
        with pytest.raises(projects.CostAboveBudget, match="budget of Klostergården"):
            projects.move(s, process, project, proc.klostergarden, None, projects_now(process))


def projects_now(process: Any) -> Any:
    from pb.processes.models import PhaseKind

    return process.phase(PhaseKind.PROPOSALS).starts_at


def _bulk_data(rows: list[tuple[int, dict[str, str]]]) -> dict[str, str]:
    data = {}
    for i, (pid, row) in enumerate(rows):
        data[f"rows-{i}-proposal_id"] = str(pid)
        base = {"feasibility": "", "official_cost": "", "answer": "", "decision": ""}
        data.update({f"rows-{i}-{k}": v for k, v in {**base, **row}.items()})
    return data


def test_bulk_review_reports_every_row_at_once_named_by_proposal(
    app: Any, users: Any, proc: Any, db: Any
) -> None:
    a = make_proposal(
        app, proc.process, users["participant"], title="Parkbänkar", area_id=proc.north
    )
    b = make_proposal(app, proc.process, users["participant"], title="Cykelpump vid stationen",
                      area_id=proc.north)  # fmt: skip
    c = make_proposal(app, proc.process, users["participant"], title="Konstgräsplan",
                      area_id=proc.north)  # fmt: skip
    data = _bulk_data([
        (a, {"decision": "reject"}),  # no answer
        (b, {"official_cost": "-7"}),  # a field error
        (c, {"feasibility": "feasible", "official_cost": "9 000 000", "decision": "accept"}),
    ])  # fmt: skip
    r = _official(app).post("/p/parker/review?lang=sv", data=data)
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    summary = html[html.index("error-summary") : html.index("</div>", html.index("error-summary"))]
    assert "Rows" not in summary
    assert f"#{a} Parkbänkar: Beslut: För att avslå ett förslag måste du skriva" in summary
    assert f"#{b} Cykelpump vid stationen: Kommunens kostnad" in summary
    assert (
        f"#{c} Konstgräsplan: Beslut: Kommunens kostnad (9\u00a0000\u00a0000\u00a0kr) är mer"
        in summary
    )
    assert 'value="9 000 000"' in html  # what was typed is kept
    # The bulk page has no area field: the message points to the proposal's own page
    # (fourth probe F8).
    assert "välj ett annat område" not in html and "förslagets egen granskningssida" in html
    assert _projects(db) == 0
    # The same rows in English, with valid fields: the row checks still name the proposal.
    data = _bulk_data([(a, {"decision": "reject"})])
    r = _official(app).post("/p/parker/review?lang=en", data=data)
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert f"#{a} Parkbänkar: Decision: To reject a proposal, write a public answer" in html
