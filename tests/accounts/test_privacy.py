"""Privacy: `pb privacy purge` deletes addresses past their time (and nothing else, and
nothing more when run again); a person downloads their data and deletes their account
(proposals and comments stay without a name, sessions end, the audit log keeps no name);
the privacy page in both languages; no form or template asks for a personal identity
number. On SQLite, and on PostgreSQL with PB_TEST_DATABASE_URL (the purge test above all:
the audit log's trigger there refuses any change to a row)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from pb import ROOT
from tests.conftest import login
from tests.voting.conftest import make_vote


def _count(db: Any, model: Any) -> int:
    db.expire_all()
    return int(db.scalar(sa.select(sa.func.count()).select_from(model)))


def _publish_at(db: Any, process_id: int, when: dt.datetime) -> None:
    from pb.results.models import ResultSnapshot

    db.add(ResultSnapshot(process_id=process_id, published_at=when, rule="greedy",
                          tie_break="lexicographic", data={}))  # fmt: skip
    db.commit()


def _follow(db: Any, process_id: int, email: str) -> None:
    from pb.proposals.models import Project
    from pb.results.models import ProjectFollow

    for project in db.scalars(sa.select(Project).where(Project.process_id == process_id)):
        db.add(ProjectFollow(project_id=project.id, email=email))
    db.commit()


def _purge(app: Any) -> str:
    from pb.cli import main

    result = app.test_cli_runner().invoke(main, ["privacy", "purge"])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def test_purge_deletes_addresses_past_their_time_only_and_is_idempotent(
    app: Any, make_process: Any, db: Any
) -> None:
    from pb.mail.models import MailOptOut, OutboxMessage
    from pb.results.models import ProjectFollow
    from pb.security import RateLimitHit
    from pb.voting.models import EmailClaim

    now = dt.datetime.now(dt.UTC)
    day = dt.timedelta(days=1)
    old = make_vote(app, make_process, slug="gammal")  # published 40 days ago
    older = make_vote(app, make_process, slug="aldre")  # published 800 days ago
    recent = make_vote(app, make_process, slug="ny")  # published 5 days ago
    unpublished = make_vote(app, make_process, slug="pagaende")  # still counting
    for vote, age in ((old, 40), (older, 800), (recent, 5)):
        _publish_at(db, vote.process_id, now - age * day)
    for vote in (old, older, recent, unpublished):
        db.add_all([EmailClaim(process_id=vote.process_id, address_key=f"{k:064x}")
                    for k in range(3)])  # fmt: skip
        _follow(db, vote.process_id, f"{vote.slug}@example.org")
    follows_per_process = _count(db, ProjectFollow) // 4
    assert follows_per_process > 0
    db.add_all([
        OutboxMessage(to="a@example.org", subject="s", body="b", sent_at=now - 31 * day),
        OutboxMessage(to="b@example.org", subject="s", body="b", failed_at=now - 40 * day),
        OutboxMessage(to="c@example.org", subject="s", body="b", sent_at=now - 2 * day),
        OutboxMessage(to="d@example.org", subject="s", body="b"),  # not sent yet
        MailOptOut(email="e@example.org", at=now - 900 * day),
        RateLimitHit(key="login.email:x@example.org", at=now - 2 * day),
        RateLimitHit(key="login.email:y@example.org", at=now - dt.timedelta(minutes=5)),
    ])  # fmt: skip
    db.commit()

    out = _purge(app)
    # Code records: 30 days (old, older); follows: 730 days (older only).
    assert out == (f"deleted: 6 voting-code e-mail records, {follows_per_process} project "
                   "follows, 2 sent e-mails, 1 rate-limit entries")  # fmt: skip
    claims = {pid for (pid,) in db.execute(sa.select(EmailClaim.process_id).distinct())}
    assert claims == {recent.process_id, unpublished.process_id}
    followers = {e for (e,) in db.execute(sa.select(ProjectFollow.email).distinct())}
    assert followers == {"gammal@example.org", "ny@example.org", "pagaende@example.org"}
    assert {m.to for m in db.scalars(sa.select(OutboxMessage))} == {
        "c@example.org",
        "d@example.org",
    }
    assert _count(db, MailOptOut) == 1  # an opt-out is kept: it is the promise not to mail
    assert [h.key for h in db.scalars(sa.select(RateLimitHit))] == ["login.email:y@example.org"]

    assert _purge(app) == ("deleted: 0 voting-code e-mail records, 0 project follows, "
                           "0 sent e-mails, 0 rate-limit entries")  # fmt: skip


def test_purge_follows_the_settings(make_app: Any, make_process: Any, db: Any) -> None:
    from pb.voting.models import EmailClaim

    app = make_app(PRIVACY_CODE_EMAIL_DAYS=3, PRIVACY_FOLLOW_DAYS=4)
    vote = make_vote(app, make_process)
    _publish_at(db, vote.process_id, dt.datetime.now(dt.UTC) - dt.timedelta(days=5))
    db.add(EmailClaim(process_id=vote.process_id, address_key="0" * 64))
    _follow(db, vote.process_id, "f@example.org")
    assert _purge(app).startswith("deleted: 1 voting-code e-mail records, ")
    assert _count(db, EmailClaim) == 0


def test_pb_privacy_is_listed_among_the_commands(app: Any) -> None:
    from pb.cli import APP_COMMANDS, main

    assert APP_COMMANDS["privacy"] == "pb.results.privacy:privacy_command"
    out = app.test_cli_runner().invoke(main, ["privacy", "--help"]).output
    assert "purge" in out


def _content(app: Any, db: Any, users: dict[str, Any], process_id: int) -> dict[str, int]:
    """participant: a published proposal with a comment, a draft, a support, a follow, a
    report; and a project follow by the same address."""
    from pb.moderation.models import Report, ReportReason
    from pb.proposals.models import Comment, Follow, Project, Proposal, ProposalStatus, Support
    from pb.results.models import ProjectFollow

    uid, other = users["participant"].id, users["participant2"].id
    now = dt.datetime.now(dt.UTC)
    published = Proposal(process_id=process_id, author_id=uid, status=ProposalStatus.PUBLISHED,
                         title="Parkour i parken", description="Ett förslag.", published_at=now)  # fmt: skip
    draft = Proposal(process_id=process_id, author_id=uid, status=ProposalStatus.DRAFT,
                     title="Hemligt utkast")  # fmt: skip
    theirs = Proposal(process_id=process_id, author_id=other, status=ProposalStatus.PUBLISHED,
                      title="Någon annans", published_at=now)  # fmt: skip
    db.add_all([published, draft, theirs])
    db.flush()
    comment = Comment(proposal_id=theirs.id, author_id=uid, body="Bra idé, jag håller med!")
    db.add(comment)
    db.flush()
    db.add_all([
        Support(proposal_id=theirs.id, user_id=uid),
        Follow(proposal_id=theirs.id, user_id=uid),
        Report(process_id=process_id, proposal_id=theirs.id, target=f"proposal:{theirs.id}",
               reporter_id=uid, reason=ReportReason.SPAM, note="dubblett"),
    ])  # fmt: skip
    project = db.scalar(sa.select(Project).where(Project.process_id == process_id))
    project.title, project.title_en = "Ny lekplats", "New playground"
    db.add(ProjectFollow(project_id=project.id, email="participant@example.org", locale="en"))
    db.commit()
    return {"published": published.id, "draft": draft.id, "theirs": theirs.id,
            "comment": comment.id}  # fmt: skip


def test_a_person_downloads_everything_stored_about_their_account(
    app: Any, make_process: Any, users: dict[str, Any], db: Any
) -> None:
    vote = make_vote(app, make_process)
    ids = _content(app, db, users, vote.process_id)
    client = app.test_client()
    assert client.get("/account/data.json").status_code == 302  # log in first
    login(client, "participant")
    page = client.get("/account/data?lang=en")
    assert page.status_code == 200 and "Download your data" in page.text
    r = client.get("/account/data.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Content-Disposition"].startswith("attachment;")
    data = json.loads(r.data)
    assert data["account"]["email"] == "participant@example.org"
    assert data["account"]["display_name"] == "Participant"
    assert "password" not in json.dumps(data["account"])
    assert {p["id"] for p in data["proposals"]["proposals"]} == {ids["published"], ids["draft"]}
    assert [c["body"] for c in data["proposals"]["comments"]] == ["Bra idé, jag håller med!"]
    assert [s["proposal_id"] for s in data["proposals"]["supports"]] == [ids["theirs"]]
    assert [f["proposal_id"] for f in data["proposals"]["follows"]] == [ids["theirs"]]
    assert [r["note"] for r in data["reports"]] == ["dubblett"]
    [follow] = data["results"]["project_follows"]
    assert (follow["title"], follow["language"]) == ("New playground", "en")  # as its mails
    assert [e["action"] for e in data["audit_log"]] == ["user.register", "user.login"]
    assert data["voting"] == {"codes_by_email_in_processes": [], "code_batches_issued": 0,
                              "paper_ballots_entered": 0}  # fmt: skip
    assert data["official_of_processes"] == []
    # The record that the address got a code by e-mail (a keyed HMAC, no address) is found.
    from pb.db import get_session
    from pb.voting.models import EmailClaim
    from pb.voting.selfservice import address_key

    with app.app_context():
        session = get_session()
        key = address_key(vote.process(session), "Participant@example.org")
        session.add(EmailClaim(process_id=vote.process_id, address_key=key))
        session.add(EmailClaim(process_id=vote.process_id, address_key="f" * 64))
        session.commit()
    again = json.loads(client.get("/account/data.json").data)
    assert again["voting"]["codes_by_email_in_processes"] == [vote.slug]
    official = app.test_client()
    login(official, "official")
    theirs = json.loads(official.get("/account/data.json").data)
    assert theirs["official_of_processes"] == [vote.slug]
    assert theirs["voting"]["codes_by_email_in_processes"] == []
    # Another person's data is not in it.
    assert "Någon annans" not in json.dumps(data["proposals"]["proposals"])
    assert "participant2@example.org" not in r.text


def test_deleting_an_account_keeps_proposals_without_a_name_and_ends_sessions(
    app: Any, make_process: Any, users: dict[str, Any], db: Any
) -> None:
    from pb.accounts.models import User
    from pb.audit import AuditEvent
    from pb.moderation.models import Report
    from pb.proposals.models import Comment, Follow, Proposal, Support
    from pb.results.models import ProjectFollow

    vote = make_vote(app, make_process)
    ids = _content(app, db, users, vote.process_id)
    uid = users["participant"].id
    browser, other_browser = app.test_client(), app.test_client()
    login(browser, "participant")
    login(other_browser, "participant")

    wrong = browser.post("/account/delete?lang=en", data={"password": "nope", "understood": "y"})
    assert wrong.status_code == 400 and "This is not your current password." in wrong.text
    unticked = browser.post("/account/delete?lang=en", data={"password": "password-participant"})
    assert unticked.status_code == 400 and "Tick the box to confirm." in unticked.text
    assert db.get(User, uid).display_name == "Participant"  # nothing happened yet

    r = browser.post("/account/delete?lang=en",
                     data={"password": "password-participant", "understood": "y"})  # fmt: skip
    assert r.status_code == 303 and r.headers["Location"] == "/"
    db.expire_all()
    user = db.get(User, uid)
    assert user.display_name == "" and "participant" not in user.email
    assert not user.active and user.locale is None
    # Every session has ended: this browser's and the other one's.
    for client in (browser, other_browser):
        assert client.get("/account/data").status_code == 302
    # Logging in with the old address and password no longer works.
    again = app.test_client().post("/account/login", data={
        "email": "participant@example.org", "password": "password-participant"})  # fmt: skip
    assert again.status_code == 400
    # Published proposal and comment stay, without a name; the draft is gone.
    assert db.get(Proposal, ids["published"]).author_id is None
    assert db.get(Comment, ids["comment"]).author_id is None
    assert db.get(Proposal, ids["draft"]) is None
    page = app.test_client().get(f"/p/{vote.slug}/proposals/{ids['theirs']}?lang=en")
    assert page.status_code == 200
    assert "Former participant" in page.text and "Participant</strong>" not in page.text
    page = app.test_client().get(f"/p/{vote.slug}/proposals/{ids['published']}?lang=en")
    assert page.status_code == 200 and "Parkour i parken" in page.text
    assert "Proposed by" not in page.text
    # Follows (a wish for e-mail) are gone; the support still counts, tied to no one.
    assert _count(db, Follow) == 0 and _count(db, ProjectFollow) == 0
    assert db.scalar(sa.select(Support.user_id)) == uid
    assert db.scalar(sa.select(Report.reporter_id)) == uid
    # The audit log was not changed (append-only) and the account it points at has no name.
    events = db.scalars(
        sa.select(AuditEvent).where(AuditEvent.actor_id == uid).order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events][-1] == "user.delete"
    for e in events:  # no name, no address (the role "participant" is no name)
        assert "Participant" not in json.dumps(e.data) + e.reason
        assert "@" not in json.dumps(e.data) + e.reason
    # A new account may be made with the freed address.
    assert db.scalar(sa.select(User).where(User.email == "participant@example.org")) is None


def test_the_only_admin_cannot_delete_their_account_but_another_official_can(
    app: Any, make_process: Any, users: dict[str, Any], db: Any
) -> None:
    from pb.accounts.models import User
    from pb.audit import AuditAction, record
    from pb.db import get_session
    from pb.processes.models import ProcessOfficial

    process = make_process()
    with app.app_context():  # an act of the official's in the process, on its audit page
        session = get_session()
        record(session, AuditAction.PROPOSAL_SEEN, actor=session.get(User, users["official"].id),
               subject_type="proposals", subject_id=1, process_id=process.id)  # fmt: skip
        session.commit()
    admin = app.test_client()
    login(admin, "admin")
    log = f"/admin/processes/{process.slug}/audit?lang=en"
    assert "Official looked at the new proposal #1" in admin.get(log).text
    r = admin.post(
        "/account/delete?lang=en", data={"password": "password-admin", "understood": "y"}
    )
    assert r.status_code == 403 and "only administrator" in r.text
    assert db.get(User, users["admin"].id).active
    official = app.test_client()
    login(official, "official")
    r = official.post("/account/delete",
                      data={"password": "password-official", "understood": "y"})  # fmt: skip
    assert r.status_code == 303
    assert _count(db, ProcessOfficial) == 0
    page = admin.get(log).text
    assert "Official looked at" not in page
    # the entry stays, with a number, no name
    assert f"a former participant (account #{users['official'].id})" in page


def test_privacy_page_in_both_languages_is_linked_from_every_page(
    make_app: Any, client: Any
) -> None:
    en = client.get("/privacy?lang=en")
    assert en.status_code == 200
    assert "The municipality that runs this citizen budget is responsible" in en.text
    assert "personnummer" in en.text and "30 days after the results" in en.text
    sv = client.get("/privacy?lang=sv")
    assert sv.status_code == 200 and "personnummer" in sv.text
    assert "radera" in sv.text.lower() and "30 dagar" in sv.text
    assert 'href="/privacy"' in client.get("/?lang=en").text
    named = make_app(PRIVACY_CONTROLLER="Lunds kommun", PRIVACY_CONTACT="dataskydd@lund.se")
    page = named.test_client().get("/privacy?lang=en").text
    assert "Lunds kommun is responsible" in page and "dataskydd@lund.se" in page


ID_NUMBER = re.compile(r"person(al)?[\s_-]*(identity[\s_-]*)?(number|nummer|nr)|personnummer|"
                       r"\bssn\b|social[\s_-]*security|national[\s_-]*id", re.I)  # fmt: skip


def test_no_form_or_template_asks_for_a_personal_identity_number(app: Any) -> None:
    """Every form field (name, label, description) of every form class, and every input,
    select and textarea of every template: none asks for a personnummer."""
    import importlib
    import pkgutil

    from wtforms.fields.core import UnboundField

    import pb
    from pb.forms import FlaskForm, Form

    checked = 0
    with app.test_request_context("/?lang=en"):
        for info in pkgutil.walk_packages(pb.__path__, "pb."):
            if not info.name.endswith("forms"):
                continue
            module = importlib.import_module(info.name)
            for form in vars(module).values():
                if not (isinstance(form, type) and issubclass(form, FlaskForm | Form)):
                    continue
                for name in dir(form):
                    f = getattr(form, name)
                    if isinstance(f, UnboundField):
                        text = " ".join(map(str, (name, *f.args, *f.kwargs.values())))
                        assert not ID_NUMBER.search(text), f"{form.__name__}.{name}: {text}"
                        checked += 1
    assert checked > 30
    inputs = 0
    for path in Path(ROOT, "templates").rglob("*.html"):
        for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", path.read_text()):
            assert not ID_NUMBER.search(tag), f"{path}: {tag}"
            inputs += 1
    assert inputs > 10
    # The check itself can fail: it recognises the field it is looking for.
    assert ID_NUMBER.search('<input name="personnummer">')
    assert ID_NUMBER.search("personal_identity_number Personal identity number")
