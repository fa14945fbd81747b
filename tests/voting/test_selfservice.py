"""Voting codes by e-mail (self-service) and receipts by e-mail, through a real SMTP server
on loopback; secret mail leaves nothing in the outbox, the logs or the database."""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

import pytest
import sqlalchemy as sa

from tests.voting.conftest import Vote, make_vote

ADDRESS = "Karin.Lind@Example.org"


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_server: Any) -> dict[str, Any]:
    return {**app_config, "MAIL_PORT": smtp_server.port}


@pytest.fixture
def evote(app: Any, make_process: Any) -> Vote:
    """The youth vote, offering codes by e-mail."""
    return make_vote(app, make_process, slug="epost", code_channels=["school", "email"])


def _send(app: Any) -> Any:
    from pb.mail.services import send_pending

    with app.app_context():
        return send_pending()


def _link(message: Any) -> str:
    m = re.search(r"http://[^\s]+/p/[^\s]+/vote/email/[^\s]+", message.get_content())
    assert m, message.get_content()
    return m.group(0).split("127.0.0.1:5000", 1)[1]


def _code(message: Any) -> str:
    m = re.search(r"\b([0-9A-Z]{4}(?:-[0-9A-Z]{4}){3}-.)\s", message.get_content())
    assert m, message.get_content()
    return m.group(1)


def _dump(db: Any) -> str:
    """Every value of every table, as text: what an operator reading the database sees."""
    import pb.models  # noqa: F401
    from pb.db import Base

    out = []
    for table in Base.metadata.sorted_tables:
        for row in db.execute(sa.select(table)).all():
            out.append(" ".join(str(v) for v in row))
    return "\n".join(out).lower()


