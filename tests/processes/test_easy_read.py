"""Easy-to-read (lättläst) summaries: a process's on its page, first, in the reader's
language; a ballot project's on the ballot, above its cost; officials write them; the demo
fills them."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_token, login
from tests.processes.test_processes import create, form_data
from tests.voting.conftest import issue, make_vote


@pytest.mark.parametrize("lang,text", [("sv", "Du får komma med idéer."),
                                       ("en", "You can send in ideas.")])  # fmt: skip
def test_the_admin_writes_it_and_the_process_page_shows_it_first(
    client: Any, users: Any, lang: str, text: str
) -> None:
    login(client, "admin")
    r = create(client, easy_sv="Du får komma med idéer.", easy_en="You can send in ideas.")
    assert r.status_code == 303
    html = client.get(f"/p/lund-2027?lang={lang}").get_data(as_text=True)
    assert text in html
    assert html.index(text) < html.index('id="purpose"')  # first, before the long texts
    assert 'id="easy-read"' in html


def test_an_english_reader_gets_the_swedish_one_marked_as_swedish(client: Any, users: Any) -> None:
    login(client, "admin")
    assert create(client, easy_sv="Du får komma med idéer.").status_code == 303
    html = client.get("/p/lund-2027?lang=en").get_data(as_text=True)
    assert '<div lang="sv"><p>Du får komma med idéer.</p></div>' in html


def test_no_summary_no_section(client: Any, users: Any) -> None:
    login(client, "admin")
    assert create(client).status_code == 303
    assert 'id="easy-read"' not in client.get("/p/lund-2027").get_data(as_text=True)


def test_the_summary_is_saved_and_audited(client: Any, users: Any, db: Any) -> None:
    from pb.processes.models import Process

    login(client, "admin")
    assert create(client).status_code == 303
    r = client.post("/admin/processes/lund-2027/edit",
                    data=form_data(easy_sv="Kort text.", easy_en="Short text."))  # fmt: skip
    assert r.status_code == 303
    p = db.scalar(sa.select(Process).where(Process.slug == "lund-2027"))
    db.refresh(p)
    assert (p.easy_sv, p.easy_en) == ("Kort text.", "Short text.")
    page = client.get("/admin/processes/lund-2027/audit?lang=sv").get_data(as_text=True)
    assert "Lättläst sammanfattning (svenska)" in page and "— → Kort text." in page


def test_too_long_is_refused_with_the_text_kept(client: Any, users: Any) -> None:
    login(client, "admin")
    r = create(client, easy_sv="ord " * 500)
    assert r.status_code == 400
    assert "ord ord ord" in r.get_data(as_text=True)


def _project_page(client: Any, slug: str, lang: str = "en") -> str:
    return client.get(f"/p/{slug}/projects?lang={lang}").get_data(as_text=True)


def test_an_official_writes_a_projects_summary(app: Any, users: Any, make_process: Any) -> None:
    from tests.voting.conftest import add_projects

    make_process(slug="unga", running="review", areas=[], budget=300_000)
    add_projects(app, "unga", [("p1", "Skatepark", 120_000, None)])
    official = app.test_client()
    login(official, "official")
    page = _project_page(official, "unga")
    assert "Skatepark" in page and 'name="p1-easy_sv"' in page
    token = csrf_token(page.replace('name="p1-csrf_token"', 'name="csrf_token"'))
    r = official.post("/p/unga/projects", data={
        "project": "p1", "p1-csrf_token": token,
        "p1-easy_sv": "En plats att åka skateboard på.", "p1-easy_en": "A place to skateboard.",
    })  # fmt: skip
    assert r.status_code == 303, r.get_data(as_text=True)
    assert "En plats att åka skateboard på." in _project_page(official, "unga")
    # Participants may not write them.
    other = app.test_client()
    login(other, "participant")
    assert other.get("/p/unga/projects").status_code == 403


@pytest.mark.parametrize("lang,text", [("sv", "En plats att åka skateboard på."),
                                       ("en", "A place to skateboard.")])  # fmt: skip
def test_voters_see_a_projects_summary_above_its_cost(
    app: Any, make_process: Any, db: Any, lang: str, text: str
) -> None:
    from pb.proposals.models import Project

    vote = make_vote(app, make_process)
    project = db.scalar(sa.select(Project).where(Project.code == "p1"))
    project.easy_sv, project.easy_en = "En plats att åka skateboard på.", "A place to skateboard."
    db.commit()
    [code] = issue(app, vote)
    voter = app.test_client()
    html = voter.post(f"/p/{vote.slug}/vote?lang={lang}", data={"code": code}).get_data(
        as_text=True
    )
    card = html[html.index("Skatepark") :]
    assert text in card
    assert card.index(text) < card.index('class="cost"')


def test_once_voting_opened_the_projects_summary_is_locked(
    app: Any, users: Any, make_process: Any
) -> None:
    from tests.voting.conftest import add_projects

    make_process(slug="unga", running="voting", areas=[], budget=300_000)
    add_projects(app, "unga", [("p1", "Skatepark", 120_000, None)])
    official = app.test_client()
    login(official, "official")
    page = _project_page(official, "unga", "sv")
    assert 'class="locked"' in page and "(låst)" in page
    token = csrf_token(page.replace('name="p1-csrf_token"', 'name="csrf_token"'))
    r = official.post("/p/unga/projects?lang=en", data={
        "project": "p1", "p1-csrf_token": token, "p1-easy_sv": "Ny text.", "p1-easy_en": "",
    })  # fmt: skip
    assert r.status_code == 409
    assert "Ny text." in r.get_data(as_text=True)  # what was typed is kept


def test_the_demo_fills_them(app: Any) -> None:
    from pb.db import get_session
    from pb.demo import load_demo
    from pb.processes.models import Process
    from pb.proposals.models import Project

    with app.test_request_context("/"):
        load_demo()
        session = get_session()
        for process in session.scalars(sa.select(Process)):
            assert process.easy_sv and process.easy_en, process.slug
        projects = list(session.scalars(sa.select(Project)))
        dalby = [p for p in projects if p.code.startswith("D")]
        assert dalby and all(p.easy_sv and p.easy_en for p in dalby)
