"""Processes: the admin form, the public page with its whole upfront contract in Swedish and
English, freezing when voting opens, and the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import login


def form_data(**overrides: Any) -> dict[str, Any]:
    today = dt.date.today()

    def day(offset: int) -> str:
        return (today + dt.timedelta(days=offset)).strftime("%Y-%m-%dT%H:%M")

    data = {
        "title_sv": "Medborgarbudget Lund 2027", "title_en": "Lund citizen budget 2027",
        "slug": "lund-2027", "published": "y",
        "purpose_sv": "Förbättra parker.\n\nLäs mer på https://lund.se/budget.",
        "purpose_en": "Improve parks.", "question_sv": "Vad vill du?", "question_en": "What do you want?",
        "influence_level": "co-creation", "decision_body_sv": "Tekniska nämnden",
        "decision_body_en": "The Technical Committee", "decision_date": "2027-06-12",
        "decision_text_sv": "Nämnden genomför de vinnande projekten inom budgeten.",
        "decision_text_en": "The committee carries out the winning projects within the budget.",
        "budget": "5000000",
        "areas-0-name": "Norra Fäladen", "areas-0-budget": "3000000",
        "areas-1-name": "Klostergården", "areas-1-budget": "2000000",
        "categories-0-name_sv": "Parker", "categories-0-name_en": "Parks",
        "categories-1-name_sv": "Belysning", "categories-1-name_en": "Lighting",
        "phases-proposals-starts_at": day(-5), "phases-proposals-ends_at": day(20),
        "phases-review-starts_at": day(20), "phases-review-ends_at": day(40),
        "phases-voting-starts_at": day(40), "phases-voting-ends_at": day(60),
        "min_age": "12", "connections": ["lives", "studies", "other"],
        "other_connection_sv": "Du är med i en förening i Lund",
        "other_connection_en": "You are a member of an association in Lund",
        "code_channels": ["letter", "school"],
        "ballot_type": "approval-k", "max_projects": "5", "min_projects": "2",
        "counting_rule": "equal-shares", "tie_break": "lottery", "lottery_seed": "lund-2027-seed",
    }  # fmt: skip
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def create(client: Any, **overrides: Any) -> Any:
    return client.post("/admin/processes/new?lang=en", data=form_data(**overrides))


def test_admin_creates_a_process_and_it_is_audited(client: Any, users: Any, db: Any) -> None:
    from pb.audit import AuditEvent
    from pb.processes.models import Process

    login(client, "admin")
    r = create(client)
    assert r.status_code == 303, r.get_data(as_text=True)
    assert r.headers["Location"] == "/p/lund-2027"
    p = db.scalar(sa.select(Process).where(Process.slug == "lund-2027"))
    assert [a.name for a in p.areas] == ["Norra Fäladen", "Klostergården"]
    assert [a.slug for a in p.areas] == ["norra-faladen", "klostergarden"]
    assert {ph.kind.value for ph in p.phases} == {"proposals", "review", "voting"}
    assert p.connections == ["lives", "studies", "other"]
    events = db.scalars(sa.select(AuditEvent).where(AuditEvent.process_id == p.id)).all()
    assert [e.action for e in events] == ["process.create"]
    assert events[0].actor_id == users["admin"].id
    assert events[0].data["budget"] == 5000000


CONTRACT_EN = [
    "Lund citizen budget 2027", "What do you want?", "Improve parks.",
    "Co-creation and co-decision", "You take part in planning and deciding",
    "The committee carries out the winning projects within the budget.",
    "The Technical Committee takes the final decision on 12 June 2027.",
    "If the politicians do not follow the result, they must explain why.",
    "SEK\u00a05,000,000", "Norra Fäladen", "SEK\u00a03,000,000", "Parks, Lighting",
    "Proposals", "Review", "Voting", "Europe/Stockholm",
    "at least 12 years old", "You live in the municipality", "You study in the municipality",
    "You are a member of an association in Lund", "By letter", "At school",
    "Choose a number of projects", "You may choose at most 5 projects.",
    "You must choose at least 2 projects.", "Method of Equal Shares", "Lottery", "lund-2027-seed",
    "Now", "Next",
]  # fmt: skip

CONTRACT_SV = [
    "Medborgarbudget Lund 2027", "Vad vill du?", "Förbättra parker.",
    "Medskapande och medbestämmande", "Du är med och planerar och bestämmer",
    "Nämnden genomför de vinnande projekten inom budgeten.",
    "Tekniska nämnden fattar det sista beslutet den 12 juni 2027.",
    "Om politikerna inte följer resultatet måste de förklara varför.",
    "5\u00a0000\u00a0000\u00a0kr", "Norra Fäladen", "3\u00a0000\u00a0000\u00a0kr", "Parker, Belysning",
    "Förslag", "Granskning", "Omröstning", "Europe/Stockholm",
    "minst 12 år", "Du bor i kommunen", "Du studerar i kommunen",
    "Du är med i en förening i Lund", "Med brev", "I skolan",
    "Välj ett antal projekt", "Du får välja högst 5 projekt.",
    "Du måste välja minst 2 projekt.", "Metoden med lika andelar", "Lottning", "lund-2027-seed",
    "Nu", "Nästa",
]  # fmt: skip


@pytest.mark.parametrize("lang,expected", [("en", CONTRACT_EN), ("sv", CONTRACT_SV)])
def test_public_page_shows_the_whole_contract(
    client: Any, users: Any, lang: str, expected: list[str]
) -> None:
    login(client, "admin")
    assert create(client).status_code == 303
    client.post("/account/logout")
    html = client.get(f"/p/lund-2027?lang={lang}").get_data(as_text=True)
    missing = [text for text in expected if text not in html]
    assert not missing, f"missing from the {lang} page: {missing}"
    if lang == "sv":  # the Swedish purpose carries a link, made safe
        assert '<a href="https://lund.se/budget" rel="nofollow ugc noopener"' in html


def test_language_follows_the_browser_and_the_switch(client: Any, make_process: Any) -> None:
    make_process(slug="p1")
    r = client.get("/p/p1", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert 'lang="en"' in r.get_data(as_text=True)
    r = client.get("/p/p1", headers={"Accept-Language": "sv-SE"})
    assert 'lang="sv"' in r.get_data(as_text=True)
    r = client.post("/lang", data={"lang": "en", "next": "/p/p1"})
    assert r.status_code == 303 and r.headers["Location"] == "/p/p1"
    assert 'lang="en"' in client.get("/p/p1", headers={"Accept-Language": "sv"}).get_data(
        as_text=True
    )


def test_unknown_and_unpublished_processes_are_404(client: Any, make_process: Any) -> None:
    make_process(slug="draft", published=False)
    r = client.get("/p/no-such-process?lang=en")
    assert r.status_code == 404 and "Page not found" in r.get_data(as_text=True)
    assert client.get("/p/draft").status_code == 404
    login(client, "admin")
    assert client.get("/p/draft").status_code == 200


def test_edit_records_the_difference(client: Any, users: Any, make_process: Any, db: Any) -> None:
    from pb.audit import AuditEvent

    p = make_process(slug="p1", running="proposals")
    login(client, "admin")
    page = client.get("/admin/processes/p1/edit").get_data(as_text=True)
    assert 'value="Parker 2027"' in page
    data = form_data(slug="p1", budget="6000000", **{"areas-0-budget": "4000000"})
    r = client.post("/admin/processes/p1/edit", data=data)
    assert r.status_code == 303, r.get_data(as_text=True)
    ev = db.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.process_id == p.id, AuditEvent.action == "process.update"
        )
    ).one()
    assert ev.data["budget"] == [5000000, 6000000]
    assert ev.actor_id == users["admin"].id


def test_rules_freeze_when_voting_opens(
    client: Any, users: Any, make_process: Any, db: Any
) -> None:
    from pb.audit import AuditEvent
    from pb.processes.models import Process

    p = make_process(slug="voting-now", running="voting")
    login(client, "admin")
    page = client.get("/admin/processes/voting-now/edit?lang=en").get_data(as_text=True)
    assert "frozen" in page
    r = client.post(
        "/admin/processes/voting-now/edit?lang=en", data=form_data(slug="voting-now", budget="1")
    )
    assert r.status_code == 409
    assert "rules of this process are frozen" in r.get_data(as_text=True)
    db.expire_all()
    assert db.get(Process, p.id).budget == 5_000_000
    actions = db.scalars(sa.select(AuditEvent.action).where(AuditEvent.process_id == p.id)).all()
    assert "process.edit-refused" in actions
    html = client.get("/p/voting-now?lang=sv").get_data(as_text=True)
    assert "Reglerna är låsta" in html


def test_admin_can_freeze_early(client: Any, users: Any, make_process: Any, db: Any) -> None:
    make_process(slug="p1")
    login(client, "admin")
    assert client.post("/admin/processes/p1/freeze").status_code == 303
    r = client.post("/admin/processes/p1/edit", data=form_data(slug="p1"))
    assert r.status_code == 409


@pytest.mark.parametrize("overrides,field_error", [
    ({"title_sv": ""}, "This field is required."),
    ({"slug": "Not A Slug!"}, "Use lower-case letters"),
    ({"budget": "-5"}, "Give a whole number from 1 to 1000000000000."),
    ({"budget": "lots"}, "Give a whole number from 1 to 1000000000000."),
    ({"areas-1-budget": "1"}, "must add up to the total budget"),
    ({"phases-voting-ends_at": "2000-01-01T00:00"}, "The end must come after the start."),
    ({"connections": []}, "Choose at least one connection."),
    ({"ballot_type": "approval-k", "max_projects": ""}, "Say how many projects"),
    ({"tie_break": "lottery", "lottery_seed": ""}, "A lottery needs a seed"),
    ({"influence_level": "dictatorship"}, "Not a valid choice"),
    ({"title_sv": "x" * 5000}, "Field cannot be longer than 200 characters."),
])  # fmt: skip
def test_bad_process_input_is_shown_next_to_the_field(
    client: Any, users: Any, overrides: dict[str, Any], field_error: str
) -> None:
    login(client, "admin")
    r = create(client, **overrides)
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert field_error in html
    assert 'value="Tekniska nämnden"' in html  # what was typed is kept


def test_duplicate_slug(client: Any, users: Any, make_process: Any) -> None:
    make_process(slug="lund-2027")
    login(client, "admin")
    r = create(client)
    assert r.status_code == 400
    assert "Another process already uses this web address." in r.get_data(as_text=True)


def test_home_lists_processes_by_phase(client: Any, make_process: Any) -> None:
    make_process(slug="a", title_en="Proposing now", running="proposals")
    make_process(slug="b", title_en="Voting now", running="voting")
    html = client.get("/?lang=en").get_data(as_text=True)
    assert html.index("Now: Proposals") < html.index("Proposing now") < html.index("Now: Voting")
    assert html.index("Now: Voting") < html.index("Voting now")


def test_assign_official(client: Any, users: Any, make_process: Any, db: Any) -> None:
    from pb.processes.models import Process

    p = make_process(slug="p1")
    login(client, "admin")
    r = client.post("/admin/processes/p1/officials", data={"email": "other_official@example.org"})
    assert r.status_code == 303
    db.expire_all()
    assert users["other_official"].id in {o.user_id for o in db.get(Process, p.id).officials}


def test_audit_page_names_the_actor_and_says_what_happened(
    client: Any, users: Any, db: Any
) -> None:
    login(client, "admin")
    assert create(client).status_code == 303
    r = client.post(
        "/admin/processes/lund-2027/edit?lang=en",
        data=form_data(title_sv="Medborgarbudget Lund 2027: café", min_age="14"),
    )
    assert r.status_code == 303
    page = client.get("/admin/processes/lund-2027/audit?lang=sv").get_data(as_text=True)
    admin = users["admin"]
    # Sentences with names, not codes and JSON.
    assert f"{admin.display_name} skapade processen." in page
    assert f"{admin.display_name} ändrade processen." in page
    assert "Processen skapad" in page  # the Swedish label
    assert "process.create" in page  # and the code, for machines and searches
    # Readable values: the changed title with its é, the budget in kronor, dates as dates.
    assert "Medborgarbudget Lund 2027 → Medborgarbudget Lund 2027: café" in page
    assert "5\u00a0000\u00a0000\u00a0kr" in page and "12 → 14" in page
    assert "12 juni 2027" in page
    assert "\\u00e9" not in page and '{"' not in page and "&#34;" not in page
    page = client.get("/admin/processes/lund-2027/audit?lang=en").get_data(as_text=True)
    assert f"{admin.display_name} created the process." in page
    assert f"{admin.display_name} changed the process." in page
    assert "SEK\u00a05,000,000" in page and "Lowest age" in page
    assert "Process created" in page
    assert "Audit log: Lund citizen budget 2027" in page
    login(client, "participant")
    assert client.get("/admin/processes/lund-2027/audit").status_code in (403, 404)


def test_settings_that_need_another_are_dropped_without_it(app: Any, users: Any) -> None:
    """A lottery seed without the lottery tie-break, or points without a points ballot, would
    show on the contract and mean nothing: the service drops them, whoever calls it."""
    from pb.db import get_session
    from pb.processes import services
    from tests.conftest import process_changes

    with app.app_context():
        session = get_session()
        changes = process_changes(
            tie_break="lexicographic", lottery_seed="kept?", ballot_type="approval-budget",
            points_total=10, max_points_per_project=5,
        )  # fmt: skip
        process = services.create_process(session, changes, users["admin"])
        assert process.lottery_seed is None
        assert process.points_total is None and process.max_points_per_project is None
        changes = process_changes(
            tie_break="lottery", lottery_seed="lund-2027", ballot_type="cumulative",
            points_total=10, max_points_per_project=5,
        )  # fmt: skip
        changes.fields["slug"] = "another"
        process = services.create_process(session, changes, users["admin"])
        assert process.lottery_seed == "lund-2027"
        assert (process.points_total, process.max_points_per_project) == (10, 5)


@pytest.mark.parametrize("lang,sentence", [
    ("en", "Anna changed the role of Bo from participant to administrator."),
    ("sv", "Anna ändrade rollen för Bo från deltagare till administratör."),
])  # fmt: skip
def test_a_role_change_reads_in_words(app: Any, users: Any, lang: str, sentence: str) -> None:
    """The log names roles in the reader's language, not by their codes."""
    from pb.accounts import services as accounts
    from pb.accounts.models import Role
    from pb.audit import AuditEvent
    from pb.db import get_session
    from pb.processes import auditlog

    with app.test_request_context(f"/?lang={lang}"):
        session = get_session()
        actor = session.merge(users["admin"])
        whom = session.merge(users["participant"])
        accounts.set_role(session, whom, Role.ADMIN, actor=actor)
        session.commit()
        ev = session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert ev is not None and ev.data == {"role": ["participant", "admin"]}
        ctx = auditlog.Context({actor.id: "Anna", whom.id: "Bo"})
        assert auditlog.present(ev, ctx).sentence == sentence
