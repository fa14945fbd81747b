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


# -- every change of a summary is in the audit log (issue #11) ----------------------------


def _easy_events(db: Any, action: str) -> list[Any]:
    from pb.audit import AuditEvent

    db.expire_all()
    return list(db.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)
                           .order_by(AuditEvent.seq)))  # fmt: skip


def _log(client: Any, slug: str, lang: str) -> str:
    return client.get(f"/admin/processes/{slug}/audit?lang={lang}").get_data(as_text=True)


def test_each_process_summary_change_is_one_sentence_in_the_log(
    client: Any, users: Any, db: Any
) -> None:
    login(client, "admin")
    assert create(client).status_code == 303
    edit = "/admin/processes/lund-2027/edit"
    assert client.post(edit, data=form_data(easy_sv="Du får komma med idéer.")).status_code == 303
    assert client.post(edit, data=form_data(easy_sv="Du får komma med idéer.",
                                             easy_en="You can send in ideas.")).status_code == 303  # fmt: skip
    events = _easy_events(db, "process.update")
    assert [ev.data for ev in events] == [
        {"easy_sv": ["", "Du får komma med idéer."]},
        {"easy_en": ["", "You can send in ideas."]},
    ]
    assert all(ev.actor_id == users["admin"].id for ev in events)
    sv, en = _log(client, "lund-2027", "sv"), _log(client, "lund-2027", "en")
    assert sv.count("Admin ändrade processens lättlästa sammanfattning.") == 2
    assert "Lättläst sammanfattning (svenska)" in sv and "— → Du får komma med idéer." in sv
    assert "Lättläst sammanfattning (engelska)" in sv and "— → You can send in ideas." in sv
    assert en.count("Admin changed the easy-to-read summary of the process.") == 2
    assert "Easy-to-read summary (English)" in en
    # Changing it with another field reads as a change of the process, the summary listed.
    assert client.post(edit, data=form_data(easy_sv="Ny text.", easy_en="You can send in ideas.",
                                            question_en="What would you like?")).status_code == 303  # fmt: skip
    assert "Admin changed the process." in _log(client, "lund-2027", "en")
    assert _easy_events(db, "process.update")[-1].data["easy_sv"] == [
        "Du får komma med idéer.", "Ny text."]  # fmt: skip


def test_an_unchanged_or_refused_process_summary_records_no_change(
    app: Any, client: Any, users: Any, db: Any, make_process: Any
) -> None:
    login(client, "admin")
    assert create(client, easy_sv="Kort text.").status_code == 303
    edit = "/admin/processes/lund-2027/edit"
    # The same text again (spaces around it are not a change).
    r = client.post(edit + "?lang=en", data=form_data(easy_sv="  Kort text.\n"))
    assert r.status_code == 303
    assert "Nothing was changed." in client.get("/p/lund-2027?lang=en").get_data(as_text=True)
    assert _easy_events(db, "process.update") == []
    # An official may not edit the process at all.
    official = app.test_client()
    login(official, "official")
    assert official.post(edit, data=form_data(easy_sv="Annan text.")).status_code == 403
    # Once voting has opened the rules, the summary among them, are frozen: the attempt is
    # on record as refused, and no change is.
    make_process(slug="frozen", running="voting", easy_sv="Låst text.")
    r = client.post("/admin/processes/frozen/edit",
                    data=form_data(slug="frozen", easy_sv="Annan text."))  # fmt: skip
    assert r.status_code == 409
    assert _easy_events(db, "process.update") == []
    assert len(_easy_events(db, "process.edit-refused")) == 1


def _save_project_easy(client: Any, slug: str, code: str, sv: str, en: str) -> Any:
    page = _project_page(client, slug)
    token = csrf_token(page.replace(f'name="{code}-csrf_token"', 'name="csrf_token"'))
    return client.post(f"/p/{slug}/projects?lang=en", data={
        "project": code, f"{code}-csrf_token": token, f"{code}-easy_sv": sv, f"{code}-easy_en": en,
    })  # fmt: skip


def test_each_project_summary_change_is_one_sentence_in_the_log(
    app: Any, users: Any, db: Any, make_process: Any
) -> None:
    from tests.voting.conftest import add_projects

    process = make_process(slug="unga", running="review", areas=[], budget=300_000)
    add_projects(app, "unga", [("p1", "Skatepark", 120_000, None)])
    official = app.test_client()
    login(official, "official")
    assert _save_project_easy(official, "unga", "p1", "En park.", "").status_code == 303
    assert _save_project_easy(official, "unga", "p1", "En park.", "A park.").status_code == 303
    assert _save_project_easy(official, "unga", "p1", "En skatepark.", "").status_code == 303
    events = _easy_events(db, "project.easy")
    assert [ev.data for ev in events] == [
        {"project": "p1", "easy_sv": ["", "En park."]},
        {"project": "p1", "easy_en": ["", "A park."]},
        {"project": "p1", "easy_sv": ["En park.", "En skatepark."], "easy_en": ["A park.", ""]},
    ]
    assert {(ev.actor_id, ev.process_id, ev.subject_type) for ev in events} == {
        (users["official"].id, process.id, "projects")
    }
    admin = app.test_client()
    login(admin, "admin")
    sv, en = _log(admin, "unga", "sv"), _log(admin, "unga", "en")
    assert sv.count("Official ändrade den lättlästa sammanfattningen av projekt p1.") == 3
    assert "Lättläst sammanfattning (svenska)" in sv and "En park. → En skatepark." in sv
    assert en.count("Official changed the easy-to-read summary of project p1.") == 3
    assert "Easy-to-read summary (English)" in en and "A park. → —" in en
    assert "Easy-to-read summary of a ballot project changed" in en  # the action's label


def test_an_unchanged_or_refused_project_summary_records_nothing(
    app: Any, users: Any, db: Any, make_process: Any
) -> None:
    from pb.proposals.models import Project
    from tests.voting.conftest import add_projects

    make_process(slug="unga", running="review", areas=[], budget=300_000)
    add_projects(app, "unga", [("p1", "Skatepark", 120_000, None)])
    project = db.scalar(sa.select(Project).where(Project.code == "p1"))
    project.easy_sv = "En park."
    db.commit()
    official = app.test_client()
    login(official, "official")
    r = _save_project_easy(official, "unga", "p1", " En park. ", "")
    assert r.status_code == 303
    assert "Nothing was changed." in _project_page(official, "unga")
    # Not an official of this process; a participant.
    for key in ("other_official", "participant"):
        other = app.test_client()
        login(other, key)
        r = other.post("/p/unga/projects", data={"project": "p1", "p1-easy_sv": "Fel."})
        assert r.status_code == 403
    # Too long: refused, nothing saved.
    r = _save_project_easy(official, "unga", "p1", "ord " * 500, "")
    assert r.status_code == 400
    # Frozen once voting opened (the test above shows the 409 and the text kept).
    make_process(slug="frozen", running="voting", areas=[], budget=300_000)
    add_projects(app, "frozen", [("p1", "Skatepark", 120_000, None)])
    assert _save_project_easy(official, "frozen", "p1", "Ny text.", "").status_code == 409
    assert _easy_events(db, "project.easy") == []
