"""Regressions found by the probe of the running demo (issue #8): the probe's own requests,
one section per item of the issue. Each test failed before its fix."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_token, login, process_changes
from tests.processes.test_processes import create, form_data
from tests.proposals.conftest import make_proc
from tests.proposals.helpers import get, make_proposal, proposal_data, submit

HUGE = "9" * 400

# == Item 3: registration is neither rate-limited nor discreet =====================


def _register(client: Any, email: str, ip: str = "192.0.2.1") -> Any:
    return client.post("/account/register?lang=en", data={"email": email, "locale": "sv"},
                       environ_base={"REMOTE_ADDR": ip})  # fmt: skip


def test_item3_registration_is_rate_limited_per_address(make_app: Any) -> None:
    app = make_app(REGISTER_MAX_PER_IP=3)
    client = app.test_client()
    for n in range(3):
        assert _register(client, f"person{n}@example.org").status_code == 303
    r = _register(client, "person3@example.org")
    assert r.status_code == 429
    assert "Too many accounts have been asked for. Try again in 60 minutes." in r.get_data(
        as_text=True
    )
    r = client.post("/account/register?lang=sv", data={"email": "p@example.org", "locale": "sv"},
                    environ_base={"REMOTE_ADDR": "192.0.2.1"})  # fmt: skip
    assert r.status_code == 429 and "Försök igen om 60 minuter." in r.get_data(as_text=True)
    assert _register(client, "person3@example.org", ip="192.0.2.2").status_code == 303


def test_item3_registration_is_rate_limited_overall(make_app: Any, db: Any) -> None:
    from pb.mail.models import OutboxMessage

    app = make_app(REGISTER_MAX_TOTAL=4)
    client = app.test_client()
    for n in range(4):
        assert _register(client, f"person{n}@example.org", ip=f"192.0.2.{n}").status_code == 303
    r = _register(client, "person4@example.org", ip="198.51.100.7")
    assert r.status_code == 429
    assert db.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 4


def test_item3_one_address_gets_a_few_mails_an_hour_and_the_same_answer(
    make_app: Any, db: Any
) -> None:
    from pb.mail.models import OutboxMessage

    app = make_app()
    client = app.test_client()
    for n in range(5):
        r = _register(client, "target@example.org", ip=f"192.0.2.{n}")
        assert r.status_code == 303 and r.headers["Location"] == "/account/register/sent"
    assert db.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 3


def test_item3_a_taken_address_is_answered_exactly_like_a_new_one(
    make_app: Any, users: Any, db: Any, smtp_server: Any
) -> None:
    from pb.accounts.models import User
    from pb.cli import main
    from pb.db import get_engine

    app = make_app(MAIL_PORT=smtp_server.port)
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    sa.event.listen(get_engine(app), "before_cursor_execute", count)
    answers = []
    for email in ("participant@example.org", "newcomer@example.org"):
        statements.clear()
        client = app.test_client()
        r = _register(client, email)
        page = client.get(r.headers["Location"] + "?lang=en").get_data(as_text=True)
        page = re.sub(r'name="csrf_token" value="[^"]+"', "", page)  # one per browser session
        answers.append((r.status_code, r.headers["Location"], page, len(statements)))
    sa.event.remove(get_engine(app), "before_cursor_execute", count)
    assert answers[0] == answers[1]  # status, where it leads, the page, and the work done
    assert answers[0][0] == 303
    assert db.scalar(sa.select(sa.func.count()).select_from(User)) == 5  # the fixture's five
    result = app.test_cli_runner().invoke(main, ["mail", "send"])
    assert "sent 2" in result.output, result.output
    owner, newcomer = smtp_server.messages
    assert owner["To"] == "participant@example.org"
    assert (
        "Det finns redan ett konto med adressen." in owner.get_content()
    )  # in the owner's language
    assert "/account/login" in owner.get_content() and "/finish/" not in owner.get_content()
    assert newcomer["To"] == "newcomer@example.org"
    assert "/account/register/finish/" in newcomer.get_content()


def test_item3_the_registration_link_is_bound_to_its_purpose(app: Any, client: Any) -> None:
    from pb import tokens

    with app.test_request_context():
        unsubscribe = tokens.dumps("unsubscribe", {"e": "x@example.org", "l": "sv"})
    r = client.get(f"/account/register/finish/{unsubscribe}?lang=en")
    assert r.status_code == 400
    assert "This link is not valid or has expired." in r.get_data(as_text=True)


# == Item 4: behind a proxy, one person could lock everyone out =========================


def _fail_logins(client: Any, times: int, forwarded_for: str) -> None:
    for n in range(times):  # each on another address: only the IP address limit counts them
        r = client.post("/account/login",
                        data={"email": f"nobody{n}.{forwarded_for}@example.org", "password": "x"},
                        environ_base={"REMOTE_ADDR": "10.0.0.1"},
                        headers={"X-Forwarded-For": forwarded_for})  # fmt: skip
        assert r.status_code == 400


def _login_from(client: Any, forwarded_for: str) -> Any:
    return client.post(
        "/account/login",
        data={"email": "participant@example.org", "password": "password-participant"},
        environ_base={"REMOTE_ADDR": "10.0.0.1"},
        headers={"X-Forwarded-For": forwarded_for},
    )


def test_item4_behind_a_trusted_proxy_limits_count_each_client(make_app: Any, users: Any) -> None:
    app = make_app(TRUSTED_PROXIES=1, LOGIN_MAX_ATTEMPTS=2)  # 8 failures per IP address
    client = app.test_client()
    _fail_logins(client, 8, "203.0.113.9")
    assert _login_from(client, "203.0.113.9").status_code == 429  # the one who failed
    assert _login_from(client, "198.51.100.20").status_code == 303  # everyone else


def test_item4_without_trusted_proxies_forwarded_headers_are_ignored(
    make_app: Any, users: Any
) -> None:
    from pb.security import client_ip

    app = make_app(LOGIN_MAX_ATTEMPTS=2)
    assert app.config["TRUSTED_PROXIES"] == 0  # off by default
    with app.test_request_context(environ_base={"REMOTE_ADDR": "10.0.0.1"},
                                  headers={"X-Forwarded-For": "203.0.113.9"}):  # fmt: skip
        assert client_ip() == "10.0.0.1"
    client = app.test_client()
    # Forging the header does not escape the limit of the address that really connects.
    for n in range(8):
        _fail_logins(client, 1, f"203.0.113.{n}")
    assert _login_from(client, "198.51.100.20").status_code == 429


@pytest.mark.parametrize("proxies,seen", [
    (0, "http 10.0.0.1"),
    (1, "https 203.0.113.9"),
    # Two proxies: the address the second-to-last proxy was reached from.
    (2, "https 198.51.100.1"),
])  # fmt: skip
def test_item4_what_the_app_sees_follows_the_number_of_trusted_proxies(
    make_app: Any, proxies: int, seen: str
) -> None:
    from flask import request

    app = make_app(TRUSTED_PROXIES=proxies)
    app.add_url_rule("/_seen", "seen", lambda: f"{request.scheme} {request.remote_addr}")
    r = app.test_client().get("/_seen", environ_base={"REMOTE_ADDR": "10.0.0.1"}, headers={
        "X-Forwarded-For": "198.51.100.1, 203.0.113.9", "X-Forwarded-Proto": "https, https",
    })  # fmt: skip
    assert r.get_data(as_text=True) == seen


# == Item 5: 500s from officials' and admins' forms ======================================


@pytest.mark.parametrize("field", [
    "budget", "min_age", "max_projects", "min_projects", "min_budget_share_pct", "points_total",
    "max_points_per_project", "areas-0-budget",
])  # fmt: skip
def test_item5_a_huge_number_in_the_process_form_is_refused_not_a_500(
    client: Any, users: Any, field: str
) -> None:
    login(client, "admin")
    extra = {"ballot_type": "cumulative", "points_total": "10"} if "points" in field else {}
    r = create(client, **{**extra, field: HUGE})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "Give a whole number from" in html
    assert HUGE in html  # what was typed is shown again


def test_item5_a_huge_proposal_number_to_merge_into_is_refused_not_a_500(
    app: Any, users: Any, make_process: Any
) -> None:
    proc = make_proc(app, make_process)
    pid = make_proposal(app, proc.process, users["participant"])
    official = app.test_client()
    login(official, "official")
    r = official.post(f"/p/parker/review/{pid}?lang=en", data={
        "feasibility": "", "official_cost": "", "answer": "", "decision": "merge",
        "merge_into": HUGE,
    })  # fmt: skip
    assert r.status_code == 400
    assert "Not a proposal number." in r.get_data(as_text=True)


@pytest.mark.parametrize("field,value", [
    ("phases-proposals-starts_at", "0001-01-01T00:00"),
    ("phases-voting-ends_at", "9999-12-31T23:59"),
    ("decision_date", "0001-01-01"),
    ("decision_date", "9999-12-31"),
])  # fmt: skip
def test_item5_dates_far_from_now_are_refused(
    client: Any, users: Any, field: str, value: str
) -> None:
    login(client, "admin")
    r = create(client, **{field: value})
    assert r.status_code == 400
    assert "Give a date between the years 2000 and 2200." in r.get_data(as_text=True)


def test_item5_a_decision_date_in_range_saves_and_the_form_saves_again(
    client: Any, users: Any
) -> None:
    login(client, "admin")
    assert create(client, decision_date="2000-01-01").status_code == 303
    page = client.get("/admin/processes/lund-2027/edit?lang=en").get_data(as_text=True)
    assert 'value="2000-01-01"' in page
    r = client.post("/admin/processes/lund-2027/edit?lang=en", data=form_data())
    assert r.status_code == 303, r.get_data(as_text=True)


def _day(offset: int) -> str:
    return (dt.date.today() + dt.timedelta(days=offset)).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize("phases,message", [
    # The probe's case: a proposal phase that runs on into voting.
    ({"phases-proposals-ends_at": _day(50), "phases-review-starts_at": "",
      "phases-review-ends_at": ""},
     "The phase “Voting” must start when the phase “Proposals” ends or later."),
    ({"phases-review-starts_at": _day(10)},
     "The phase “Review” must start when the phase “Proposals” ends or later."),
    # Voting before proposals, without review.
    ({"phases-review-starts_at": "", "phases-review-ends_at": "",
      "phases-voting-starts_at": _day(-30), "phases-voting-ends_at": _day(-10)},
     "The phase “Voting” must start when the phase “Proposals” ends or later."),
])  # fmt: skip
def test_item5_phases_out_of_order_or_overlapping_are_refused(
    client: Any, users: Any, db: Any, phases: dict[str, str], message: str
) -> None:
    from pb.processes.models import Process

    login(client, "admin")
    r = create(client, **phases)
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert message in html
    assert db.scalar(sa.select(sa.func.count()).select_from(Process)) == 0


def test_item5_phases_that_touch_are_accepted(client: Any, users: Any) -> None:
    login(client, "admin")
    assert create(client).status_code == 303  # proposals end when review starts, and so on


def test_item5_the_service_refuses_overlapping_phases_too(app: Any, users: Any) -> None:
    from pb.db import get_session
    from pb.errors import Invalid
    from pb.processes import services
    from pb.processes.models import PhaseKind

    changes = process_changes()
    proposals, voting = changes.phases[PhaseKind.PROPOSALS], changes.phases[PhaseKind.VOTING]
    changes.phases[PhaseKind.PROPOSALS] = (proposals[0], voting[0] + dt.timedelta(days=1))
    with app.test_request_context("/?lang=en"):
        with pytest.raises(Invalid, match="must start when the phase"):
            services.create_process(get_session(), changes, users["admin"])
        get_session().rollback()
        changes.phases[PhaseKind.PROPOSALS] = (dt.datetime(1, 1, 1, tzinfo=dt.UTC), proposals[1])
        with pytest.raises(Invalid, match="between the years 2000 and 2200"):
            services.create_process(get_session(), changes, users["admin"])


# == Item 6: number fields read "1_0" as 10 ===============================================


@pytest.mark.parametrize("value", ["1_0", "+10", "1e1", "١٠", "10.0", " 1 0 "])
def test_item6_number_fields_take_plain_digits_only(
    client: Any, users: Any, db: Any, value: str
) -> None:
    from pb.processes.models import Process

    login(client, "admin")
    r = create(client, min_age=value)
    assert r.status_code == 400
    assert "Give a whole number from 0 to 120." in r.get_data(as_text=True)
    assert db.scalar(sa.select(sa.func.count()).select_from(Process)) == 0
    assert create(client, min_age=" 10 ").status_code == 303


@pytest.mark.parametrize("lat,lon", [("5_5.7", "13.19"), ("55.7", "1_3"), ("nan", "13"),
                                     ("55.7", "1e1"), ("55.7", "inf")])  # fmt: skip
def test_item6_coordinates_take_plain_decimals_only(
    app: Any, users: Any, make_process: Any, lat: str, lon: str
) -> None:
    proc = make_proc(app, make_process)
    client = app.test_client()
    login(client, "participant")
    r = submit(client, "parker", category=str(proc.parks), latitude=lat, longitude=lon)
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "Not a valid latitude." in html or "Not a valid longitude." in html
    r = submit(client, "parker", category=str(proc.parks), area=str(proc.north),
               latitude="55,7047", longitude="13.191")  # fmt: skip
    assert r.status_code == 303, r.get_data(as_text=True)


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
    official = app.test_client()
    login(official, "official")  # not even the process's officials may open it
    assert official.get(f"/p/parker/review/{pid}").status_code == 404
    assert official.get(f"/p/parker/proposals/{pid}/report").status_code == 404
    assert official.post(f"/p/parker/moderation/proposals/{pid}/hide",
                         data={"reason": "x"}).status_code == 404  # fmt: skip


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
    accepted = make_proposal(app, proc.process, users["participant"], title="Godkänd",
                             area_id=proc.north)  # fmt: skip
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
                    data=proposal_data(title=POISON, category=proc.parks, area=proc.north))  # fmt: skip
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
    from pb.accounts.forms import FinishRegistrationForm, RegisterForm
    from pb.proposals.forms import CommentForm

    with app.test_request_context(method="POST", data={
        "display_name": "Eva\r\nBcc: x\x00\x07", "email": " eva@example.org\n",
        "password": "pass\tword\x01-long", "body": "Rad ett\r\nRad två\x1b[31m\tslut",
    }):  # fmt: skip
        form = FinishRegistrationForm()
        assert form.display_name.data == "Eva Bcc: x"
        assert RegisterForm().email.data == "eva@example.org"
        assert form.password.data == "pass\tword\x01-long"  # passwords are kept as typed
        assert CommentForm().body.data == "Rad ett\nRad två[31m\tslut"


def test_the_request_drops_control_characters_but_keeps_passwords(app: Any) -> None:
    """Probe3 F11: ESC in a value read without a form (a follow-up update) was stored. The
    request drops control characters from every value, as it did NUL; passwords stay."""
    from wtforms import PasswordField

    from pb.accounts import forms as account_forms
    from pb.wrappers import PASSWORD_FIELDS

    with app.test_request_context(method="POST", query_string={"q": "a\x1bb\x0bc"}, data={
        "body": "Rad\r\nett\x1b[31m\x07\tslut\x7f\x9b", "password": "pa\x01ss\x00",
    }):  # fmt: skip
        from flask import request

        assert request.form["body"] == "Rad\r\nett[31m\tslut"
        assert request.form["password"] == "pa\x01ss"
        assert request.args["q"] == "ab c"
    names = {
        name
        for form in vars(account_forms).values()
        if isinstance(form, type)
        for name, field in vars(form).items()
        if getattr(field, "field_class", None) is not None
        and issubclass(field.field_class, PasswordField)
    }
    assert names and names <= PASSWORD_FIELDS


@pytest.mark.parametrize("lang,message", [
    ("en", "Remove the invisible characters that change the direction of the text"),
    ("sv", "Ta bort de osynliga tecken som ändrar textens riktning"),
])  # fmt: skip
def test_text_fields_refuse_characters_that_reverse_how_text_reads(
    app: Any, users: Any, make_process: Any, db: Any, lang: str, message: str
) -> None:
    """The second probe (1 December 2026): "Cykel\u202eställ" showed as "Cykel lläts" in the
    list, "\u202egnp.exe" as "exe.png". Every text field refuses such characters with a
    message, keeps what was typed, and saves nothing; direction marks stay allowed."""
    from pb.proposals.models import Proposal

    proc = make_proc(app, make_process)
    client = app.test_client()
    login(client, "participant")
    for fields in ({"title": "Cykel\u202eställ"}, {"description": "Se bild \u202egnp.exe"},
                   {"address": "Väg \u2066x\u2069"}):  # fmt: skip
        r = client.post(f"/p/parker/proposals/new?lang={lang}", data=proposal_data(
            category=str(proc.parks), area=str(proc.north), **fields))  # fmt: skip
        html = r.get_data(as_text=True)
        assert r.status_code == 400 and message in html, fields
    assert db.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 0
    r = client.post(f"/p/parker/proposals/new?lang={lang}", data=proposal_data(
        category=str(proc.parks), area=str(proc.north), title="Park \u200fשלום\u200e i Lund"))  # fmt: skip
    assert r.status_code == 303
    assert db.scalars(sa.select(Proposal)).one().title == "Park \u200fשלום\u200e i Lund"


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
    from pb import tokens
    from pb.accounts.models import User

    with app.test_request_context():
        token = tokens.dumps("register", {"e": "eve@example.org", "l": "sv"})
    r = client.post(f"/account/register/finish/{token}?lang=en", data={
        "display_name": name, "password": "correct horse", "confirm": "correct horse"})  # fmt: skip
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "at least one visible character" in html or "change the direction" in html
    assert "eve@example.org" in html  # the person still sees which account they finish
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
