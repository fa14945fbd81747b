"""Areas keep their ids across edits, and nothing that belongs to an area is silently lost:
renaming keeps projects and proposals in place, removing an area in use is refused with a
message, adding works. Each area is its own election with its own budget, one may cover the
whole municipality, and the process page says so."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import login
from tests.processes.test_processes import form_data
from tests.proposals.helpers import ids, make_proposal
from tests.proposals.test_projects import accept

Row = tuple[int | None, str, int] | tuple[int | None, str, int, bool]


def edit(client: Any, slug: str, rows: list[Row], lang: str = "en", **overrides: Any) -> Any:
    """Post the edit form with these area rows (id, name, budget[, whole municipality]);
    rows left out are empty, which removes their area."""
    budget = overrides.pop("budget", str(sum(r[2] for r in rows) or 5_000_000))
    data = form_data(slug=slug, budget=budget, **overrides)
    data = {k: v for k, v in data.items() if not k.startswith("areas-")}
    for n, row in enumerate(rows):
        data[f"areas-{n}-area_id"] = "" if row[0] is None else str(row[0])
        data[f"areas-{n}-name"] = row[1]
        data[f"areas-{n}-budget"] = str(row[2])
        if len(row) > 3 and row[3]:
            data[f"areas-{n}-whole_municipality"] = "y"
    data.update({k: v for k, v in overrides.items() if k.startswith("areas-")})
    return client.post(f"/admin/processes/{slug}/edit?lang={lang}", data=data)


def areas(db: Any, process_id: int) -> list[tuple[int, str, int, bool]]:
    from pb.processes.models import Area

    db.expire_all()
    return [
        (a.id, a.name, a.budget, a.whole_municipality)
        for a in db.scalars(
            sa.select(Area).where(Area.process_id == process_id).order_by(Area.position)
        )
    ]


def test_the_edit_form_carries_each_areas_id(client: Any, users: Any, proc: Any) -> None:
    login(client, "admin")
    page = client.get("/admin/processes/parker/edit").get_data(as_text=True)
    assert f'name="areas-0-area_id" type="hidden" value="{proc.north}"' in page
    assert f'name="areas-1-area_id" type="hidden" value="{proc.klostergarden}"' in page


def test_renaming_an_area_keeps_its_projects_and_proposals(
    client: Any, users: Any, proc: Any, db: Any, app: Any
) -> None:
    """It used to delete the area and make a new one, and the projects' and proposals'
    area silently became NULL."""
    from pb.proposals.models import Project, Proposal

    pid = make_proposal(app, proc.process, users["participant"], area_id=proc.north)
    accept(app, users, proc.process.id, pid)
    login(client, "admin")
    r = edit(client, "parker", [(proc.north, "Norra Fäladen och Stångby", 2_500_000),
                                (proc.klostergarden, "Klostergården", 2_500_000)])  # fmt: skip
    assert r.status_code == 303, r.get_data(as_text=True)
    db.expire_all()
    assert db.scalars(sa.select(Project)).one().area_id == proc.north
    assert db.get(Proposal, pid).area_id == proc.north
    assert areas(db, proc.process.id) == [
        (proc.north, "Norra Fäladen och Stångby", 2_500_000, False),
        (proc.klostergarden, "Klostergården", 2_500_000, False),
    ]


@pytest.mark.parametrize("lang,message", [
    ("en", "The area Klostergården cannot be removed while projects on the ballot or proposals belong to it (projects: 1, proposals: 2)."),
    ("sv", "Området Klostergården kan inte tas bort så länge projekt på röstsedeln eller förslag hör till det (projekt: 1, förslag: 2)."),
])  # fmt: skip
def test_removing_an_area_in_use_is_refused(
    client: Any, users: Any, proc: Any, db: Any, app: Any, lang: str, message: str
) -> None:
    from pb.proposals.models import Project

    first = make_proposal(app, proc.process, users["participant"], area_id=proc.klostergarden)
    make_proposal(app, proc.process, users["participant"], area_id=proc.klostergarden)
    accept(app, users, proc.process.id, first)
    login(client, "admin")
    r = edit(client, "parker", [(proc.north, "Norra Fäladen", 5_000_000)], lang)
    html = r.get_data(as_text=True)
    assert r.status_code == 409 and message in html
    assert 'value="Norra Fäladen"' in html and 'value="5000000"' in html  # what was typed
    assert [a[0] for a in areas(db, proc.process.id)] == [proc.north, proc.klostergarden]
    assert db.scalars(sa.select(Project)).one().area_id == proc.klostergarden


def test_the_database_refuses_to_delete_an_area_with_projects(
    app: Any, users: Any, proc: Any, db: Any
) -> None:
    """The backstop under the guard: no ON DELETE SET NULL on projects.area_id."""
    from pb.processes.models import Area

    pid = make_proposal(app, proc.process, users["participant"], area_id=proc.north)
    accept(app, users, proc.process.id, pid)
    with db.begin():
        db.execute(sa.update(sa.table("proposals", sa.column("area_id"))).values(area_id=None))
    with pytest.raises(sa.exc.IntegrityError), db.begin():
        db.execute(sa.delete(Area).where(Area.id == proc.north))


def test_adding_and_removing_unused_areas(client: Any, users: Any, proc: Any, db: Any) -> None:
    login(client, "admin")
    # Rename Klostergården, then add an area with its old name: a new area, a new slug.
    r = edit(client, "parker", [(proc.north, "Norra Fäladen", 2_000_000),
                                (proc.klostergarden, "Väster", 2_000_000),
                                (None, "Klostergården", 1_000_000)])  # fmt: skip
    assert r.status_code == 303, r.get_data(as_text=True)
    now = areas(db, proc.process.id)
    assert [a[:2] for a in now[:2]] == [
        (proc.north, "Norra Fäladen"),
        (proc.klostergarden, "Väster"),
    ]
    added = now[2][0]
    assert added not in (proc.north, proc.klostergarden) and now[2][1] == "Klostergården"
    from pb.processes.models import Area

    assert len({a.slug for a in db.scalars(sa.select(Area))}) == 3
    # Areas nothing belongs to can be removed.
    r = edit(client, "parker", [(added, "Klostergården", 5_000_000)])
    assert r.status_code == 303, r.get_data(as_text=True)
    assert areas(db, proc.process.id) == [(added, "Klostergården", 5_000_000, False)]


def test_an_area_id_of_another_process_is_refused(
    client: Any, users: Any, proc: Any, make_process: Any, db: Any
) -> None:
    make_process(slug="annan")
    foreign = ids(client.application, "annan")["Norra Fäladen"]
    login(client, "admin")
    r = edit(client, "parker", [(foreign, "Norra Fäladen", 2_500_000),
                                (proc.klostergarden, "Klostergården", 2_500_000)])  # fmt: skip
    assert r.status_code == 400
    assert "The areas could not be saved" in r.get_data(as_text=True)
    assert [a[0] for a in areas(db, proc.process.id)] == [proc.north, proc.klostergarden]


@pytest.mark.parametrize("bad", ["abc", "12345678901", "-1"])
def test_a_tampered_area_id_is_refused_with_a_message(
    client: Any, users: Any, proc: Any, db: Any, bad: str
) -> None:
    login(client, "admin")
    r = edit(client, "parker", [(proc.north, "Norra Fäladen", 2_500_000),
                                (proc.klostergarden, "Klostergården", 2_500_000)],
             **{"areas-0-area_id": bad})  # fmt: skip
    assert r.status_code == 400
    assert "The areas could not be saved" in r.get_data(as_text=True)
    # The same id twice is refused too.
    r = edit(client, "parker", [(proc.north, "Norra Fäladen", 2_500_000),
                                (proc.north, "Klostergården", 2_500_000)])  # fmt: skip
    assert r.status_code == 400
    assert "The areas could not be saved" in r.get_data(as_text=True)
    assert [a[1] for a in areas(db, proc.process.id)] == ["Norra Fäladen", "Klostergården"]


def test_a_process_whose_ballot_has_projects_without_an_area_gets_no_areas(
    app: Any, client: Any, users: Any, make_process: Any, db: Any
) -> None:
    """Else those projects would belong to no area of a process with areas."""
    process = make_process(slug="utan", areas=[])
    pid = make_proposal(app, process, users["participant"])
    accept(app, users, process.id, pid)
    login(client, "admin")
    r = edit(client, "utan", [(None, "Norr", 2_500_000), (None, "Söder", 2_500_000)])
    assert r.status_code == 409
    assert "Projects on this ballot have no area (1)." in r.get_data(as_text=True)
    assert areas(db, process.id) == []


@pytest.mark.parametrize("lang,texts", [
    ("en", ["Each area is its own election with its own budget",
            "Every project on the ballot belongs to exactly one area.",
            "Whole city covers the whole municipality. You vote there, and in one of the other areas.",
            "Whole municipality"]),
    ("sv", ["Varje område är ett eget val med en egen budget",
            "Varje projekt på röstsedeln hör till ett enda område.",
            "Whole city gäller hela kommunen. Där röstar du, och i ett av de andra områdena.",
            "Hela kommunen"]),
])  # fmt: skip
def test_an_area_may_cover_the_whole_municipality(
    client: Any, users: Any, proc: Any, db: Any, lang: str, texts: list[str]
) -> None:
    login(client, "admin")
    r = edit(client, "parker", [(None, "Whole city", 1_000_000, True),
                                (proc.north, "Norra Fäladen", 2_000_000),
                                (proc.klostergarden, "Klostergården", 2_000_000)])  # fmt: skip
    assert r.status_code == 303, r.get_data(as_text=True)
    whole = areas(db, proc.process.id)[0]
    assert whole[1:] == ("Whole city", 1_000_000, True)
    page = client.get("/admin/processes/parker/edit").get_data(as_text=True)
    boxes = re.findall(r'<input[^>]*name="areas-\d-whole_municipality"[^>]*>', page)
    assert [" checked " in box for box in boxes[:3]] == [True, False, False]
    html = client.get(f"/p/parker?lang={lang}").get_data(as_text=True)
    missing = [t for t in texts if t not in html]
    assert not missing
    # Only one area covers the whole municipality.
    r = edit(client, "parker", [(whole[0], "Whole city", 1_000_000, True),
                                (proc.north, "Norra Fäladen", 2_000_000, True),
                                (proc.klostergarden, "Klostergården", 2_000_000)])  # fmt: skip
    assert r.status_code == 400
    assert "Only one area can cover the whole municipality." in r.get_data(as_text=True)


def test_the_page_says_each_area_is_its_own_election(client: Any, proc: Any) -> None:
    html = client.get("/p/parker?lang=sv").get_data(as_text=True)
    assert "Varje område är ett eget val med en egen budget" in html
    assert "Varje projekt på röstsedeln hör till ett enda område." in html
    assert "gäller hela kommunen" not in html  # no area covers it here


def test_each_area_has_its_own_ballot_rules(app: Any, make_process: Any) -> None:
    from decimal import Decimal

    from pb.db import get_session
    from pb.processes.contract import Contract
    from pb.processes.services import AreaChange, get_by_slug

    make_process(slug="w", areas=[AreaChange("Hela staden", 1_000_000, whole_municipality=True),
                                  AreaChange("Mokotów", 2_500_000), AreaChange("Wola", 1_500_000)])  # fmt: skip
    with app.app_context():
        process = get_by_slug(get_session(), "w")
        contract = Contract.of(process)
        by_name = {a.name: a for a in process.areas}
    whole = contract.whole_area
    assert whole is not None and whole.name == "Hela staden" and whole.id == by_name[whole.name].id
    assert [a.name for a in contract.districts] == ["Mokotów", "Wola"]
    budgets = {a.name: rules.max_total_cost for a, rules in contract.elections() if a}
    assert budgets == {"Hela staden": Decimal(1_000_000), "Mokotów": Decimal(2_500_000),
                       "Wola": Decimal(1_500_000)}  # fmt: skip
    # By the area, its id or its slug: the same rules.
    wola = contract.area(by_name["Wola"].id)
    assert (
        contract.ballot_rules(wola)
        == contract.ballot_rules(wola.id)
        == contract.ballot_rules("wola")
    )
    with pytest.raises(KeyError):
        contract.ballot_rules(999_999)


@pytest.mark.parametrize("lang,message", [
    ("en", "The budget of Norra Fäladen (SEK 1,500,000) would be less than the cost of project 1"),
    ("sv", "Budgeten för Norra Fäladen (1 500 000 kr) skulle bli lägre än kostnaden för projekt 1"),
])  # fmt: skip
def test_an_area_budget_cannot_fall_below_a_project_on_its_ballot(
    client: Any, users: Any, proc: Any, db: Any, app: Any, lang: str, message: str
) -> None:
    """Review refuses a cost above the budget; an edit of the budget must not get round it
    (found by the third probe, left then)."""
    pid = make_proposal(app, proc.process, users["participant"], area_id=proc.north)
    accept(app, users, proc.process.id, pid, cost=2_000_000)
    login(client, "admin")
    r = edit(client, "parker", [(proc.north, "Norra Fäladen", 1_500_000),
                                (proc.klostergarden, "Klostergården", 2_500_000)], lang)  # fmt: skip
    html = r.get_data(as_text=True).replace("\xa0", " ")
    assert r.status_code == 409 and message in html, html
    assert 'value="1500000"' in html  # what was typed is kept
    assert [a[2] for a in areas(db, proc.process.id)] == [2_500_000, 2_500_000]
    r = edit(client, "parker", [(proc.north, "Norra Fäladen", 2_000_000),
                                (proc.klostergarden, "Klostergården", 2_500_000)])  # fmt: skip
    assert r.status_code == 303, r.get_data(as_text=True)
    assert [a[2] for a in areas(db, proc.process.id)] == [2_000_000, 2_500_000]


def test_a_process_budget_cannot_fall_below_a_project_on_its_ballot(
    client: Any, users: Any, make_process: Any, db: Any, app: Any
) -> None:
    from pb.processes.models import Process

    process = make_process(slug="parker", areas=[], budget=3_000_000)
    pid = make_proposal(app, process, users["participant"])
    accept(app, users, process.id, pid, cost=2_000_000)
    login(client, "admin")
    r = edit(client, "parker", [], budget="1000000")
    html = r.get_data(as_text=True).replace("\xa0", " ")
    assert r.status_code == 409, html
    assert "The budget (SEK 1,000,000) would be less than the cost of project 1" in html
    db.expire_all()
    assert db.get(Process, process.id).budget == 3_000_000
