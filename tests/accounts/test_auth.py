"""Register, log in, log out, change password, rate limiting, safe redirects, roles."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import login


def _mailed_link(app: Any, smtp_server: Any) -> str:
    """Send the outbox over real SMTP; the path of the one link to finish registering."""
    import re

    from pb.cli import main

    result = app.test_cli_runner().invoke(main, ["mail", "send"])
    assert result.exit_code == 0 and "sent 1" in result.output, result.output
    body = smtp_server.messages[-1].get_content()
    m = re.search(r"http://127\.0\.0\.1:5000(/account/register/finish/\S+)", body)
    assert m, body
    return m.group(1)


def test_register_by_mailed_link_then_logged_in_with_argon2id(
    make_app: Any, smtp_server: Any, db: Any
) -> None:
    from pb.accounts.models import User

    app = make_app(MAIL_PORT=smtp_server.port)
    client = app.test_client()
    r = client.post("/account/register?lang=en",
                    data={"email": "Karin@Example.org ", "locale": "en"})  # fmt: skip
    assert r.status_code == 303 and r.headers["Location"] == "/account/register/sent"
    assert "Open the link in it" in client.get("/account/register/sent?lang=en").get_data(
        as_text=True
    )
    assert db.scalar(sa.select(sa.func.count()).select_from(User)) == 0  # not before the link
    link = _mailed_link(app, smtp_server)
    assert smtp_server.messages[-1]["To"] == "karin@example.org"
    assert smtp_server.messages[-1]["Subject"] == "Finish creating your account"
    page = client.get(link + "?lang=en").get_data(as_text=True)
    assert "Your e-mail address: karin@example.org" in page
    r = client.post(link, data={"display_name": " Karin ", "password": "correct horse",
                                "confirm": "correct horse"})  # fmt: skip
    assert r.status_code == 303 and r.headers["Location"] == "/"
    user = db.scalar(sa.select(User).where(User.email == "karin@example.org"))
    assert user is not None and user.password_hash.startswith("$argon2id$")
    assert "correct horse" not in user.password_hash
    assert user.display_name == "Karin" and user.locale == "en"
    assert "Karin" in client.get("/").get_data(as_text=True)
    # The link has done its work: opened again, it leads to logging in.
    r = app.test_client().get(link)
    assert r.status_code == 303 and r.headers["Location"] == "/account/login"


def test_register_errors_keep_what_was_typed(client: Any, app: Any) -> None:
    from pb import tokens

    r = client.post("/account/register?lang=en", data={"email": "not-an-address", "locale": "sv"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "Invalid email address." in html and 'value="not-an-address"' in html
    with app.test_request_context():
        token = tokens.dumps("register", {"e": "x@example.org", "l": "sv"})
    r = client.post(f"/account/register/finish/{token}?lang=sv", data={
        "display_name": "Xavier", "password": "short", "confirm": "other",
    })  # fmt: skip
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "Lösenorden är olika" in html and 'value="Xavier"' in html
    r = client.get(f"/account/register/finish/{token[:-3]}xyz?lang=en")
    assert r.status_code == 400
    assert "This link is not valid or has expired." in r.get_data(as_text=True)


def test_login_logout(client: Any, users: Any) -> None:
    login(client, "participant")
    assert "Participant" in client.get("/").get_data(as_text=True)
    r = client.post("/account/logout")
    assert r.status_code == 303
    assert "Participant" not in client.get("/").get_data(as_text=True)


def test_wrong_password_is_refused_with_a_clear_message(client: Any, users: Any) -> None:
    r = client.post("/account/login?lang=en",
                    data={"email": "participant@example.org", "password": "nope"})  # fmt: skip
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "The e-mail address or the password is wrong." in html
    assert 'value="participant@example.org"' in html


def test_login_is_rate_limited_per_address(make_app: Any, users: Any) -> None:
    app = make_app(LOGIN_MAX_ATTEMPTS=3)
    client = app.test_client()
    for _ in range(3):
        r = client.post("/account/login?lang=en",
                        data={"email": "participant@example.org", "password": "bad"})  # fmt: skip
        assert r.status_code == 400
    # Even the right password is refused while the limit holds.
    r = client.post(
        "/account/login?lang=en",
        data={"email": "participant@example.org", "password": "password-participant"},
    )
    assert r.status_code == 429
    assert "Try again in 15 minutes." in r.get_data(as_text=True)
    r = client.post(
        "/account/login?lang=sv", data={"email": "participant@example.org", "password": "bad"}
    )
    assert "Försök igen om 15 minuter." in r.get_data(as_text=True)
    # Another account from another address is not affected.
    other = app.test_client()
    r = other.post(
        "/account/login",
        data={"email": "admin@example.org", "password": "password-admin"},
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
    )
    assert r.status_code == 303


@pytest.mark.parametrize("target,expected", [
    ("/p/x", "/p/x"),
    ("https://evil.example/", "/"),
    ("//evil.example/", "/"),
    ("/\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
    ("/x%0Ay", "/"),  # third probe: a line break made a 500 after a successful log-in
    ("/x%0D%0ASet-Cookie:%20a=b", "/"),
    ("/%09/evil.example", "/"),
    ("/x%7F", "/x"),  # DEL is dropped from every query value (pb.wrappers), leaving /x
])  # fmt: skip
def test_redirect_after_login_is_same_site_only(
    client: Any, users: Any, target: str, expected: str
) -> None:
    r = client.post(
        f"/account/login?next={target}",
        data={"email": "participant@example.org", "password": "password-participant"},
    )
    assert r.status_code == 303
    assert r.headers["Location"] == expected


@pytest.mark.parametrize("target", ["/x\ny", "/p/x\r\nSet-Cookie: a=b", "/\t/evil.example"])
def test_language_switch_refuses_control_characters_in_next(client: Any, target: str) -> None:
    """Third probe: the language switch gave a 500 for a line break in ``next``."""
    r = client.post("/lang", data={"lang": "en", "next": target})
    assert r.status_code == 303 and r.headers["Location"] == "/"
    assert "Set-Cookie: a=b" not in str(r.headers)


def test_change_password_ends_other_sessions(app: Any, users: Any) -> None:
    a, b = app.test_client(), app.test_client()
    login(a, "participant")
    login(b, "participant")
    r = a.post("/account/password", data={
        "current": "password-participant", "password": "a-new-password", "confirm": "a-new-password",
    })  # fmt: skip
    assert r.status_code == 303
    assert a.get("/account/password").status_code == 200  # this browser stays logged in
    assert b.get("/account/password").status_code == 302  # the other one is logged out
    r = b.post(
        "/account/login", data={"email": "participant@example.org", "password": "a-new-password"}
    )
    assert r.status_code == 303


def test_change_password_wrong_current(client: Any, users: Any) -> None:
    login(client, "participant")
    r = client.post("/account/password?lang=en", data={
        "current": "wrong", "password": "a-new-password", "confirm": "a-new-password",
    })  # fmt: skip
    assert r.status_code == 400
    assert "This is not your current password." in r.get_data(as_text=True)


def test_session_cookie_flags(make_app: Any, users: Any) -> None:
    app = make_app(SESSION_COOKIE_SECURE=True)
    client = app.test_client()
    r = client.post(
        "/account/login",
        data={"email": "participant@example.org", "password": "password-participant"},
    )
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("who,status", [
    (None, 302), ("participant", 403), ("official", 403), ("admin", 200),
])  # fmt: skip
def test_admin_pages_need_the_admin_role(
    client: Any, users: Any, who: str | None, status: int
) -> None:
    if who:
        login(client, who)
    assert client.get("/admin/processes/").status_code == status
    assert client.get("/admin/processes/new").status_code == status


def test_create_admin_command(runner: Any, db: Any) -> None:
    from pb.accounts.models import Role, User
    from pb.cli import main

    result = runner.invoke(main, args=["users", "create-admin", "--email", "boss@lund.example",
                                 "--password", "a-long-password"])  # fmt: skip
    assert result.exit_code == 0, result.output
    user = db.scalar(sa.select(User).where(User.email == "boss@lund.example"))
    assert user is not None and user.role == Role.ADMIN
    result = runner.invoke(main, args=["users", "create-admin", "--email", "x@lund.example",
                                 "--password", "short"])  # fmt: skip
    assert result.exit_code != 0 and "at least" in result.output
    # A refusal of the service (a name of spaces) is a usage message, not a traceback.
    result = runner.invoke(main, args=["users", "create-admin", "--email", "y@lund.example",
                                 "--name", "   ", "--password", "a-long-password"])  # fmt: skip
    assert result.exit_code == 2 and "synligt tecken" in result.output, result.output  # sv default
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert db.scalar(sa.select(User).where(User.email == "y@lund.example")) is None


def test_rate_limit_hits_older_than_any_window_are_dropped(app: Any, db: Any) -> None:
    import datetime as dt

    from pb.security import MAX_WINDOW, RateLimitHit, limiter

    old = dt.datetime.now(dt.UTC) - MAX_WINDOW - dt.timedelta(minutes=1)
    db.add(RateLimitHit(key="login.email:someone@example.org", at=old))
    db.commit()
    with app.app_context():
        limiter("login.email").hit("other@example.org")
    keys = db.scalars(sa.select(RateLimitHit.key)).all()
    assert keys == ["login.email:other@example.org"]