def _outbox(db: Any) -> list[Any]:
    from pb.mail.models import OutboxMessage

    db.expire_all()
    return list(db.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def _ask(client: Any, vote: Vote, address: str = ADDRESS) -> Any:
    return client.post(f"/p/{vote.slug}/vote/email?lang=en", data={"email": address})


def _confirm(client: Any, path: str, address: str = ADDRESS, **declared: str) -> Any:
    data = {"email": address, "connection": "lives", "age_band": "16-17", **declared}
    return client.post(path + "?lang=en", data=data)


def test_a_code_by_email_from_the_rules_to_the_receipt(
    client: Any, evote: Vote, smtp_server: Any, db: Any, caplog: Any
) -> None:
    from pb.voting.models import CodeBatch, EmailClaim

    caplog.set_level(logging.DEBUG)
    app = client.application
    start = client.get(f"/p/{evote.slug}/vote?lang=en").get_data(as_text=True)
    assert "Get one by e-mail" in start
    page = client.get(f"/p/{evote.slug}/vote/email?lang=en").get_data(as_text=True)
    assert page.index("Before you vote") < page.index('name="email"')
    r = _ask(client, evote)
    assert r.status_code == 200 and "We are sending a link to" in r.get_data(as_text=True)
    [row] = _outbox(db)
    assert row.secret and row.to == ADDRESS.lower()
    assert _send(app).sent == 1
    [link_mail] = smtp_server.messages
    assert link_mail["To"] == ADDRESS.lower() and "List-Unsubscribe" not in link_mail
    path = _link(link_mail)
    assert "karin" not in path.lower()  # the link carries no address
    # Once sent, the secret message keeps nothing of its content.
    [row] = _outbox(db)
    assert row.sent_at is not None and (row.to, row.subject, row.body) == ("", "", "")

    form = client.get(path + "?lang=en").get_data(as_text=True)
    assert "What makes you eligible" in form and "Before you vote" in form
    r = _confirm(client, path)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert "Your code is on its way" in r.get_data(as_text=True)
    assert _send(app).sent == 1
    code_mail = smtp_server.messages[1]
    code = _code(code_mail)
    assert f"/p/{evote.slug}/vote#{code}" in code_mail.get_content()
    assert all((m.to, m.body) == ("", "") for m in _outbox(db))

    # The database keeps a keyed mark, not the address, and nowhere the code.
    [claim] = db.scalars(sa.select(EmailClaim)).all()
    assert len(claim.address_key) == 64
    dumped = _dump(db)
    for secret in ("karin.lind", code.lower(), code.replace("-", "").lower()):
        assert secret not in dumped
    [batch] = db.scalars(sa.select(CodeBatch)).all()
    assert batch.channel.value == "email" and batch.count == 1

    # The code votes; the receipt page offers to mail the receipt.
    r = client.post(f"/p/{evote.slug}/vote/ballot?lang=en",
                    data={"code": code, "pick": ["|p1"], "age_band": "16-17",
                          "connection": "lives", "action": "cast"})  # fmt: skip
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Get the receipt by e-mail" in html
    receipt = re.search(r'id="receipt">([^<]+)<', html).group(1).strip()  # type: ignore[union-attr]
    r = client.post(f"/p/{evote.slug}/vote/receipt-mail?lang=en",
                    data={"code": code, "receipt": receipt, "email": "someone@else.org"})  # fmt: skip
    assert r.status_code == 400 and "the address your voting code was mailed to" in r.get_data(
        as_text=True).lower()  # fmt: skip
    r = client.post(f"/p/{evote.slug}/vote/receipt-mail?lang=en",
                    data={"code": code, "receipt": receipt, "email": ADDRESS})  # fmt: skip
    assert r.status_code == 200 and "We are mailing your receipt" in r.get_data(as_text=True)
    assert _send(app).sent == 1
    assert receipt in smtp_server.messages[2].get_content()
    assert all((m.to, m.subject, m.body) == ("", "", "") for m in _outbox(db))
    dumped = _dump(db)
    assert receipt.lower() not in dumped and "karin" not in dumped
    # What pb logs (the test's own SMTP server, aiosmtpd's "mail.log", is the receiver).
    logged = "\n".join(r.getMessage() for r in caplog.records
                        if not r.name.startswith("mail.log")).lower()  # fmt: skip
    for secret in (code, receipt, "karin.lind"):
        assert secret.lower() not in logged


def test_receipts_are_mailed_only_for_codes_that_came_by_email(
    client: Any, evote: Vote, smtp_server: Any, db: Any
) -> None:
    from tests.voting.conftest import issue

    [code] = issue(client.application, evote)  # a school card
    r = client.post(f"/p/{evote.slug}/vote/ballot?lang=en",
                    data={"code": code, "pick": ["|p1"], "action": "cast"})  # fmt: skip
    receipt = re.search(r'id="receipt">([^<]+)<', r.get_data(as_text=True)).group(1).strip()  # type: ignore[union-attr]
    r = client.post(f"/p/{evote.slug}/vote/receipt-mail?lang=en",
                    data={"code": code, "receipt": receipt, "email": ADDRESS})  # fmt: skip
    assert r.status_code == 403 and "received their code by e-mail" in r.get_data(as_text=True)
    r = client.post(f"/p/{evote.slug}/vote/receipt-mail?lang=en",
                    data={"code": code, "receipt": code, "email": ADDRESS})  # fmt: skip
    assert r.status_code == 400 and "does not belong to this code" in r.get_data(as_text=True)
    assert _outbox(db) == []


def test_one_code_per_address(client: Any, evote: Vote, smtp_server: Any, db: Any) -> None:
    from pb.voting.models import VotingCode

    app = client.application
    _ask(client, evote)
    _send(app)
    path = _link(smtp_server.messages[0])
    assert _confirm(client, path).status_code == 200
    # Asking again looks the same (nobody learns from the page whether an address has a
    # code); the step behind the link, which only the mailbox's reader sees, says so.
    r = _ask(client, evote, " karin.lind@example.ORG ")
    assert r.status_code == 200 and "We are sending a link" in r.get_data(as_text=True)
    _send(app)
    second = _link(smtp_server.messages[-1])
    r = _confirm(client, second, age_band="18-25")
    assert r.status_code == 409 and "already received a code" in r.get_data(as_text=True)
    r = _confirm(client, path)  # the first link again
    assert r.status_code == 409
    assert db.scalar(sa.select(sa.func.count()).select_from(VotingCode)) == 1


def test_refusals_are_clear_and_issue_nothing(
    client: Any, smtp_server: Any, db: Any, make_process: Any
) -> None:
    from pb.voting.models import EmailClaim, VotingCode

    app = client.application
    evote = make_vote(app, make_process, slug="vuxen", code_channels=["email"], min_age=18)
    r = _ask(client, evote, "not an address")
    assert r.status_code == 400 and "valid e-mail address" in r.get_data(as_text=True)
    assert 'value="not an address"' in r.get_data(as_text=True)  # what was typed is kept
    _ask(client, evote)
    _send(app)
    path = _link(smtp_server.messages[0])
    r = _confirm(client, path, address="other@example.org")
    assert r.status_code == 400 and "not the address the link was sent to" in r.get_data(
        as_text=True)  # fmt: skip
    r = _confirm(client, path, age_band="16-17")  # this vote's minimum age is 18
    assert r.status_code == 403 and "at least 18 years old" in r.get_data(as_text=True)
    r = _confirm(
        client, path, connection="other", age_band="26-39"
    )  # not one of this process's connections
    assert r.status_code == 403 and "connections listed" in r.get_data(as_text=True)
    r = _confirm(client, path, connection="nonsense", age_band="26-39")
    assert r.status_code == 400 and "from the lists" in r.get_data(as_text=True)
    r = client.post(path[:-4] + "abcd?lang=en", data={"email": ADDRESS, "connection": "lives",
                                                      "age_band": "16-17"})  # fmt: skip
    assert r.status_code == 400 and "not valid or has expired" in r.get_data(as_text=True)
    assert db.scalar(sa.select(sa.func.count()).select_from(VotingCode)) == 0
    assert db.scalar(sa.select(sa.func.count()).select_from(EmailClaim)) == 0
    # A vote that does not offer the e-mail channel has no such page.
    plain = make_vote(app, make_process, slug="utan-epost")
    assert client.get(f"/p/{plain.slug}/vote/email").status_code == 404
    assert _ask(client, plain).status_code == 404
    html = client.get(f"/p/{plain.slug}/vote?lang=en").get_data(as_text=True)
    assert "Get one by e-mail" not in html


def test_an_expired_link_is_refused(
    client: Any, evote: Vote, smtp_server: Any, monkeypatch: Any
) -> None:
    import time

    _ask(client, evote)
    _send(client.application)
    path = _link(smtp_server.messages[0])
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 3 * 3600)
    r = _confirm(client, path)
    assert r.status_code == 400 and "has expired" in r.get_data(as_text=True)


