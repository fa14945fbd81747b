"""Nothing a user can send produces a 500: malformed and oversized values are posted to every
POST endpoint (and query strings to every GET page) as anonymous, participant and admin."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import login

HUGE = "x" * 200_000
PAYLOADS: list[dict[str, Any]] = [
    {},
    {"title_sv": HUGE, "slug": HUGE, "budget": HUGE, "email": HUGE, "password": HUGE,
     "body": HUGE, "title": HUGE, "description": HUGE, "note": HUGE, "reason": HUGE},
    {"budget": "-1", "min_age": "1e309", "max_projects": "NaN", "cost": "∞", "decision_date": "2027-02-31",
     "phases-voting-starts_at": "yesterday", "areas-0-budget": "12abc", "areas-99999-name": "x"},
    {"email": "\x00@\x00", "password": "\x00", "lang": "\x00", "next": "\x00//evil",
     "connections": ["lives", "\x00", "x" * 1000], "code_channels": ["🙂"]},
    {"influence_level": ["a", "b"], "ballot_type": "", "counting_rule": "<script>", "tie_break": "%s%s%n"},
    {"csrf_token": "garbage", "proposal_id": "1 OR 1=1", "id": "'; DROP TABLE users; --"},
]  # fmt: skip


def _fill(rule: Any) -> str:
    return re.sub(r"<(?:([a-z]+):)?([a-z_]+)>",
                  lambda m: "1" if m.group(1) == "int" else "x", rule.rule)  # fmt: skip


@pytest.mark.parametrize("who", [None, "participant", "official", "admin"])
def test_no_post_endpoint_gives_a_500(
    app: Any, users: Any, make_process: Any, who: str | None
) -> None:
    make_process(slug="x")
    client = app.test_client()
    if who:
        login(client, who)
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or ()):
            continue
        url = _fill(rule)
        for payload in PAYLOADS:
            r = client.post(url, data=payload)
            assert r.status_code < 500, f"{who} POST {url} {list(payload)} -> {r.status_code}"
        r = client.post(
            url, data=b"\xff\xfe\x00garbage", content_type="application/x-www-form-urlencoded"
        )
        assert r.status_code < 500, f"{who} POST {url} (binary) -> {r.status_code}"


@pytest.mark.parametrize("who", [None, "admin"])
def test_no_get_page_gives_a_500(app: Any, users: Any, make_process: Any, who: str | None) -> None:
    make_process(slug="x")
    client = app.test_client()
    if who:
        login(client, who)
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        url = _fill(rule)
        for query in ("", "?page=-1&per_page=99999999&lang=xx&sort=%00", "?q=" + "%FF" * 50):
            r = client.get(url + query)
            assert r.status_code < 500, f"{who} GET {url}{query} -> {r.status_code}"


def test_oversized_request_body_gets_a_413_page(make_app: Any) -> None:
    app = make_app(MAX_CONTENT_LENGTH=1000)
    r = app.test_client().post("/account/login?lang=en", data={"email": "x" * 5000})
    assert r.status_code == 413 and "too large" in r.get_data(as_text=True)


def test_a_crash_gives_a_500_page_in_the_users_language(make_app: Any, users: Any) -> None:
    from tests.conftest import login as log_in

    app = make_app()
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    client = app.test_client()
    log_in(client, "participant")  # the page header needs the user after the rollback
    r = client.get("/boom?lang=sv")
    assert r.status_code == 500 and "Något gick fel" in r.get_data(as_text=True)


@pytest.mark.parametrize("host", ["x" * 64, "x" * 200 + ".se", "a..b"])
def test_a_host_header_werkzeug_refuses_gets_a_400_not_a_500(app: Any, host: str) -> None:
    """A label over 63 characters (IDNA) or an empty one: Werkzeug refuses the host, and the
    error page, which builds URLs, cannot be rendered; a plain page says so (probe of the
    page cache, F5)."""
    for path in ("/", "/healthz", "/p/x"):
        r = app.test_client().get(path, headers={"Host": host})
        assert r.status_code == 400, (path, r.status_code)
        assert "The page could not be shown for this request." in r.get_data(as_text=True)
