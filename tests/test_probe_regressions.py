"""Regressions found by the probe of the running demo (issue #8): the probe's own requests,
one section per item of the issue. Each test failed before its fix."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_token, login
from tests.proposals.conftest import make_proc
from tests.proposals.helpers import get, make_proposal, proposal_data

# -- item 1: withdrawing a draft published it; Withdraw acted in one click -----------------

YES = {"confirm": "yes"}  # what the confirmation page sends


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 120, 40)).save(out, "PNG")
    return out.getvalue()


def _public_answers(app: Any, slug: str, pid: int, image: str | None = None) -> dict[str, Any]:
    """What anyone (not logged in) gets for the proposal on every public path."""
    anyone = app.test_client()
    out = {
        "page": anyone.get(f"/p/{slug}/proposals/{pid}").status_code,
        "api": anyone.get(f"/api/v1/proposals/{pid}").status_code,
        "csv": anyone.get(f"/p/{slug}/proposals.csv").get_data(as_text=True),
        "json": anyone.get(f"/p/{slug}/proposals.json").get_data(as_text=True),
        "list": anyone.get(f"/p/{slug}/proposals?status=withdrawn").get_data(as_text=True),
        "api_list": anyone.get(f"/api/v1/processes/{slug}/proposals?status=withdrawn").get_json(),
        "similar": anyone.get(f"/p/{slug}/proposals/similar?title=Hemlig+idé").get_json(),
    }
    if image:
        out["image"] = anyone.get(f"/uploads/proposals/{image}").status_code
    return out


def _assert_private(answers: dict[str, Any], title: str) -> None:
    assert answers["page"] == 404 and answers["api"] == 404
    assert title not in answers["csv"] and title not in answers["json"]
    assert title not in answers["list"]
    assert answers["api_list"]["data"] == []
    assert answers["similar"]["proposals"] == []
    if "image" in answers:
        assert answers["image"] == 404


def test_item1_withdrawing_a_draft_deletes_it_and_never_makes_it_public(
    app: Any, client: Any, users: Any, make_process: Any, db: Any
) -> None:
    from pb.proposals.models import Proposal

    proc = make_proc(app, make_process)
    login(client, "participant")
    title = "Hemlig idé om parken"
    r = client.post("/p/parker/proposals/new?lang=en", data=proposal_data(
        title=title, consent=None, action="draft",
        image=(io.BytesIO(_png()), "park.png")))  # fmt: skip
    assert r.status_code == 303, r.get_data(as_text=True)
    draft = db.scalars(sa.select(Proposal)).one()
    assert draft.status.value == "draft" and draft.image
    image, pid = draft.image, draft.id
    assert client.get(f"/uploads/proposals/{image}").status_code == 200  # the author sees it

    r = client.post(f"/p/parker/proposals/{pid}/withdraw?lang=en", data=YES)
    assert r.status_code == 303 and r.headers["Location"].endswith("/p/parker/proposals/mine")
    assert "Your draft is deleted." in client.get("/p/parker/proposals/mine?lang=en").get_data(
        as_text=True
    )
    db.expire_all()
    assert db.scalars(sa.select(Proposal)).all() == []  # deleted, not "withdrawn"
    assert not (tmp_uploads(app) / image).exists()
    _assert_private(_public_answers(app, proc.slug, pid, image), title)
    assert client.get(f"/p/parker/proposals/{pid}").status_code == 404


def tmp_uploads(app: Any) -> Any:
    from pathlib import Path

    return Path(app.config["UPLOAD_DIR"]) / "proposals"


def test_item1_a_draft_withdrawn_before_the_fix_stays_private(
    app: Any, client: Any, users: Any, make_process: Any, db: Any
) -> None:
    """Databases where a draft was already "withdrawn" (never published): still private."""
    from pb.proposals.models import Proposal, ProposalStatus

    proc = make_proc(app, make_process)
    title = "Hemlig idé om gatan"
    pid = make_proposal(app, proc.process, users["participant"], title=title, publish=False)
    db.get(Proposal, pid).status = ProposalStatus.WITHDRAWN  # what withdrawing did
    db.commit()
    _assert_private(_public_answers(app, proc.slug, pid), title)
    login(client, "participant")
    assert client.get(f"/p/parker/proposals/{pid}").status_code == 200  # its author's still


def test_item1_withdraw_asks_first_without_javascript_and_with_csrf(
    make_app: Any, users: Any, make_process: Any, db: Any
) -> None:
    from pb.proposals.models import Proposal

    app = make_app(WTF_CSRF_ENABLED=True)
    proc = make_proc(app, make_process)
    pid = make_proposal(app, proc.process, users["participant"])
    client = app.test_client()
    page = client.get("/account/login").get_data(as_text=True)
    client.post("/account/login", data={"email": "participant@example.org",
                "password": "password-participant", "csrf_token": csrf_token(page)})  # fmt: skip
    html = client.get(f"/p/parker/proposals/{pid}?lang=en").get_data(as_text=True)
    # The page links to a confirmation page; it has no one-click withdraw form.
    assert f'href="/p/parker/proposals/{pid}/withdraw"' in html
    assert f'action="/p/parker/proposals/{pid}/withdraw"' not in html
    r = client.get(f"/p/parker/proposals/{pid}/withdraw?lang=en")
    confirm = r.get_data(as_text=True)
    assert r.status_code == 200 and "Withdraw your proposal?" in confirm
    assert 'name="confirm" value="yes"' in confirm
    token = csrf_token(confirm)
    # A POST that did not come from the confirmation page asks first and changes nothing.
    r = client.post(f"/p/parker/proposals/{pid}/withdraw", data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/proposals/{pid}/withdraw")
    assert get(app, Proposal, pid).status.value == "published"
    # Without the CSRF token it is refused.
    assert client.post(f"/p/parker/proposals/{pid}/withdraw", data=YES).status_code == 400
    assert get(app, Proposal, pid).status.value == "published"
    r = client.post(f"/p/parker/proposals/{pid}/withdraw", data={**YES, "csrf_token": token})
    assert r.status_code == 303
    assert get(app, Proposal, pid).status.value == "withdrawn"


def _accept(app: Any, pid: int) -> None:
    official = app.test_client()
    login(official, "official")
    r = official.post(f"/p/parker/review/{pid}", data={"feasibility": "feasible",
                      "official_cost": "80000", "answer": "Bra!", "decision": "accept"})  # fmt: skip
    assert r.status_code == 303


def test_item1_withdraw_is_offered_only_where_the_service_allows_it(
    app: Any, client: Any, users: Any, make_process: Any, db: Any
) -> None:
    from pb.processes.models import Process
    from pb.proposals.models import Proposal

    proc = make_proc(app, make_process)
    draft = make_proposal(app, proc.process, users["participant"], title="Utkast", publish=False)
    accepted = make_proposal(app, proc.process, users["participant"], title="Godkänd")
    _accept(app, accepted)
    login(client, "participant")
    html = client.get(f"/p/parker/proposals/{draft}?lang=en").get_data(as_text=True)
    assert "Delete this draft" in html and "Withdraw my proposal" not in html
    confirm = client.get(f"/p/parker/proposals/{draft}/withdraw?lang=en").get_data(as_text=True)
    assert "Delete your draft?" in confirm and "Yes, delete my draft" in confirm
    # On the ballot, before voting: offered, and the confirmation says it leaves the ballot.
    confirm = client.get(f"/p/parker/proposals/{accepted}/withdraw?lang=en").get_data(as_text=True)
    assert "takes it off the ballot" in confirm
    # Once voting has started the service refuses, so no button, and the reason is given.
    voting = make_proc(app, make_process, slug="rostning", running="voting")
    db.get(Proposal, accepted).process_id = db.get(Process, voting.process.id).id
    db.commit()
    html = client.get(f"/p/rostning/proposals/{accepted}?lang=en").get_data(as_text=True)
    assert "Withdraw my proposal" not in html and "/withdraw" not in html
    r = client.get(f"/p/rostning/proposals/{accepted}/withdraw?lang=en")
    assert r.status_code == 409
    assert "can no longer be withdrawn: voting has started" in r.get_data(as_text=True)
    assert 'name="confirm"' not in r.get_data(as_text=True)
    r = client.post(f"/p/rostning/proposals/{accepted}/withdraw?lang=en", data=YES)
    assert r.status_code == 303
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "can no longer be withdrawn: voting has started" in page
    assert get(app, Proposal, accepted).status.value == "accepted"
    # Someone else's proposal: no button, and the confirmation page refuses.
    other = app.test_client()
    login(other, "participant2")
    r = other.get(f"/p/rostning/proposals/{accepted}/withdraw?lang=en")
    assert r.status_code == 403


# -- item 2: a title with a line break jammed all outgoing mail ---------------------------

POISON = "Poison\r\nBcc: everyone@example.org"


def test_item2_title_line_breaks_are_dropped_and_the_answer_mail_goes_out(
    make_app: Any, users: Any, make_process: Any, smtp_server: Any, db: Any
) -> None:
    from pb.cli import main
    from pb.mail.models import OutboxMessage
    from pb.proposals.models import Proposal

    app = make_app(MAIL_PORT=smtp_server.port)
    proc = make_proc(app, make_process)
    client = app.test_client()
    login(client, "participant")
    r = client.post("/p/parker/proposals/new?lang=en",
                    data=proposal_data(title=POISON, category=proc.parks))  # fmt: skip
    assert r.status_code == 303, r.get_data(as_text=True)
    proposal = db.scalars(sa.select(Proposal)).one()
    assert proposal.title == "Poison Bcc: everyone@example.org"
    official = app.test_client()
    login(official, "official")
    r = official.post(f"/p/parker/review/{proposal.id}",
                      data={"feasibility": "feasible", "answer": "Vi tittar på det."})  # fmt: skip
    assert r.status_code == 303
    assert db.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1
    result = app.test_cli_runner().invoke(main, ["mail", "send"])
    assert result.exit_code == 0, result.output
    [msg] = smtp_server.messages
    assert msg["Bcc"] is None and "\n" not in msg["Subject"]
    assert "Poison Bcc: everyone@example.org" in msg["Subject"]


def _outbox(app: Any, *rows: tuple[str, str]) -> list[int]:
    """Rows as they may already be stored (written before the form dropped line breaks)."""
    from pb.db import get_session
    from pb.mail.models import OutboxMessage

    with app.app_context():
        session = get_session()
        made = [OutboxMessage(to=to, subject=subject, body="Hej!") for to, subject in rows]
        session.add_all(made)
        session.commit()
        return [m.id for m in made]


def test_item2_a_stored_subject_with_a_line_break_is_sent_on_one_line(
    make_app: Any, smtp_server: Any, db: Any
) -> None:
    from pb.mail.services import send_pending

    app = make_app(MAIL_PORT=smtp_server.port)
    _outbox(app, ("a@example.org", "Först"), ("b@example.org", POISON),
            ("c@example.org", "Sist"))  # fmt: skip
    with app.app_context():
        assert send_pending().sent == 3
        assert send_pending().sent == 0
    subjects = {m["To"]: m["Subject"] for m in smtp_server.messages}
    assert subjects == {"a@example.org": "Först", "c@example.org": "Sist",
                        "b@example.org": "Poison Bcc: everyone@example.org"}  # fmt: skip
    assert all(m["Bcc"] is None for m in smtp_server.messages)


def test_item2_one_bad_message_fails_alone_and_the_others_go_exactly_once(
    make_app: Any, smtp_server: Any, db: Any
) -> None:
    from pb.cli import main
    from pb.mail.models import OutboxMessage

    app = make_app(MAIL_PORT=smtp_server.port)
    good1, bad, good2 = _outbox(app, ("a@example.org", "Ett"),
                                ("x@example.org\r\nBcc: everyone@example.org", "Två"),
                                ("c@example.org", "Tre"))  # fmt: skip
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(main, ["mail", "send"])
        assert result.exit_code == 0, result.output
    assert sorted(m["To"] for m in smtp_server.messages) == ["a@example.org", "c@example.org"]
    rows = {r.id: r for r in db.scalars(sa.select(OutboxMessage))}
    assert rows[good1].sent_at and rows[good2].sent_at and rows[good1].attempts == 1
    assert rows[good1].last_error == ""
    assert rows[bad].failed_at is not None and rows[bad].sent_at is None
    assert rows[bad].attempts == 1 and "x@example.org" in rows[bad].last_error


def test_item2_a_run_that_stops_mid_way_never_sends_twice(
    make_app: Any, smtp_server: Any, db: Any
) -> None:
    """Claimed messages are marked before they are handed over: a run that dies between
    the two leaves them marked (at most once), and the next run sends only new mail."""
    from pb.mail import services
    from pb.mail.models import OutboxMessage

    app = make_app(MAIL_PORT=smtp_server.port)
    [first] = _outbox(app, ("a@example.org", "Ett"))
    with app.app_context():
        from sqlalchemy.orm import Session

        from pb.db import get_engine

        with Session(get_engine()) as session:  # the run claims, then dies
            claimed = services._claim(session, 10, dt.datetime.now(dt.UTC), "pb@example.org",
                                      services.SendReport())  # fmt: skip
        assert [row_id for row_id, _ in claimed] == [first]
        [second] = _outbox(app, ("b@example.org", "Två"))
        assert services.send_pending().sent == 1
    assert [m["To"] for m in smtp_server.messages] == ["b@example.org"]
    row = db.get(OutboxMessage, first)
    assert row.sent_at is not None and row.last_error == services.SENDING
    assert db.get(OutboxMessage, second).last_error == ""


def test_item2_every_text_field_drops_control_characters(app: Any) -> None:
    from pb.accounts.forms import RegisterForm
    from pb.proposals.forms import CommentForm

    with app.test_request_context(method="POST", data={
        "display_name": "Eva\r\nBcc: x\x00\x07", "email": " eva@example.org\n",
        "password": "pass\tword\x01-long", "body": "Rad ett\r\nRad två\x1b[31m\tslut",
    }):  # fmt: skip
        form = RegisterForm()
        assert form.display_name.data == "Eva Bcc: x"
        assert form.email.data == "eva@example.org"
        assert form.password.data == "pass\tword\x01-long"  # passwords are kept as typed
        assert CommentForm().body.data == "Rad ett\nRad två[31m\tslut"


def test_item2_every_form_uses_the_cleaning_base_classes() -> None:
    """So a new form cannot forget the filter: every form class in pb derives from pb.forms."""
    import importlib
    import pkgutil

    import wtforms

    import pb
    from pb.forms import FlaskForm, Form

    for info in pkgutil.walk_packages(pb.__path__, "pb."):
        if info.name.endswith("forms"):
            importlib.import_module(info.name)

    def subclasses(cls: type) -> list[type]:
        return [c for s in cls.__subclasses__() for c in (s, *subclasses(s))]

    ours = [c for c in subclasses(wtforms.Form) if c.__module__.startswith("pb.")]
    assert len(ours) >= 10
    unclean = [c for c in ours if not issubclass(c, (FlaskForm, Form))]
    assert unclean == []


# -- item 6 (display name; no-store on personal pages) ----------------------------------


@pytest.mark.parametrize("name", ["   ", "\u200b\u200b", "\u0301", "Eve\u202egnp.exe",
                                  "\u2067Admin\u2069"])  # fmt: skip
def test_item6_a_display_name_needs_a_visible_character_and_no_bidi_controls(
    app: Any, client: Any, db: Any, name: str
) -> None:
    from pb.accounts.models import User

    r = client.post("/account/register?lang=en", data={
        "display_name": name, "email": "eve@example.org", "password": "correct horse",
        "confirm": "correct horse", "locale": "sv"})  # fmt: skip
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "at least one visible character" in html or "change the direction" in html
    assert 'value="eve@example.org"' in html  # nothing typed is lost
    assert db.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_item6_a_display_name_is_refused_by_the_service_too(app: Any) -> None:
    from pb.accounts import services
    from pb.db import get_session

    with app.test_request_context(), pytest.raises(services.BadDisplayName):
        services.register(get_session(), email="e@example.org", password="x" * 12,
                          display_name="\u202e ")  # fmt: skip
    with app.test_request_context():
        user = services.register(get_session(), email="a@example.org", password="x" * 12,
                                 display_name=" Åsa ")  # fmt: skip
        assert user.display_name == "Åsa"


def test_item6_pages_for_a_logged_in_person_are_not_stored(
    app: Any, client: Any, users: Any, make_process: Any
) -> None:
    make_proc(app, make_process)
    anyone = app.test_client()
    assert "no-store" not in anyone.get("/p/parker/proposals").headers.get("Cache-Control", "")
    login(client, "participant")
    for path in ("/p/parker/proposals/mine", "/p/parker/proposals", "/"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    official = app.test_client()
    login(official, "official")
    for path in ("/moderation", "/p/parker/moderation"):
        r = official.get(path)
        assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store", path
    assert anyone.get("/account/login").headers["Cache-Control"] == "no-store"
    static = client.get("/static/favicon.svg")
    static.close()
    assert static.status_code == 200 and "no-store" not in static.headers["Cache-Control"]


# -- item 7: the interface language flipped at log-in --------------------------------------


def test_item7_logging_in_keeps_the_interface_language(
    app: Any, client: Any, users: Any, db: Any
) -> None:
    from pb.accounts.models import User

    db.get(User, users["participant"].id).locale = "sv"  # Swedish e-mail
    db.commit()
    headers = {"Accept-Language": "en-GB,en;q=0.9"}
    assert 'lang="en"' in client.get("/", headers=headers).get_data(as_text=True)
    r = client.post("/account/login", headers=headers, data={
        "email": "participant@example.org", "password": "password-participant"})  # fmt: skip
    assert r.status_code == 303
    html = client.get("/", headers=headers).get_data(as_text=True)
    assert 'lang="en"' in html and "Log out" in html
    # The language switch still wins over the browser.
    client.post("/lang", data={"lang": "sv", "next": "/"}, headers=headers)
    assert 'lang="sv"' in client.get("/", headers=headers).get_data(as_text=True)
    assert db.get(User, users["participant"].id).locale == "sv"  # the mail setting is kept
