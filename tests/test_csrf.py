"""Every POST endpoint refuses a request without a CSRF token (400 page, nothing changed),
and no endpoint changes state on GET."""

from __future__ import annotations

import re
from typing import Any

import pytest

# One-click unsubscribe (RFC 8058) is posted by mail clients without a CSRF token; the signed,
# purpose-bound token in the URL is what authorises it.
SIGNED_TOKEN_ENDPOINTS = {"mail.unsubscribe_post", "followup.stop"}


def _fill(rule: Any) -> str:
    return re.sub(
        r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: "1" if "id" in m.group(1) else "x", rule.rule
    )


def test_every_post_endpoint_rejects_missing_csrf_token(
    make_app: Any, users: Any, make_process: Any
) -> None:
    app = make_app(WTF_CSRF_ENABLED=True)
    make_process(slug="x")
    client = app.test_client()
    login_page = client.get("/account/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page)
    assert token
    r = client.post(
        "/account/login",
        data={
            "email": "admin@example.org",
            "password": "password-admin",
            "csrf_token": token.group(1),
        },
    )
    assert r.status_code == 303
    posts = [rule for rule in app.url_map.iter_rules() if "POST" in rule.methods]
    assert len(posts) >= 6
    for rule in posts:
        url = _fill(rule)
        r = client.post(url + "?lang=en", data={"anything": "1"})
        assert r.status_code == 400, f"{rule.rule} accepted a POST without a CSRF token"
        if rule.endpoint in SIGNED_TOKEN_ENDPOINTS:
            # Exempt from CSRF by design; an unsigned request is still refused.
            assert "not valid" in r.get_data(as_text=True)
        else:
            assert "not sent from this site" in r.get_data(as_text=True), rule.rule


def test_state_changing_endpoints_are_post_only(app: Any) -> None:
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[-1] in {"logout", "freeze", "set_language"}:
            assert rule.methods is not None and "GET" not in rule.methods, rule.rule


@pytest.mark.parametrize("lang,text", [("en", "Bad request"), ("sv", "Något blev fel")])
def test_csrf_error_page_is_translated(make_app: Any, lang: str, text: str) -> None:
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    r = client.post(f"/account/login?lang={lang}", data={"email": "a@b.c", "password": "x"})
    assert r.status_code == 400 and text in r.get_data(as_text=True)
