"""A ballot project's English title: officials write it on the projects page (optional,
checked, audited, locked with the ballot); English readers see it on the ballot, the review
page, the results, the follow-up and in their e-mails, Swedish readers the official Swedish
title; without one everyone sees the Swedish title. The published files keep the official
title."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_token, login
from tests.results.conftest import ballot, cast_all, close_voting
from tests.voting.conftest import add_projects, issue, make_vote

ENGLISH = {"p1": "Skate park", "p3": "Youth centre"}


def _name_in_english(db: Any, vote: Any, titles: dict[str, str] = ENGLISH) -> None:
    """Give projects English titles (as officials would have before voting opened)."""
    from pb.proposals.models import Project

    for project in db.scalars(sa.select(Project).where(Project.process_id == vote.process_id)):
        project.title_en = titles.get(project.code, "")
    db.commit()


def test_display_title_falls_back_to_the_official_title() -> None:
    from pb.proposals.models import Project

    project = Project(code="p1", title="Skatepark", title_en="Skate park")
    assert project.display_title("en") == "Skate park" and project.title_lang("en") == "en"
    assert project.display_title("sv") == "Skatepark" and project.title_lang("sv") == "sv"
    project.title_en = ""
    assert project.display_title("en") == "Skatepark" and project.title_lang("en") == "sv"


# -- the ballot --------------------------------------------------------------------------


@pytest.mark.parametrize("lang,shown,hidden", [("en", "Skate park", "Skatepark"),
                                               ("sv", "Skatepark", "Skate park")])  # fmt: skip
def test_each_ballot_shows_the_title_in_its_language(
    app: Any, make_process: Any, db: Any, lang: str, shown: str, hidden: str
) -> None:
    vote = make_vote(app, make_process)
    _name_in_english(db, vote)
    [code] = issue(app, vote)
    voter = app.test_client()
    html = voter.post(f"/p/{vote.slug}/vote?lang={lang}", data={"code": code}).text
    assert f'<span class="project-title" lang="{lang}">{shown}</span>' in html
    assert hidden not in html
    # The review page before casting names the chosen projects the same way.
    review = voter.post(f"/p/{vote.slug}/vote/ballot?lang={lang}",
                        data={"code": code, "pick": ["|p1", "|p2"], "action": "review"})  # fmt: skip
    assert review.status_code == 200
    assert f'<span lang="{lang}">{shown}</span>' in review.text and hidden not in review.text


def test_without_an_english_title_english_readers_see_the_swedish_one_marked_swedish(
    app: Any, make_process: Any, db: Any
) -> None:
    vote = make_vote(app, make_process)
    _name_in_english(db, vote)  # p2 (Musikstudio) has none
    [code] = issue(app, vote)
    html = app.test_client().post(f"/p/{vote.slug}/vote?lang=en", data={"code": code}).text
    assert '<span class="project-title" lang="sv">Musikstudio</span>' in html
    assert '<span class="project-title" lang="en">Skate park</span>' in html


def test_a_ballot_problem_names_the_project_in_the_readers_language(
    app: Any, make_process: Any, db: Any
) -> None:
    vote = make_vote(app, make_process, slug="poang", ballot_type="cumulative", points_total=10,
                     max_points_per_project=6)  # fmt: skip
    _name_in_english(db, vote)
    [code] = issue(app, vote)
    voter = app.test_client()
    for lang, text in (("en", "You gave Skate park 7 points; at most 6 are allowed."),
                       ("sv", "Skatepark 7 poäng")):  # fmt: skip
        r = voter.post(f"/p/{vote.slug}/vote/ballot?lang={lang}",
                       data={"code": code, "pts||p1": "7", "action": "review"})  # fmt: skip
        assert r.status_code == 400 and text in r.text, r.text


def test_the_rules_fingerprint_keeps_the_official_title(
    app: Any, make_process: Any, db: Any
) -> None:
    from pb.voting import services

    vote = make_vote(app, make_process)
    with app.test_request_context("/?lang=en"):
        before = services.canonical_rules(db, vote.process(db))
    _name_in_english(db, vote)
    with app.test_request_context("/?lang=en"):
        assert services.canonical_rules(db, vote.process(db)) == before
    assert "Skatepark" in before and "Skate park" not in before


# -- results, follow-up and e-mails ------------------------------------------------------


def _published(app: Any, make_process: Any, db: Any) -> Any:
    vote = make_vote(app, make_process)
    _name_in_english(db, vote)
    cast_all(app, vote, [ballot("p1", "p2"), ballot("p1", "p3"), ballot("p1", "p2", "p4"),
                         ballot("p1", "p3"), ballot("p2", "p4", "p5")])  # fmt: skip
    close_voting(app, vote)
    admin = app.test_client()
    login(admin, "admin")
    assert admin.post(f"/p/{vote.slug}/results/publish").status_code == 303
    return vote


def test_the_results_page_reads_in_each_language_and_the_files_keep_the_official_title(
    app: Any, make_process: Any, db: Any
) -> None:
    from pb.proposals.models import Project
    from pb.results.models import ResultFile, ResultSnapshot

    vote = _published(app, make_process, db)
    anon = app.test_client()
    en = anon.get(f"/p/{vote.slug}/results?lang=en").text
    funded = en.split('class="funded-list">')[1].split("</ol>")[0]
    assert "Skate park" in funded and "Skatepark" not in funded and "Musikstudio" in funded
    assert "Skate park won" in en and "Youth centre did not win" in en
    assert "<td>Youth centre</td>" in en and "<h4>Skate park</h4>" in en
    assert "Skatepark" not in en and "Fritidsgård" not in en
    sv = anon.get(f"/p/{vote.slug}/results?lang=sv").text
    assert "Skatepark vann" in sv and "Fritidsgård vann inte" in sv
    assert "Skate park" not in sv and "Youth centre" not in sv
    # The snapshot froze both languages: a later change shows nowhere.
    snap = db.get(ResultSnapshot, vote.process_id)
    entries = {p["id"]: p for e in snap.data["elections"] for p in e["projects"]}
    assert (entries["p1"]["title"], entries["p1"]["title_en"]) == ("Skatepark", "Skate park")
    assert entries["p2"]["title_en"] == ""
    p1 = db.scalar(sa.select(Project).where(Project.process_id == vote.process_id,
                                            Project.code == "p1"))  # fmt: skip
    p1.title_en = "Something else"
    db.commit()
    assert "Something else" not in anon.get(f"/p/{vote.slug}/results?lang=en").text
    # The API carries the frozen English title beside the official one.
    api = anon.get(f"/api/v1/processes/{vote.slug}/results").get_json()
    projects = {p["id"]: p for p in api["elections"][0]["projects"]}
    assert projects["p1"]["title"] == "Skatepark" and projects["p1"]["title_en"] == "Skate park"
    assert projects["p2"]["title_en"] is None
    # The published files name the projects by their official title, as before.
    pb_file = db.scalar(sa.select(ResultFile).where(ResultFile.process_id == vote.process_id,
                                                    ResultFile.kind == "pb"))  # fmt: skip
    assert "Skatepark" in pb_file.content and "Skate park" not in pb_file.content


def test_a_snapshot_without_english_titles_reads_as_before(app: Any) -> None:
    """Snapshots published before English titles existed have no ``title_en``: English
    readers see the official title, and the snapshot is read as it is."""
    from pb.results.present import election_view

    data = {
        "key": "", "name": "P", "budget": "100", "spent": "50", "ballots": 3, "selected": ["p1"],
        "projects": [{"id": "p1", "name": "Skatepark", "title": "Skatepark", "cost": "50",
                      "score": 3, "rank": 1, "selected": True, "explanation": "Funded.",
                      "explanation_sv": "Finansierat.", "explanation_data": {}}],
    }  # fmt: skip
    frozen = repr(data)
    with app.test_request_context("/?lang=en"):
        view = election_view(data, {}, "en")
    assert [p.title for p in view.projects] == ["Skatepark"]
    assert repr(data) == frozen


def test_follow_up_and_mails_use_the_readers_language(
    app: Any, make_process: Any, users: dict[str, Any], db: Any
) -> None:
    from pb.mail.models import OutboxMessage
    from pb.proposals.models import Project
    from pb.results.models import ProjectFollow

    vote = make_vote(app, make_process)
    _name_in_english(db, vote)
    ids = {p.code: p.id for p in db.scalars(
        sa.select(Project).where(Project.process_id == vote.process_id))}  # fmt: skip
    for email, locale in (("kim@example.org", "en"), ("sara@example.org", "sv")):
        for code in ("p1", "p3"):
            db.add(ProjectFollow(project_id=ids[code], email=email, locale=locale))
    db.commit()
    cast_all(app, vote, [ballot("p1", "p2"), ballot("p1", "p3"), ballot("p1", "p2", "p4"),
                         ballot("p1", "p3"), ballot("p2", "p4", "p5")])  # fmt: skip
    close_voting(app, vote)
    admin = app.test_client()
    login(admin, "admin")
    assert admin.post(f"/p/{vote.slug}/results/publish").status_code == 303
    db.expire_all()
    bodies = {m.to: m.body for m in db.scalars(sa.select(OutboxMessage))}
    assert "“Skate park” will be funded." in bodies["kim@example.org"]
    assert "“Youth centre” will not be funded." in bodies["kim@example.org"]
    assert "”Skatepark” kommer att få pengar." in bodies["sara@example.org"]
    assert "Skate park" not in bodies["sara@example.org"]
    # The follow-up page and its feed, in English and in Swedish.
    anon = app.test_client()
    page = anon.get(f"/p/{vote.slug}/followup?lang=en").text
    assert '<h2 id="project-{}-title" lang="en">Skate park</h2>'.format(ids["p1"]) in page
    assert "Skatepark" in anon.get(f"/p/{vote.slug}/followup?lang=sv").text
    # An update mailed to the followers names the project in each one's language.
    from pb.db import get_session, utcnow
    from pb.results import followup

    before = db.scalar(sa.select(sa.func.max(OutboxMessage.id)))
    with app.test_request_context("/?lang=sv"):
        session = get_session()
        followup.add_update(session, vote.process(session), ids["p1"], body="Bygget har börjat.",
                            image="", actor=None, now=utcnow())  # fmt: skip
        session.commit()
    db.expire_all()
    news = {m.to: m.subject for m in db.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.id > before))}  # fmt: skip
    assert news == {"kim@example.org": "News about “Skate park”",
                    "sara@example.org": "Nytt om ”Skatepark”"}  # fmt: skip


# -- officials write it --------------------------------------------------------------------


def _projects_page(client: Any, slug: str, lang: str = "en") -> str:
    return client.get(f"/p/{slug}/projects?lang={lang}").text


def _save(client: Any, slug: str, code: str, title_en: str, lang: str = "en",
          easy_sv: str = "", easy_en: str = "") -> Any:  # fmt: skip
    page = _projects_page(client, slug)
    token = csrf_token(page.replace(f'name="{code}-csrf_token"', 'name="csrf_token"'))
    return client.post(f"/p/{slug}/projects?lang={lang}", data={
        "project": code, f"{code}-csrf_token": token, f"{code}-title_en": title_en,
        f"{code}-easy_sv": easy_sv, f"{code}-easy_en": easy_en,
    })  # fmt: skip


def _events(db: Any, action: str) -> list[Any]:
    from pb.audit import AuditEvent

    db.expire_all()
    return list(db.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)
                           .order_by(AuditEvent.seq)))  # fmt: skip


def test_an_official_writes_it_and_each_change_is_audited(
    app: Any, users: Any, db: Any, make_process: Any
) -> None:
    from pb.proposals.models import Project

    process = make_process(slug="unga", running="review", areas=[], budget=300_000)
    add_projects(app, "unga", [("p1", "Skatepark", 120_000, None)])
    official = app.test_client()
    login(official, "official")
    page = _projects_page(official, "unga", "sv")
    assert 'name="p1-title_en"' in page and "Titel på engelska" in page
    assert _save(official, "unga", "p1", " Skate park ").status_code == 303
    project = db.scalar(sa.select(Project).where(Project.code == "p1"))
    db.refresh(project)
    assert project.title_en == "Skate park" and project.title == "Skatepark"
    assert 'value="Skate park"' in _projects_page(official, "unga")
    assert _save(official, "unga", "p1", "Skate park").status_code == 303  # no change
    assert "Nothing was changed." in _projects_page(official, "unga")
    # The title and a summary in one save: one entry for each, the summary's as before.
    r = _save(official, "unga", "p1", "Skateboard park", easy_sv="En park.")
    assert r.status_code == 303
    assert _save(official, "unga", "p1", "", easy_sv="En park.").status_code == 303
    events = _events(db, "project.title-en")
    assert [ev.data for ev in events] == [
        {"project": "p1", "title_en": ["", "Skate park"]},
        {"project": "p1", "title_en": ["Skate park", "Skateboard park"]},
        {"project": "p1", "title_en": ["Skateboard park", ""]},
    ]
    assert {(ev.actor_id, ev.process_id, ev.subject_type) for ev in events} == {
        (users["official"].id, process.id, "projects")
    }
    assert [ev.data for ev in _events(db, "project.easy")] == [
        {"project": "p1", "easy_sv": ["", "En park."]}
    ]
    admin = app.test_client()
    login(admin, "admin")
    sv = admin.get("/admin/processes/unga/audit?lang=sv").text
    en = admin.get("/admin/processes/unga/audit?lang=en").text
    assert sv.count("Official ändrade den engelska titeln på projekt p1.") == 3
    assert "Rubrik (engelska)" in sv and "Skate park → Skateboard park" in sv
    assert en.count("Official changed the English title of project p1.") == 3
    assert "Skateboard park → —" in en
    assert "English title of a ballot project changed" in en  # the action's label


@pytest.mark.parametrize("lang,message", [
    ("en", "Use at most 120 characters."), ("sv", "Använd högst 120 tecken."),
])  # fmt: skip
def test_too_long_is_refused_with_the_text_kept(
    app: Any, users: Any, db: Any, make_process: Any, lang: str, message: str
) -> None:
    make_process(slug="unga", running="review", areas=[], budget=300_000)
    add_projects(app, "unga", [("p1", "Skatepark", 120_000, None)])
    official = app.test_client()
    login(official, "official")
    typed = "Skate park " * 12 + "x"  # 121 characters
    r = _save(official, "unga", "p1", typed, lang=lang, easy_sv="Kvar.")
    assert r.status_code == 400
    assert message in r.text
    assert f'value="{typed}"' in r.text and "Kvar." in r.text  # nothing typed is lost
    assert _events(db, "project.title-en") == [] and _events(db, "project.easy") == []


@pytest.mark.parametrize("lang,message", [
    ("en", "Remove the invisible characters that change the direction of the text"),
    ("sv", "Ta bort de osynliga tecken som ändrar textens riktning"),
])  # fmt: skip
def test_direction_controls_are_refused(
    app: Any, users: Any, db: Any, make_process: Any, lang: str, message: str
) -> None:
    from pb.proposals.models import Project

    make_process(slug="unga", running="review", areas=[], budget=300_000)
    add_projects(app, "unga", [("p1", "Skatepark", 120_000, None)])
    official = app.test_client()
    login(official, "official")
    r = _save(official, "unga", "p1", "Skate \u202epark", lang=lang)
    assert r.status_code == 400 and message in r.text
    assert "Skate \u202epark" in r.text  # kept, so it can be corrected
    project = db.scalar(sa.select(Project).where(Project.code == "p1"))
    db.refresh(project)
    assert project.title_en == ""
    assert _events(db, "project.title-en") == []


def test_once_voting_opened_it_is_locked_like_the_summary(
    app: Any, users: Any, db: Any, make_process: Any
) -> None:
    make_process(slug="unga", running="voting", areas=[], budget=300_000)
    add_projects(app, "unga", [("p1", "Skatepark", 120_000, None)])
    official = app.test_client()
    login(official, "official")
    page = _projects_page(official, "unga", "sv")
    assert 'name="p1-title_en"' in page and page.count('class="locked"') == 2
    r = _save(official, "unga", "p1", "Skate park")
    assert r.status_code == 409 and 'value="Skate park"' in r.text
    assert _events(db, "project.title-en") == []


def test_the_demo_gives_its_projects_english_titles(app: Any) -> None:
    from pb.audit import AuditEvent
    from pb.db import get_session
    from pb.demo import load_demo
    from pb.processes.models import Process
    from pb.proposals.models import Project

    with app.test_request_context("/"):
        load_demo()
        load_demo()  # a refresh writes nothing again
        session = get_session()
        slugs = dict(session.execute(sa.select(Process.id, Process.slug)).all())
        projects = list(session.scalars(sa.select(Project)))
        by_process: dict[str, list[Any]] = {}
        for p in projects:
            by_process.setdefault(slugs[p.process_id], []).append(p)
        assert set(by_process) == {"ungdomsbudget-dalby-2026", "lund-parker-och-gator-2027"}
        for slug, rows in by_process.items():
            assert rows and all(p.title_en and p.title_en != p.title for p in rows), slug
        titled = session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "project.title-en")
        ).all()
        assert len(titled) == len(by_process["lund-parker-och-gator-2027"])
