"""The outbox, delivery over a real SMTP server on loopback, retries and unsubscribe."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa


def _queue(app: Any, to: str = "karin@example.org", locale: str = "sv") -> None:
    from pb.db import get_session
    from pb.mail.services import enqueue

    with app.test_request_context():
        session = get_session()
        enqueue(session, to=to, subject="Ditt förslag har besvarats", body="Hej!\n\nSvar.",
                locale=locale)  # fmt: skip
        session.commit()


def test_queued_mail_is_delivered_by_pb_mail_send(make_app: Any, smtp_server: Any) -> None:
    from pb.cli import main

    app = make_app(MAIL_PORT=smtp_server.port, MAIL_FROM="Lunds kommun <pb@lund.example>")
    _queue(app)
    result = app.test_cli_runner().invoke(main, ["mail", "send"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output
    [msg] = smtp_server.messages
    assert msg["To"] == "karin@example.org"
    assert msg["Subject"] == "Ditt förslag har besvarats"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = msg["List-Unsubscribe"].strip("<>")
    # On the wire as RFC 2369 and 8058 want it: "<URL>" on one line, not RFC 2047 encoded
    # words, which mail programs do not read as a link (third probe).
    [raw] = smtp_server.raw
    assert f"\nList-Unsubscribe: <{url}>\r\n".encode() in raw, raw[:600]
    assert url.startswith("http://127.0.0.1:5000/") and len(url) > 78
    body = msg.get_content()
    assert "Svar." in body and url in body
    assert "Vill du inte få fler mejl" in body  # the footer is in the recipient's language
    # Sent mail is not sent twice.
    result = app.test_cli_runner().invoke(main, ["mail", "send"])
    assert "sent 0" in result.output and len(smtp_server.messages) == 1


def test_failures_are_retried_with_backoff_then_given_up(make_app: Any, smtp_server: Any) -> None:
    from pb.db import get_session
    from pb.mail.models import OutboxMessage
    from pb.mail.services import send_pending

    app = make_app(MAIL_PORT=smtp_server.port, MAIL_MAX_ATTEMPTS=3)
    _queue(app)
    smtp_server.refuse = True
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        assert send_pending(now=now).retried == 1
        assert send_pending(now=now).retried == 0  # not due yet: back-off
        assert send_pending(now=now + dt.timedelta(minutes=5)).retried == 1
        report = send_pending(now=now + dt.timedelta(hours=1))
        assert report.failed == 1
        row = get_session().scalars(sa.select(OutboxMessage)).one()
        assert row.attempts == 3 and row.failed_at is not None and "451" in row.last_error
    assert smtp_server.messages == []


def test_unreachable_server_is_retried(make_app: Any, smtp_server: Any) -> None:
    from pb.mail.services import send_pending

    app = make_app(MAIL_PORT=1)
    _queue(app)
    with app.app_context():
        assert send_pending().retried == 1
    app2 = make_app(MAIL_PORT=smtp_server.port)
    with app2.app_context():
        assert send_pending(now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)).sent == 1
    assert len(smtp_server.messages) == 1


def test_one_click_unsubscribe(make_app: Any, smtp_server: Any) -> None:
    from pb.db import get_session
    from pb.mail.models import OutboxMessage
    from pb.mail.services import send_pending

    app = make_app(MAIL_PORT=smtp_server.port)
    _queue(app, locale="en")
    with app.app_context():
        send_pending()
    url = smtp_server.messages[0]["List-Unsubscribe"].strip("<>")
    path = url.split("127.0.0.1:5000", 1)[1]
    client = app.test_client()
    page = client.get(path + "?lang=en")
    assert (
        page.status_code == 200
        and "Stop all e-mail from us to karin@example.org?" in page.get_data(as_text=True)
    )
    # The mail client posts without a CSRF token (RFC 8058); the signed token is enough.
    r = client.post(path + "?lang=en")
    assert r.status_code == 200 and "We will send no more e-mail" in r.get_data(as_text=True)
    _queue(app)
    with app.app_context():
        assert get_session().scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1
    # A forged or damaged token is refused with a clear message.
    r = client.post(path[:-3] + "xyz?lang=en")
    assert r.status_code == 400 and "not valid" in r.get_data(as_text=True)
