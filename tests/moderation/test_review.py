"""Review by officials: feasibility, official cost, public answer; accept onto the ballot,
reject with an explanation, merge; bulk review; the e-mails they send."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import login
from tests.proposals.conftest import make_proc
from tests.proposals.helpers import get, make_proposal


def _official(app: Any, key: str = "official") -> Any:
    c = app.test_client()
    login(c, key)
    return c


def _review(client: Any, pid: int, lang: str = "en", **data: str) -> Any:
    base = {"feasibility": "", "official_cost": "", "answer": "", "decision": ""}
    return client.post(f"/p/parker/review/{pid}?lang={lang}", data={**base, **data})


@pytest.mark.parametrize("lang,texts", [
    ("en", ["On the ballot", "Feasible", "SEK\u00a085,000", "Project", "Accepted onto the ballot",
            "We can build this in 2027."]),
    ("sv", ["På röstsedeln", "Går att göra", "85\u00a0000\u00a0kr", "Projekt",
            "Kom med på röstsedeln", "We can build this in 2027."]),
])  # fmt: skip
def test_accept_onto_the_ballot(
    app: Any, users: Any, proc: Any, db: Any, lang: str, texts: list[str]
) -> None:
    from pb.audit import AuditEvent
    from pb.proposals.models import Project, Proposal

    pid = make_proposal(app, proc.process, users["participant"], area_id=proc.north,
                        title="Utegym i Fäladsparken")  # fmt: skip
    official = _official(app)
    form = official.get(f"/p/parker/review/{pid}?lang={lang}")
    assert form.status_code == 200
    r = _review(official, pid, lang, feasibility="feasible", official_cost="85 000",
                answer="We can build this in 2027.", decision="accept")  # fmt: skip
    assert r.status_code == 303, r.get_data(as_text=True)
    p = get(app, Proposal, pid)
    assert p.status.value == "accepted" and p.official_cost == 85000
    project = db.scalars(sa.select(Project)).one()
    assert (project.proposal_id, project.cost, project.area_id, project.code, project.title) == (
        pid,
        85000,
        proc.north,
        str(pid),
        "Utegym i Fäladsparken",
    )
    html = app.test_client().get(f"/p/parker/proposals/{pid}?lang={lang}").get_data(as_text=True)
    missing = [t for t in texts if t not in html]
    assert not missing
    actions = db.scalars(sa.select(AuditEvent.action).where(AuditEvent.subject_id == pid,
                         AuditEvent.subject_type == "proposals").order_by(AuditEvent.id)).all()  # fmt: skip
    assert actions[-2:] == ["proposal.review", "proposal.accept"]
    # A decided proposal cannot be decided again.
    r = _review(official, pid, feasibility="feasible", official_cost="1", decision="reject",
                answer="x")  # fmt: skip
    assert r.status_code == 409 and "already been decided" in r.get_data(as_text=True)


@pytest.mark.parametrize("data,message", [
    ({"decision": "accept", "feasibility": "needs-work", "official_cost": "5000"},
     "mark it feasible and give the official cost"),
    ({"decision": "accept", "feasibility": "feasible"}, "mark it feasible and give the official cost"),
    ({"decision": "reject", "feasibility": "not-feasible"}, "write a public answer that explains why"),
    ({"decision": "merge", "merge_into": "999999"}, "Choose another open proposal"),
    ({"official_cost": "-3"}, "whole number of kronor above zero"),
    ({"feasibility": "maybe"}, "Not a valid choice"),
    ({"decision": "explode"}, "Not a valid choice"),
    ({"answer": "a" * 5001}, "Use at most 5000 characters."),
])  # fmt: skip
def test_bad_review_input_changes_nothing(
    app: Any, users: Any, proc: Any, db: Any, data: dict[str, str], message: str
) -> None:
    from pb.proposals.models import Project, Proposal

    pid = make_proposal(app, proc.process, users["participant"])
    r = _review(_official(app), pid, **data)
    assert r.status_code in (400, 409) and message in r.get_data(as_text=True)
    p = get(app, Proposal, pid)
    assert p.status.value == "published" and p.feasibility is None and p.answer == ""
    assert db.scalar(sa.select(sa.func.count()).select_from(Project)) == 0


def test_reject_needs_a_public_explanation_in_swedish(app: Any, users: Any, proc: Any) -> None:
    pid = make_proposal(app, proc.process, users["participant"])
    r = _review(_official(app), pid, "sv", decision="reject")
    assert "För att avslå ett förslag måste du skriva ett offentligt svar" in r.get_data(
        as_text=True
    )


def test_reject_and_the_author_and_followers_are_told(
    app: Any, users: Any, proc: Any, db: Any
) -> None:
    from pb.accounts.models import User
    from pb.mail.models import OutboxMessage
    from pb.proposals.models import Proposal

    with app.app_context():
        from pb.db import get_session

        s = get_session()
        s.get(User, users["participant2"].id).locale = "en"
        s.commit()
    pid = make_proposal(app, proc.process, users["participant"], title="Skatepark")
    follower = _official(app, "participant2")
    follower.post(f"/p/parker/proposals/{pid}/follow")
    r = _review(_official(app), pid, feasibility="not-feasible",
                answer="Marken är förorenad och kan inte användas.", decision="reject")  # fmt: skip
    assert r.status_code == 303
    assert get(app, Proposal, pid).status.value == "rejected"
    mails = {m.to: m for m in db.scalars(sa.select(OutboxMessage))}
    assert set(mails) == {"participant@example.org", "participant2@example.org"}
    sv, en = mails["participant@example.org"], mails["participant2@example.org"]
    assert sv.subject == "Förslaget ”Skatepark” har besvarats"
    assert "Status: Inte på röstsedeln" in sv.body and "Marken är förorenad" in sv.body
    assert f"/p/parker/proposals/{pid}" in sv.body
    assert en.subject == "The proposal “Skatepark” has been answered"
    assert "Status: Not on the ballot" in en.body and "Feasibility: Not feasible" in en.body
    html = app.test_client().get(f"/p/parker/proposals/{pid}?lang=en").get_data(as_text=True)
    assert "Not accepted onto the ballot" in html and "Marken är förorenad" in html


def test_merge_links_both_pages(app: Any, users: Any, proc: Any, db: Any) -> None:
    from pb.mail.models import OutboxMessage
    from pb.proposals.models import Proposal

    a = make_proposal(app, proc.process, users["participant"], title="Gungor i parken")
    b = make_proposal(app, proc.process, users["participant2"], title="Lekplats i parken")
    official = _official(app)
    page = official.get(f"/p/parker/review/{a}?lang=en").get_data(as_text=True)
    assert "Similar proposals (to merge into)" in page and "Lekplats i parken" in page
    r = _review(official, a, decision="merge", merge_into=str(b), answer="Samma plats.")
    assert r.status_code == 303
    assert get(app, Proposal, a).merged_into_id == b
    anon = app.test_client()
    html_a = anon.get(f"/p/parker/proposals/{a}?lang=en").get_data(as_text=True)
    html_b = anon.get(f"/p/parker/proposals/{b}?lang=en").get_data(as_text=True)
    assert f'href="/p/parker/proposals/{b}"' in html_a and "merged into" in html_a
    assert f'href="/p/parker/proposals/{a}"' in html_b
    assert "These proposals have been merged into this one" in html_b
    assert "Another proposal was merged into this one" in html_b
    [mail] = db.scalars(sa.select(OutboxMessage)).all()
    assert mail.to == "participant@example.org" and "har slagits ihop" in mail.subject
    # Merging into itself or into a merged proposal is refused.
    r = _review(official, b, decision="merge", merge_into=str(b))
    assert r.status_code == 400 and "Choose another open proposal" in r.get_data(as_text=True)


def test_review_refused_once_voting_opened(app: Any, users: Any, make_process: Any) -> None:
    from pb.db import get_session
    from pb.proposals.models import Proposal

    proc = make_proc(app, make_process)
    pid = make_proposal(app, proc.process, users["participant"])
    voting = make_proc(app, make_process, slug="rostar", running="voting")
    with app.app_context():
        s = get_session()
        s.get(Proposal, pid).process_id = voting.process.id
        s.commit()
    official = _official(app)
    r = official.post(f"/p/rostar/review/{pid}?lang=en", data={"feasibility": "feasible",
                      "official_cost": "100", "answer": "", "decision": "accept"})  # fmt: skip
    assert r.status_code == 409 and "the ballot can no longer change" in r.get_data(as_text=True)
    assert get(app, Proposal, pid).status.value == "published"


def test_bulk_review_saves_many_rows_in_one_request(
    app: Any, users: Any, proc: Any, db: Any
) -> None:
    from pb.proposals.models import Project, Proposal

    pids = [make_proposal(app, proc.process, users["participant"], title=f"Idé {n}",
                          area_id=proc.north) for n in range(4)]  # fmt: skip
    official = _official(app)
    page = official.get("/p/parker/review?lang=sv").get_data(as_text=True)
    assert "Granska förslag" in page and all(f"Idé {n}" in page for n in range(4))
    rows = {
        0: {"feasibility": "feasible", "official_cost": "50000", "answer": "Ja.", "decision": "accept"},
        1: {"feasibility": "not-feasible", "official_cost": "", "answer": "Nej.", "decision": "reject"},
        2: {"feasibility": "needs-work", "official_cost": "", "answer": "", "decision": ""},
        3: {"feasibility": "", "official_cost": "", "answer": "", "decision": ""},
    }  # fmt: skip
    data = {}
    for i, (n, row) in enumerate(rows.items()):
        data[f"rows-{i}-proposal_id"] = str(pids[n])
        data.update({f"rows-{i}-{k}": v for k, v in row.items()})
    # One bad row: nothing is saved, and the row says why.
    bad = {**data, "rows-1-answer": ""}
    r = official.post("/p/parker/review?lang=en", data=bad)
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "write a public answer that explains why" in html
    assert "Nothing was saved." in html and 'value="50000"' in html
    assert db.scalar(sa.select(sa.func.count()).select_from(Project)) == 0
    r = official.post("/p/parker/review?lang=en", data=data)
    assert r.status_code == 303
    statuses = [get(app, Proposal, pid).status.value for pid in pids]
    assert statuses == ["accepted", "rejected", "in-review", "published"]
    db.expire_all()
    assert db.scalar(sa.select(sa.func.count()).select_from(Project)) == 1
    assert "3 proposals reviewed." in official.get("/p/parker/review?lang=en").get_data(
        as_text=True
    )
    # A row for a proposal of another process is refused.
    r = official.post("/p/parker/review", data={"rows-0-proposal_id": "999999"})
    assert r.status_code == 404


def test_answer_mail_is_delivered_over_smtp(
    make_app: Any, smtp_server: Any, users: Any, make_process: Any
) -> None:
    from pb.cli import main

    app = make_app(MAIL_PORT=smtp_server.port)
    proc = make_proc(app, make_process)
    pid = make_proposal(app, proc.process, users["participant"], title="Parkbänkar",
                        area_id=proc.north)  # fmt: skip
    r = _review(_official(app), pid, feasibility="feasible", official_cost="20000",
                answer="Vi bygger bänkarna.", decision="accept")  # fmt: skip
    assert r.status_code == 303
    result = app.test_cli_runner().invoke(main, ["mail", "send"])
    assert result.exit_code == 0 and "sent 1" in result.output, result.output
    [msg] = smtp_server.messages
    assert msg["To"] == "participant@example.org"
    assert msg["Subject"] == "Förslaget ”Parkbänkar” har besvarats"
    body = msg.get_content()
    assert "Status: På röstsedeln" in body and "Vi bygger bänkarna." in body
    assert "20 000 kr" in body
    assert msg["List-Unsubscribe"].strip("<>") in body  # one-click unsubscribe


def test_bulk_review_pages_in_sql_with_a_next_link_only_when_more_remain(
    app: Any, users: Any, proc: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pb.moderation.routes as routes

    monkeypatch.setattr(routes, "BULK_PAGE", 2)
    for n in range(3):
        make_proposal(app, proc.process, users["participant"], title=f"Förslag nummer {n}")
    official = _official(app)
    first = official.get("/p/parker/review?lang=en").get_data(as_text=True)
    assert "Förslag nummer 0" in first and "Förslag nummer 1" in first
    assert "Förslag nummer 2" not in first and "page=2" in first
    second = official.get("/p/parker/review?lang=en&page=2").get_data(as_text=True)
    assert "Förslag nummer 2" in second and "Förslag nummer 0" not in second
    assert "page=3" not in second and "page=1" in second
    # Past the end (say, after saving the last page): nothing to review, and a way back.
    third = official.get("/p/parker/review?lang=en&page=3").get_data(as_text=True)
    assert "No open proposals to review." in third and "page=2" in third


def test_audit_log_names_the_feasibility_in_the_readers_language(
    app: Any, users: Any, proc: Any
) -> None:
    """Probe3 F11: the Swedish log showed "— → feasible"."""
    pid = make_proposal(app, proc.process, users["participant"], area_id=proc.north)
    r = _review(_official(app), pid, feasibility="feasible", official_cost="85 000")
    assert r.status_code == 303
    admin = _official(app, "admin")
    sv = admin.get("/admin/processes/parker/audit?lang=sv").get_data(as_text=True)
    assert "— → Går att göra" in sv and "feasible" not in sv
    en = admin.get("/admin/processes/parker/audit?lang=en").get_data(as_text=True)
    assert "— → Feasible" in en


def test_the_review_page_reports_field_errors_and_its_own_refusal_at_once(
    app: Any, users: Any, proc: Any
) -> None:
    """A wrong cost and a rejection without an answer: both are said after one sending (they
    used to come in two rounds, the field error first)."""
    pid = make_proposal(app, proc.process, users["participant"])
    r = _review(_official(app), pid, official_cost="many", decision="reject")
    page = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "To reject a proposal, write a public answer that explains why." in page
    assert 'value="many"' in page  # the wrong cost is kept, with its own message
    assert "Give the cost as a whole number of kronor above zero" in page
    # Accepting with a wrong cost: the cost's own message only, not "needs a cost" besides.
    r = _review(_official(app), pid, feasibility="feasible", official_cost="many",
                decision="accept")  # fmt: skip
    assert r.status_code == 400
    assert "mark it feasible and give the official cost" not in r.get_data(as_text=True)
