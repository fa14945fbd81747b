"""A forgotten password: a mailed, signed link that works once and for an hour."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from tests.conftest import login

RESET = r"http://127\.0\.0\.1:5000(/account/password/reset/\S+)"


def _send(app: Any, expected: int) -> None:
    """Send the outbox over real SMTP (``pb mail send``)."""
    from pb.cli import main

    result = app.test_cli_runner().invoke(main, ["mail", "send"])
    assert result.exit_code == 0 and f"sent {expected}" in result.output, result.output


def _ask(client: Any, email: str, lang: str = "en", **kw: Any) -> Any:
    return client.post(f"/account/password/forgot?lang={lang}", data={"email": email}, **kw)


def test_a_forgotten_password_is_reset_by_a_mailed_link_that_works_once(
    make_app: Any, smtp_server: Any, db: Any
) -> None:
    from pb.accounts.models import User
    from pb.audit import AuditAction, AuditEvent
    from tests.conftest import create_users

    app = make_app(MAIL_PORT=smtp_server.port)
    create_users(app)
    db.execute(sa.update(User).where(User.email == "participant@example.org").values(locale="sv"))
    db.commit()
    old = app.test_client()
    login(old, "participant")  # another browser, logged in before the reset
    client = app.test_client()
    for _ in range(6):  # the forgotten password, guessed until the address is locked out
        r = client.post("/account/login", data={"email": "participant@example.org",
                                                "password": "a-guess"})  # fmt: skip
    assert r.status_code == 429
    page = client.get("/account/login?lang=en").get_data(as_text=True)
    assert 'href="/account/password/forgot"' in page and "Forgot your password?" in page
    r = _ask(client, " Participant@Example.org ")
    assert r.status_code == 303 and r.headers["Location"] == "/account/password/forgot/sent"
    sent = client.get("/account/password/forgot/sent?lang=en").get_data(as_text=True)
    assert "If there is an account with that address, we have sent a link" in sent
    _send(app, 1)
    mail = smtp_server.messages[-1]
    assert mail["To"] == "participant@example.org" and mail["Subject"] == "Välj ett nytt lösenord"
    body = mail.get_content()
    m = re.search(RESET, body)
    assert m, body
    link = m.group(1)
    assert "inom en timme" in body  # the account's mail language, not the page's

    assert "Choose a new password" in client.get(link + "?lang=en").get_data(as_text=True)
    # The same rules as registering: too short, or not the same twice, keeps the link.
    r = client.post(link + "?lang=en", data={"password": "short", "confirm": "short"})
    assert (
        r.status_code == 400
        and "Field must be between 10 and 200 characters long." in r.get_data(as_text=True)
    ), r.get_data(as_text=True)
    r = client.post(link + "?lang=en", data={"password": "a-new-password", "confirm": "other"})
    assert r.status_code == 400 and "The passwords differ." in r.get_data(as_text=True)
    r = client.post(link, data={"password": "a-new-password", "confirm": "a-new-password"})
    assert r.status_code == 303 and r.headers["Location"] == "/account/login"

    # The old password no longer works, the new one does (the lock-out of the address has
    # ended with the reset); the other browser is logged out.
    assert old.get("/account/password").status_code == 302
    r = client.post("/account/login?lang=en",
                    data={"email": "participant@example.org", "password": "password-participant"})  # fmt: skip
    assert r.status_code == 400
    login_new = client.post("/account/login", data={"email": "participant@example.org",
                                                     "password": "a-new-password"})  # fmt: skip
    assert login_new.status_code == 303

    # The link has done its work: used once, it is refused with a way to ask again.
    r = app.test_client().get(link + "?lang=en")
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and "has already been used" in page
    assert 'href="/account/password/forgot"' in page
    r = app.test_client().post(link, data={"password": "third-password", "confirm": "third-password"})  # fmt: skip
    assert r.status_code == 400

    # The owner is told, and the audit log has the change (and no secret).
    _send(app, 1)
    told = smtp_server.messages[-1]
    assert told["To"] == "participant@example.org"
    assert told["Subject"] == "Ditt lösenord har ändrats"
    user = db.scalar(sa.select(User).where(User.email == "participant@example.org"))
    entries = db.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == AuditAction.USER_PASSWORD, AuditEvent.subject_id == user.id
    )).all()  # fmt: skip
    assert len(entries) == 1
    assert "a-new-password" not in repr(entries[0].data) and "argon2" not in repr(entries[0].data)


def test_an_unknown_address_gets_the_same_answer_and_no_link(
    make_app: Any, smtp_server: Any, users: Any
) -> None:
    app = make_app(MAIL_PORT=smtp_server.port)
    known = _ask(app.test_client(), "participant@example.org")
    unknown = _ask(app.test_client(), "nobody@example.org")
    assert unknown.status_code == known.status_code == 303
    assert unknown.headers["Location"] == known.headers["Location"]
    _send(app, 2)
    note = smtp_server.messages[-1]
    assert note["To"] == "nobody@example.org"
    assert "/account/password/reset/" not in note.get_content()
    assert "there is no account with this address" in note.get_content()


def test_a_tampered_used_or_expired_link_is_refused_with_a_way_to_ask_again(
    app: Any, users: Any
) -> None:
    import time

    import itsdangerous

    from pb import tokens
    from pb.accounts import services
    from pb.accounts.models import User
    from pb.db import get_session

    class Signed2HoursAgo(itsdangerous.TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 2 * 3600

    with app.app_context():
        user = get_session().scalar(sa.select(User).where(User.email == "participant@example.org"))
        data = {"u": user.id, "h": services._password_digest(user)}
        good = services.reset_token(user)
        used = tokens.dumps("password-reset", {**data, "h": "0" * 24})  # an older password
        expired = itsdangerous.URLSafeTimedSerializer(
            app.config["SECRET_KEY"], salt="pb.password-reset", signer=Signed2HoursAgo
        ).dumps(data)
        other_purpose = tokens.dumps("register", data)
    client = app.test_client()
    assert client.get(f"/account/password/reset/{good}").status_code == 200
    for token in (used, expired, other_purpose, good[:-3] + "xyz", "junk"):
        r = client.get(f"/account/password/reset/{token}?lang=sv")
        page = r.get_data(as_text=True)
        assert r.status_code == 400, token
        assert "Be om en ny länk" in page and 'href="/account/password/forgot"' in page
        r = client.post(f"/account/password/reset/{token}",
                        data={"password": "a-new-password", "confirm": "a-new-password"})  # fmt: skip
        assert r.status_code == 400
    assert client.post("/account/login", data={"email": "participant@example.org",
                                                "password": "password-participant"}).status_code == 303  # fmt: skip


def test_asking_for_new_passwords_is_rate_limited(make_app: Any, users: Any, db: Any) -> None:
    from pb.mail.models import OutboxMessage

    app = make_app(REGISTER_MAX_PER_IP=5)
    client = app.test_client()
    # One address gets at most three mails an hour, and the answer does not change.
    for _ in range(4):
        r = _ask(client, "participant@example.org")
        assert r.status_code == 303
    assert db.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 3
    r = _ask(client, "participant2@example.org")
    assert r.status_code == 303
    # Past the limit per IP address: refused, saying for how long, in the page's language.
    r = _ask(client, "admin@example.org")
    assert r.status_code == 429
    assert "Try again in 60 minutes." in r.get_data(as_text=True)
    assert 'value="admin@example.org"' in r.get_data(as_text=True)  # nothing typed is lost
    r = _ask(client, "admin@example.org", lang="sv")
    assert r.status_code == 429 and "Försök igen om 60 minuter." in r.get_data(as_text=True)
    assert db.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 4
    # Another IP address may still ask.
    r = _ask(client, "admin@example.org", environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert r.status_code == 303