def test_links_are_limited_per_address_and_ip(
    make_app: Any, evote: Vote, db: Any, smtp_server: Any
) -> None:
    from pb.security import RateLimitHit

    client = make_app(MAIL_PORT=smtp_server.port, VOTING_EMAIL_MAX_PER_IP=10).test_client()

    for _i in range(3):
        assert _ask(client, evote).status_code == 200
    r = _ask(client, evote)
    assert r.status_code == 429 and "try again in" in r.get_data(as_text=True)
    # The limit rows key the address by its keyed digest, never the address itself.
    keys = " ".join(db.scalars(sa.select(RateLimitHit.key))).lower()
    assert "karin" not in keys and "vote-email.address:" in keys
    for i in range(7):
        assert _ask(client, evote, f"person{i}@example.org").status_code == 200
    r = _ask(client, evote, "one-more@example.org")
    assert r.status_code == 429
    assert len(_outbox(db)) == 10


def test_a_code_by_email_is_bound_to_the_declared_district(
    client: Any, make_process: Any, smtp_server: Any, db: Any
) -> None:
    from pb.processes.services import AreaChange
    from pb.voting.models import CodeBatch

    app = client.application
    vote = make_vote(app, make_process, slug="distrikt", budget=5_000_000,
                     code_channels=["email"],
                     areas=[AreaChange("Hela Lund", 500_000, whole_municipality=True),
                            AreaChange("Norra Fäladen", 200_000),
                            AreaChange("Klostergården", 300_000)],
                     projects=[("n1", "Lekplats", 150_000, "Norra Fäladen"),
                               ("k1", "Belysning", 250_000, "Klostergården"),
                               ("h1", "Cykelväg", 400_000, "Hela Lund")])  # fmt: skip
    _ask(client, vote)
    _send(app)
    path = _link(smtp_server.messages[0])
    r = _confirm(client, path)
    assert r.status_code == 400 and "Choose the district" in r.get_data(as_text=True)
    r = _confirm(client, path, district="hela-lund")
    assert r.status_code == 400
    assert _confirm(client, path, district="klostergarden").status_code == 200
    _send(app)
    assert "Klostergården" in smtp_server.messages[1].get_content()
    code = _code(smtp_server.messages[1])
    html = client.post("/p/distrikt/vote?lang=en", data={"code": code}).get_data(as_text=True)
    assert "Projects in Klostergården" in html and 'id="district"' not in html
    [batch] = db.scalars(sa.select(CodeBatch)).all()
    assert batch.area_id is not None and batch.count == 1


