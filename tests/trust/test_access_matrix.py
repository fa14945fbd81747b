"""Every route, for every role, against the declared table (``access_matrix.txt``): the status
each role gets, and the security headers on every answer (the strict CSP with
frame-ancestors 'none', nosniff, X-Frame-Options, the referrer policy, HSTS under the
production setting, ``no-store`` on personal pages). A route missing from the table fails."""

from __future__ import annotations

from typing import Any

import pytest

from tests.trust import matrix
from tests.trust.world import ROLES, build, client_for

ROWS = matrix.load_table()


def _routes(app: Any) -> set[tuple[str, str]]:
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }


def test_every_route_and_method_is_declared(app: Any) -> None:
    declared = {row.key for row in ROWS}
    missing = sorted(_routes(app) - declared)
    stale = sorted(declared - _routes(app))
    assert not missing, f"routes not in access_matrix.txt (declare them): {missing}"
    assert not stale, f"rows for routes the app no longer has: {stale}"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_the_declared_status_and_headers_everywhere(
    app: Any, make_process: Any, users: Any, role: str
) -> None:
    world = build(app, make_process, users)
    client = client_for(app, world, role)
    endpoints = {(m, r.rule): r.endpoint for r in app.url_map.iter_rules() for m in r.methods or ()}
    wrong = []
    for row in ROWS:
        response = matrix.visit(client, role, world, row)
        if response.status_code != row.expected[role]:
            wrong.append(f"line {row.line}: {row.label()}: {response.status_code}, "
                         f"declared {row.expected[role]}")  # fmt: skip
        for problem in matrix.header_problems(response, endpoints[row.key], role, True):
            wrong.append(f"line {row.line}: {row.label()}: {problem}")
    assert not wrong, f"{role}:\n" + "\n".join(wrong)


class _Answer:
    """A response as ``header_problems`` reads it."""

    def __init__(self, headers: dict[str, str], status: int = 200, mimetype: str = "text/html"):
        self.headers, self.status_code, self.mimetype = headers, status, mimetype


GOOD = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; "
    "form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Cache-Control": "no-store",
}
UNSAFE = GOOD["Content-Security-Policy"].replace("script-src 'self'", "script-src 'unsafe-inline'")


@pytest.mark.parametrize(
    ("change", "endpoint", "role", "problem"),
    [
        ({}, "voting.start", "anon", None),
        ({"Cache-Control": "public"}, "voting.start", "anon", "personal page"),
        ({"Cache-Control": "public"}, "main.home", "participant", "personal page"),
        ({"Cache-Control": "public"}, "main.home", "anon", None),
        ({"Content-Security-Policy": UNSAFE}, "main.home", "anon", "CSP"),
        ({"Content-Security-Policy": "default-src 'self'"}, "main.home", "anon", "frame-ancestors"),
        ({"Strict-Transport-Security": "max-age=60"}, "main.home", "anon", "HSTS"),
        ({"X-Content-Type-Options": ""}, "main.home", "anon", "nosniff"),
        ({"Referrer-Policy": "unsafe-url"}, "main.home", "anon", "Referrer-Policy"),
    ],
)
def test_the_header_check_catches_what_it_should(
    change: dict[str, str], endpoint: str, role: str, problem: str | None
) -> None:
    found = matrix.header_problems(_Answer({**GOOD, **change}), endpoint, role, True)
    if problem is None:
        assert found == []
    else:
        assert any(problem in p for p in found), found
