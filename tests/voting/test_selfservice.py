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


def _checked(html: str, value: str) -> bool:
    return re.search(rf'<input checked [^>]*value="{re.escape(value)}"', html) is not None


def _answer(client: Any, slug: str, step: str, value: str, **extra: str) -> Any:
    return client.post(f"/p/{slug}/vote/email/{step}?lang=en", data={"answer": value, **extra})


def _walk(client: Any, vote: Vote, address: str = ADDRESS, connection: str = "lives",
          age: str = "16-17", district: str | None = None) -> None:  # fmt: skip
    """Start, and answer every question (each answer goes on to the next page)."""
    r = client.post(f"/p/{vote.slug}/vote/email?lang=en")
    assert r.status_code == 303 and r.headers["Location"].endswith("/vote/email/connection")
    steps = [("connection", connection), ("age", age)]
    steps += [("district", district)] if district else []
    for step, value in [*steps, ("address", address)]:
        r = _answer(client, vote.slug, step, value)
        assert r.status_code == 303, (step, r.get_data(as_text=True))
        assert value.lower() not in r.headers["Location"].lower()  # no answer in a URL
    assert r.headers["Location"].endswith("/vote/email/check")


def _ask(client: Any, vote: Vote, address: str = ADDRESS, **answers: Any) -> Any:
    """Walk the questions and send the link from "check your answers"."""
    _walk(client, vote, address, **answers)
    return client.post(f"/p/{vote.slug}/vote/email/check?lang=en")


def _confirm(client: Any, path: str) -> Any:
    """Through the mailed link in the same browser: check the answers, get the code."""
    r = client.get(path + "?lang=en")
    assert r.status_code == 303 and r.headers["Location"].endswith("/vote/email/check")
    return client.post(r.headers["Location"] + "?lang=en")