def test_secret_mail_is_restored_for_a_retry_then_wiped(
    app: Any, smtp_server: Any, db: Any
) -> None:
    from pb.db import get_session
    from pb.mail.services import enqueue, send_pending

    with app.test_request_context():
        session = get_session()
        enqueue(session, to="eva@example.org", subject="Din kod", body="KOD: ABCD", secret=True)
        session.commit()
    smtp_server.refuse = True
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        assert send_pending(now=now).retried == 1
    [row] = _outbox(db)
    assert (row.to, row.body) == ("eva@example.org", "KOD: ABCD\n")
    assert "eva" not in row.last_error and row.sent_at is None
    smtp_server.refuse = False
    with app.app_context():
        assert send_pending(now=now + dt.timedelta(minutes=5)).sent == 1
    [row] = _outbox(db)
    assert (row.to, row.subject, row.body, row.last_error) == ("", "", "", "")
    assert smtp_server.messages[0].get_content().strip() == "KOD: ABCD"


def test_secret_mail_given_up_is_wiped(make_app: Any, smtp_server: Any, db: Any) -> None:
    from pb.db import get_session
    from pb.mail.services import enqueue, send_pending

    app = make_app(MAIL_PORT=smtp_server.port, MAIL_MAX_ATTEMPTS=1)
    with app.test_request_context():
        session = get_session()
        enqueue(session, to="eva@example.org", subject="Din kod", body="KOD: ABCD", secret=True)
        # An ordinary message keeps its content once sent (as before).
        enqueue(session, to="ola@example.org", subject="Svar", body="Hej")
        session.commit()
    smtp_server.refuse = True
    with app.app_context():
        assert send_pending().failed == 2
    secret, plain = _outbox(db)
    assert secret.failed_at is not None and (secret.to, secret.body) == ("", "")
    assert "451" in secret.last_error and "eva" not in secret.last_error
    assert plain.to == "ola@example.org" and "Hej" in plain.body


def test_an_expired_form_keeps_what_was_typed(
    make_app: Any, make_process: Any, smtp_server: Any, db: Any
) -> None:
    from tests.conftest import csrf_token

    app = make_app(MAIL_PORT=smtp_server.port, WTF_CSRF_ENABLED=True)
    vote = make_vote(app, make_process, slug="csrf-epost", code_channels=["email"])
    client = app.test_client()
    r = client.post(f"/p/{vote.slug}/vote/email?lang=en", data={"email": ADDRESS})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "form had expired" in html and f'value="{ADDRESS}"' in html
    assert _outbox(db) == []
    r = client.post(f"/p/{vote.slug}/vote/email?lang=en",
                    data={"email": ADDRESS, "csrf_token": csrf_token(html)})  # fmt: skip
    assert r.status_code == 200 and len(_outbox(db)) == 1
    _send(app)
    path = _link(smtp_server.messages[0])
    r = _confirm(client, path, district="")
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "form had expired" in html
    assert 'value="lives" selected' in html and 'value="16-17" selected' in html
    r = client.post(path + "?lang=en", data={"email": ADDRESS, "connection": "lives",
                                             "age_band": "16-17", "csrf_token": csrf_token(html)})  # fmt: skip
    assert r.status_code == 200 and "Your code is on its way" in r.get_data(as_text=True)


def test_no_codes_by_email_outside_the_voting_phase(
    client: Any, make_process: Any, smtp_server: Any, db: Any
) -> None:
    closed = make_vote(client.application, make_process, slug="stangd", running="counting",
                       code_channels=["email"])  # fmt: skip
    page = client.get(f"/p/{closed.slug}/vote/email?lang=en").get_data(as_text=True)
    assert "Voting closed on" in page and 'name="email"' not in page
    r = _ask(client, closed)
    assert r.status_code == 403 and "Voting closed on" in r.get_data(as_text=True)
    assert _outbox(db) == []
