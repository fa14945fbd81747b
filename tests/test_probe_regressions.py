"""Regressions found by the probe of the running demo (issue #8). Each item of the issue has
its own section; the tests are named after the item's number."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import login, process_changes
from tests.processes.test_processes import create, form_data
from tests.proposals.conftest import make_proc
from tests.proposals.helpers import make_proposal, submit

HUGE = "9" * 400

# == Item 3: registration is neither rate-limited nor discreet ============================


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
    assert "Den har redan ett konto." in owner.get_content()  # in the owner's language
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
    r = submit(client, "parker", category=str(proc.parks), latitude="55,7047", longitude="13.191")
    assert r.status_code == 303, r.get_data(as_text=True)
