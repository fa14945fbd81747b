"""Templates' ``url_for`` (pb.web.template_url_for) remembers the URLs that can only ever be
the same; every answer must still be exactly Flask's own."""

from __future__ import annotations

from typing import Any

from flask import render_template_string
from markupsafe import escape

CALLS = [
    "url_for('static', filename='css/pb.css')",
    "url_for('main.home')",
    "url_for('main.brand_css')",
    "url_for('processes.show', slug='a-b')",
    "url_for('processes.show', slug='a b/å')",
    "url_for('voting.ballot', slug='rosta')",
    "url_for('accounts.login', next='/p/x?y=1')",
    "url_for('main.home', _external=True)",
    "url_for('main.home', _anchor='top')",
    "url_for('processes.show', slug='x', _external=True)",
    "url_for('main.home', slug='x')",
    "url_for('voting.ballot', slug='rosta', lang='sv')",
    "url_for('voting.ballot', lang='en', slug='rosta')",
    "url_for('proposals.show', slug='parker', pid=12)",
    "url_for('proposals.show', slug='parker', pid='12')",
    "url_for('proposals.show', slug='parker', pid=True)",
    "url_for('processes.show', slug='x', lang='en', pid=3)",
]


def _flask(app: Any, call: str) -> str:
    """The same call to Flask's own ``url_for``."""
    return str(eval("app." + call, {"app": app}))


def test_template_urls_are_flasks_own_however_often_and_wherever_served(app: Any) -> None:
    for base in ["http://localhost/", "http://localhost/under/", "https://example.org/pb/"]:
        for _time in range(3):  # built, then remembered
            with app.test_request_context("/", base_url=base):
                for call in CALLS:
                    got = render_template_string("{{ " + call + " }}")
                    assert got == escape(_flask(app, call)), (base, call)
    with app.test_request_context("/", base_url="http://localhost/under/"):
        assert render_template_string("{{ url_for('main.home') }}") == "/under/"
        css = render_template_string("{{ url_for('static', filename='css/pb.css') }}")
        assert css == "/under/static/css/pb.css"
    with app.test_request_context("/"):
        assert render_template_string("{{ url_for('main.home') }}") == "/"


def test_the_memo_is_emptied_when_full(app: Any, monkeypatch: Any) -> None:
    from pb import web

    monkeypatch.setattr(web, "URL_MEMO_SIZE", 3)
    with app.test_request_context("/"):
        for pid in [*range(1, 10), *range(1, 10)]:
            got = render_template_string("{{ url_for('proposals.show', slug='p', pid=n) }}", n=pid)
            assert got == f"/p/p/proposals/{pid}"


def test_with_a_server_name_any_host_gets_flasks_own_urls(make_app: Any) -> None:
    app = make_app(SERVER_NAME="pb.example.org")
    for host in ["pb.example.org", "other.example.com", "x.pb.example.org", "pb.example.org"]:
        with app.test_request_context("/", base_url=f"http://{host}/"):
            for call in CALLS:
                got = render_template_string("{{ " + call + " }}")
                assert got == escape(_flask(app, call)), (host, call)