def test_a_code_by_email_from_the_rules_to_the_receipt(
    client: Any, evote: Vote, smtp_server: Any, db: Any, caplog: Any
) -> None:
    from pb.voting.models import CodeBatch, EmailClaim

    caplog.set_level(logging.DEBUG)
    app = client.application
    start = client.get(f"/p/{evote.slug}/vote?lang=en").get_data(as_text=True)
    assert "Get one by e-mail" in start
    # The start page: what this is, who may vote, what you need, and one button.
    page = client.get(f"/p/{evote.slug}/vote/email?lang=en").get_data(as_text=True)
    assert page.index("Who may vote") < page.index('id="start"') < page.index("What you need")
    assert "We ask 3 short questions" in page and 'name="csrf_token"' in page
    # One question per page, each with a way back.
    r = client.post(f"/p/{evote.slug}/vote/email?lang=en")
    assert r.status_code == 303
    page = client.get(r.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "What connects you to the municipality?" in page and "Question 1 of 3" in page
    assert 'type="radio"' in page and 'value="none"' in page
    assert f'href="/p/{evote.slug}/vote/email" class="back-link"' in page
    _walk(client, evote)
    page = client.get(f"/p/{evote.slug}/vote/email/address?lang=en").get_data(as_text=True)
    assert 'autocomplete="email"' in page and f'value="{ADDRESS.lower()}"' in page
    assert f'href="/p/{evote.slug}/vote/email/age" class="back-link"' in page
    # Check your answers, each with a link to change it.
    page = client.get(f"/p/{evote.slug}/vote/email/check?lang=en").get_data(as_text=True)
    for text in ("You live in the municipality", "16–17", ADDRESS.lower(), "Send me the link"):
        assert text in page
    for step in ("connection", "age", "address"):
        assert f'href="/p/{evote.slug}/vote/email/{step}?change=1"' in page
    r = client.post(f"/p/{evote.slug}/vote/email/check?lang=en")
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

    # The link, in the same browser: the answers are waiting; one button gets the code.
    r = client.get(path + "?lang=en")
    assert r.status_code == 303
    page = client.get(r.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "Check your answers" in page and "Send me my voting code" in page
    r = client.post(f"/p/{evote.slug}/vote/email/check?lang=en")
    assert r.status_code == 200, r.get_data(as_text=True)
    assert "Your code is on its way" in r.get_data(as_text=True)
    # Done: the session no longer holds the answers (a shared computer shows nothing).
    r = client.get(f"/p/{evote.slug}/vote/email/check?lang=en")
    assert r.status_code == 303 and r.headers["Location"].endswith("/connection")
    page = client.get(r.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "We do not have your answers" in page and "checked" not in page
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


def test_the_link_in_another_browser_asks_the_questions_there(
    app: Any, evote: Vote, smtp_server: Any, db: Any
) -> None:
    from pb.voting.models import VotingCode

    assert _ask(app.test_client(), evote).status_code == 200
    _send(app)
    path = _link(smtp_server.messages[0])
    phone = app.test_client()  # the mail app's browser: no answers in its session
    r = phone.get(path + "?lang=en")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "This browser does not have your answers" in html
    assert f'href="/p/{evote.slug}/vote/email/connection"' in html
    for step, value in (("connection", "studies"), ("age", "18-25")):
        assert _answer(phone, evote.slug, step, value).status_code == 303
    page = phone.get(f"/p/{evote.slug}/vote/email/address?lang=en").get_data(as_text=True)
    assert "The address the link was sent to" in page
    r = _answer(phone, evote.slug, "address", "other@example.org")
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "not the address the link was sent to" in html
    assert 'href="#answer"' in html and 'value="other@example.org"' in html  # linked, kept
    assert _answer(phone, evote.slug, "address", ADDRESS).status_code == 303
    page = phone.get(f"/p/{evote.slug}/vote/email/check?lang=en").get_data(as_text=True)
    assert "You study in the municipality" in page and "Send me my voting code" in page
    r = phone.post(f"/p/{evote.slug}/vote/email/check?lang=en")
    assert r.status_code == 200 and "Your code is on its way" in r.get_data(as_text=True)
    assert db.scalar(sa.select(sa.func.count()).select_from(VotingCode)) == 1


def test_change_links_and_back_keep_the_answers(client: Any, evote: Vote) -> None:
    _walk(client, evote)
    page = client.get(f"/p/{evote.slug}/vote/email/age?change=1&lang=en").get_data(as_text=True)
    assert _checked(page, "16-17") and 'name="change" value="1"' in page
    assert f'href="/p/{evote.slug}/vote/email/check" class="back-link"' in page
    r = _answer(client, evote.slug, "age", "26-39", change="1")
    assert r.status_code == 303 and r.headers["Location"].endswith("/vote/email/check")
    page = client.get(f"/p/{evote.slug}/vote/email/check?lang=en").get_data(as_text=True)
    assert "26–39" in page and "You live in the municipality" in page and ADDRESS.lower() in page
    # Going back through the pages shows each answer as given.
    page = client.get(f"/p/{evote.slug}/vote/email/connection?lang=en").get_data(as_text=True)
    assert _checked(page, "lives")
    # Answering again without "change" goes on to the next page, as the first time.
    r = _answer(client, evote.slug, "connection", "works")
    assert r.headers["Location"].endswith("/vote/email/age")
    # "Start now" begins afresh.
    client.post(f"/p/{evote.slug}/vote/email?lang=en")
    r = client.get(f"/p/{evote.slug}/vote/email/check?lang=en")
    assert r.status_code == 303 and r.headers["Location"].endswith("/connection")


def test_one_code_per_address(client: Any, evote: Vote, smtp_server: Any, db: Any) -> None:
    from pb.voting.models import VotingCode

    app = client.application
    _ask(client, evote)
    _send(app)
    path = _link(smtp_server.messages[0])
    assert _confirm(client, path).status_code == 200
    # Asking again looks the same (nobody learns from the page whether an address has a
    # code); the step behind the link, which only the mailbox's reader sees, says so.
    r = _ask(client, evote, " karin.lind@example.ORG ", age="18-25")
    assert r.status_code == 200 and "We are sending a link" in r.get_data(as_text=True)
    _send(app)
    second = _link(smtp_server.messages[-1])
    r = _confirm(client, second)
    assert r.status_code == 409 and "already received a code" in r.get_data(as_text=True)
    r = client.post(path + "?lang=en")  # the first link again
    assert r.status_code == 409
    assert db.scalar(sa.select(sa.func.count()).select_from(VotingCode)) == 1


def test_refusals_are_clear_linked_and_issue_nothing(
    client: Any, smtp_server: Any, db: Any, make_process: Any
) -> None:
    from pb.voting.models import EmailClaim, VotingCode

    app = client.application
    evote = make_vote(app, make_process, slug="vuxen", code_channels=["email"], min_age=18)
    slug = evote.slug
    client.post(f"/p/{slug}/vote/email?lang=en")
    # Nothing chosen, a value not offered, a connection that does not count, too young.
    r = _answer(client, slug, "connection", "")
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "Choose what makes you eligible." in html
    assert 'href="#answer-0"' in html  # the error summary links to the first choice
    # The question is the label: its own "?" ends it, with no ":" after it.
    assert "municipality? Choose what makes you eligible." in html and "?:" not in html
    assert _answer(client, slug, "connection", "nonsense").status_code == 400
    r = _answer(client, slug, "connection", "none")
    assert r.status_code == 403 and "at least one of the connections" in r.get_data(as_text=True)
    r = _answer(client, slug, "connection", "other")  # not one of this process's connections
    assert r.status_code == 400
    assert _answer(client, slug, "connection", "lives").status_code == 303
    r = _answer(client, slug, "age", "16-17")
    html = r.get_data(as_text=True)
    assert r.status_code == 403 and "at least 18 years old" in html
    assert _checked(html, "16-17") and "You cannot vote in this process" in html
    assert _answer(client, slug, "age", "26-39").status_code == 303
    r = _answer(client, slug, "address", "not an address")
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "valid e-mail address" in html
    assert 'value="not an address"' in html and 'href="#answer"' in html  # kept, linked
    # Sending before every question is answered goes to the one that is not.
    r = client.post(f"/p/{slug}/vote/email/check?lang=en")
    assert r.status_code == 303 and r.headers["Location"].endswith("/vote/email/address")
    assert _outbox(db) == []
    assert _ask(client, evote, age="26-39").status_code == 200
    _send(app)
    path = _link(smtp_server.messages[0])
    r = client.post(path[:-4] + "abcd?lang=en")
    assert r.status_code == 400 and "not valid or has expired" in r.get_data(as_text=True)
    assert client.get(path[:-4] + "abcd?lang=en").status_code == 400
    assert db.scalar(sa.select(sa.func.count()).select_from(VotingCode)) == 0
    assert db.scalar(sa.select(sa.func.count()).select_from(EmailClaim)) == 0
    # A vote that does not offer the e-mail channel has no such pages.
    plain = make_vote(app, make_process, slug="utan-epost")
    for step in ("", "/connection", "/age", "/address", "/check"):
        assert client.get(f"/p/{plain.slug}/vote/email{step}").status_code == 404
    assert client.post(f"/p/{plain.slug}/vote/email").status_code == 404
    html = client.get(f"/p/{plain.slug}/vote?lang=en").get_data(as_text=True)
    assert "Get one by e-mail" not in html


def test_a_page_from_before_the_questions_still_works(
    client: Any, evote: Vote, smtp_server: Any, db: Any
) -> None:
    """A link mailed before, and a page with every answer on it opened before, the questions
    came: the link's POST takes the answers it carries."""
    from pb.voting.models import VotingCode

    assert _ask(client, evote).status_code == 200
    _send(client.application)
    path = _link(smtp_server.messages[0])
    other = client.application.test_client()
    r = other.post(path + "?lang=en", data={"connection": "lives", "age_band": "16-17"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/vote/email/address")
    r = other.post(path + "?lang=en", data={"email": ADDRESS, "connection": "lives",
                                            "age_band": "16-17"})  # fmt: skip
    assert r.status_code == 200 and "Your code is on its way" in r.get_data(as_text=True)
    assert db.scalar(sa.select(sa.func.count()).select_from(VotingCode)) == 1


def test_an_expired_link_is_refused(
    client: Any, evote: Vote, smtp_server: Any, monkeypatch: Any
) -> None:
    import time

    _ask(client, evote)
    _send(client.application)
    path = _link(smtp_server.messages[0])
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 3 * 3600)
    r = client.get(path + "?lang=en")
    assert r.status_code == 400 and "has expired" in r.get_data(as_text=True)


def test_answers_are_kept_two_hours_then_asked_again(
    client: Any, evote: Vote, monkeypatch: Any
) -> None:
    import time

    _walk(client, evote)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 2 * 3600 + 60)
    r = client.get(f"/p/{evote.slug}/vote/email/check?lang=en")
    assert r.status_code == 303 and r.headers["Location"].endswith("/connection")
    page = client.get(r.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "We do not have your answers" in page and "two hours" in page


def test_links_are_limited_per_address_and_ip(
    make_app: Any, evote: Vote, db: Any, smtp_server: Any
) -> None:
    from pb.security import RateLimitHit

    client = make_app(MAIL_PORT=smtp_server.port, VOTING_EMAIL_MAX_PER_IP=10).test_client()

    for _i in range(3):
        assert _ask(client, evote).status_code == 200
    r = _ask(client, evote)
    html = r.get_data(as_text=True)
    assert r.status_code == 429 and "try again in" in html and ADDRESS.lower() in html
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
    client.post("/p/distrikt/vote/email?lang=en")
    _answer(client, "distrikt", "connection", "lives")
    r = _answer(client, "distrikt", "age", "16-17")
    assert r.headers["Location"].endswith("/vote/email/district")
    page = client.get("/p/distrikt/vote/email/district?lang=en").get_data(as_text=True)
    assert "Which district do you vote in?" in page and "Question 3 of 4" in page
    assert "Klostergården" in page and "hela-lund" not in page and "projects for Hela Lund" in page
    assert _answer(client, "distrikt", "district", "hela-lund").status_code == 400
    assert _ask(client, vote, district="klostergarden").status_code == 200
    _send(app)
    path = _link(smtp_server.messages[0])
    assert _confirm(client, path).status_code == 200
    _send(app)
    assert "Klostergården" in smtp_server.messages[1].get_content()
    code = _code(smtp_server.messages[1])
    html = client.post("/p/distrikt/vote?lang=en", data={"code": code}).get_data(as_text=True)
    assert "Projects in Klostergården" in html and 'id="district"' not in html
    [batch] = db.scalars(sa.select(CodeBatch)).all()
    assert batch.area_id is not None and batch.count == 1


def test_one_district_is_no_question(
    client: Any, make_process: Any, smtp_server: Any, db: Any
) -> None:
    from pb.processes.models import Area
    from pb.voting.models import CodeBatch

    vote = make_vote(client.application, make_process, slug="ett", code_channels=["email"],
                     areas=[("Dalby", 300_000)],
                     projects=[("d1", "Skatepark", 100_000, "Dalby")])  # fmt: skip
    assert client.get("/p/ett/vote/email/district").status_code == 404
    assert _ask(client, vote).status_code == 200  # no district asked
    _send(client.application)
    assert _confirm(client, _link(smtp_server.messages[0])).status_code == 200
    [batch] = db.scalars(sa.select(CodeBatch)).all()
    assert batch.area_id == db.scalar(sa.select(Area.id).where(Area.slug == "dalby"))


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


def test_an_expired_page_says_so_and_keeps_the_answers(
    make_app: Any, make_process: Any, smtp_server: Any, db: Any
) -> None:
    from tests.conftest import csrf_token

    app = make_app(MAIL_PORT=smtp_server.port, WTF_CSRF_ENABLED=True)
    vote = make_vote(app, make_process, slug="csrf-epost", code_channels=["email"])
    client = app.test_client()
    base = f"/p/{vote.slug}/vote/email"
    r = client.post(base + "?lang=en")
    assert r.status_code == 400 and "page had expired" in r.get_data(as_text=True)
    token = csrf_token(client.get(base + "?lang=en").get_data(as_text=True))
    assert client.post(base, data={"csrf_token": token}).status_code == 303
    assert client.post(base + "/connection", data={"answer": "lives",
                                                   "csrf_token": token}).status_code == 303  # fmt: skip
    # A page without its token (expired, or from elsewhere): the answer comes back checked
    # with what happened; the answer before it is still there.
    r = client.post(base + "/age?lang=en", data={"answer": "16-17", "csrf_token": "stale"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "page had expired" in html and "cookies" in html
    assert _checked(html, "16-17")
    r = client.post(base + "/age", data={"answer": "16-17", "csrf_token": csrf_token(html)})
    assert r.status_code == 303
    assert client.post(base + "/address", data={"answer": ADDRESS,
                                                "csrf_token": token}).status_code == 303  # fmt: skip
    r = client.post(base + "/check?lang=en", data={"csrf_token": "stale"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "nothing was sent" in html and ADDRESS.lower() in html
    assert _outbox(db) == []
    r = client.post(base + "/check?lang=en", data={"csrf_token": csrf_token(html)})
    assert r.status_code == 200 and len(_outbox(db)) == 1
    # The session itself lost (cookies cleared): the page says so and asks again.
    fresh = app.test_client()
    r = fresh.post(base + "/address?lang=en", data={"answer": ADDRESS, "csrf_token": token})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "earlier answers were not kept" in html
    assert f'value="{ADDRESS}"' in html
    r = fresh.get(base + "/check?lang=en")
    assert r.status_code == 303
    assert "We do not have your answers" in fresh.get(r.headers["Location"] + "?lang=en").get_data(
        as_text=True)  # fmt: skip


def test_no_codes_by_email_outside_the_voting_phase(
    client: Any, make_process: Any, smtp_server: Any, db: Any
) -> None:
    closed = make_vote(client.application, make_process, slug="stangd", running="counting",
                       code_channels=["email"])  # fmt: skip
    page = client.get(f"/p/{closed.slug}/vote/email?lang=en").get_data(as_text=True)
    assert "Voting has closed (the last day was" in page and 'id="start"' not in page
    assert "What you need" not in page
    r = client.post(f"/p/{closed.slug}/vote/email?lang=en")
    assert r.status_code == 403 and "codes can no longer be asked for" in r.get_data(as_text=True)
    r = client.get(f"/p/{closed.slug}/vote/email/connection?lang=en")
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/p/{closed.slug}/vote/email")
    r = _answer(client, closed.slug, "connection", "lives")
    assert r.status_code == 403 and "codes can no longer be asked for" in r.get_data(as_text=True)
    r = client.post(f"/p/{closed.slug}/vote/email/check?lang=en")
    assert r.status_code == 403
    assert _outbox(db) == []


def test_before_voting_opens_the_email_page_says_when_and_asks_nothing(
    client: Any, make_process: Any, db: Any
) -> None:
    """Probe 3 F15: the questions could be answered before voting opened, then dead-ended
    on "check your answers". Now the page only says from which day a code can be asked for."""
    from pb.db import get_session
    from pb.i18n import first_day
    from pb.processes.models import PhaseKind

    early = make_vote(client.application, make_process, slug="tidig", running="review",
                      code_channels=["email"])  # fmt: skip
    with client.application.test_request_context("/?lang=en"):
        opens = first_day(early.process(get_session()).phase(PhaseKind.VOTING).starts_at)
    page = client.get(f"/p/{early.slug}/vote/email?lang=en").get_data(as_text=True)
    assert f"You can ask for a voting code by e-mail from {opens}, when voting opens." in page
    assert 'id="start"' not in page and "What you need" not in page
    for step in ("connection", "age", "address"):
        r = client.get(f"/p/{early.slug}/vote/email/{step}?lang=en")
        assert r.status_code == 303 and r.headers["Location"].endswith("/vote/email")
    r = client.post(f"/p/{early.slug}/vote/email?lang=en")
    assert r.status_code == 403 and opens in r.get_data(as_text=True)
    r = client.get(f"/p/{early.slug}/vote/email/check?lang=en")
    assert r.status_code == 303
    assert _outbox(db) == []


def test_the_address_page_says_what_is_kept_of_the_address(
    client: Any, evote: Vote, make_app: Any
) -> None:
    """Probe 3 F15: "We do not keep your address" while a keyed digest of it is kept (one
    code per address) until PRIVACY_CODE_EMAIL_DAYS after the results."""
    days = client.application.config["PRIVACY_CODE_EMAIL_DAYS"]
    for lang, said in (
        ("en", f"We keep only a fingerprint of the address, so that it cannot get two codes; "
               f"it is deleted {days} days after the results are published."),
        ("sv", f"Vi sparar bara ett fingeravtryck av adressen, så att den inte kan få två "
               f"koder. Det raderas {days} dagar efter att resultatet har publicerats."),
    ):  # fmt: skip
        page = client.get(f"/p/{evote.slug}/vote/email/address?lang={lang}")
        html = page.get_data(as_text=True)
        assert said in html and "not keep your address" not in html
        assert "sparar inte din adress" not in html
        start = client.get(f"/p/{evote.slug}/vote/email?lang={lang}").get_data(as_text=True)
        assert "not keep your address" not in start and "sparar inte din adress" not in start


def test_an_honest_answer_that_rules_one_out_is_not_an_error_to_correct(
    client: Any, make_process: Any
) -> None:
    """ "None of these" or too young is the truth, not a mistake: the page says plainly
    that the person cannot vote in this process and why, and asks nothing to be fixed."""
    evote = make_vote(client.application, make_process, slug="vuxen", code_channels=["email"],
                      min_age=18)  # fmt: skip
    client.post(f"/p/{evote.slug}/vote/email?lang=sv")
    for step, value, why in (
        ("connection", "none", "minst en av kopplingarna i listan"),
        ("age", "16-17", "minst 18 år"),
    ):
        if step == "age":
            assert _answer(client, evote.slug, "connection", "lives").status_code == 303
        r = client.post(f"/p/{evote.slug}/vote/email/{step}?lang=sv", data={"answer": value})
        html = r.get_data(as_text=True)
        assert r.status_code == 403, html[:2000]
        refused = html[
            html.index('id="refused"') : html.index("</div>", html.index('id="refused"'))
        ]
        assert "Du kan inte rösta i den här processen" in refused and why in refused, refused
        assert "Tack för att du svarade ärligt" in refused
        for fix in ("Något behöver rättas", "Rätta", "error-summary", "Fel:"):
            assert fix not in html, fix


@pytest.mark.parametrize(
    ("min_age", "labels"),
    [
        (10, ["Yngre än 10", "10–15", "16–17", "18–25", "26–39", "40–64", "65 eller äldre"]),
        (17, ["Yngre än 17", "17", "18–25", "26–39", "40–64", "65 eller äldre"]),
        (18, ["15 eller yngre", "16–17", "18–25", "26–39", "40–64", "65 eller äldre"]),
        (70, ["Yngre än 70", "70 eller äldre"]),
    ],
)  # fmt: skip
def test_the_age_question_can_say_younger_than_the_minimum(
    client: Any, make_process: Any, min_age: int, labels: list[str]
) -> None:
    """A band counts as its oldest age, so with a minimum of 10 "15 or younger" let a
    9-year-old through. Where the minimum falls inside a band the question offers "Younger
    than 10" (which rules the person out) and the band starts at the minimum."""
    evote = make_vote(client.application, make_process, slug="ung", code_channels=["email"],
                      min_age=min_age)  # fmt: skip
    client.post(f"/p/{evote.slug}/vote/email?lang=sv")
    assert _answer(client, evote.slug, "connection", "lives").status_code == 303
    html = client.get(f"/p/{evote.slug}/vote/email/age?lang=sv").get_data(as_text=True)
    shown = re.findall(
        r'type="radio" value="[^"]*">\s*<label for="answer-\d+">([^<]+)</label>', html
    )
    assert shown == labels, html[html.index("<fieldset") : html.index("</fieldset>")]
    if labels[0].startswith("Yngre"):
        r = client.post(f"/p/{evote.slug}/vote/email/age?lang=sv", data={"answer": "younger"})
        html = r.get_data(as_text=True)
        assert r.status_code == 403 and f"Du måste vara minst {min_age} år" in html
        assert "Du kan inte rösta i den här processen" in html
    else:  # not offered where no band hides it
        assert _answer(client, evote.slug, "age", "younger").status_code == 400
    if min_age in (10, 17):  # the band that starts at the minimum lets them on
        band = {10: "-15", 17: "16-17"}[min_age]
        assert _answer(client, evote.slug, "age", band).status_code == 303
