"""HTML and script typed into any field are shown as text, never run: every text field,
every page that shows it (and the CSP forbids inline script anyway)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tests.conftest import login
from tests.proposals.helpers import proposal_data

PAYLOADS = [
    "<script>alert('x1')</script>",
    '"><img src=x onerror=alert("x2")>',
    "<svg/onload=alert('x3')>",
    "javascript:alert('x4')",
    "<a href=\"javascript:alert('x5')\">klick</a>",
    "'; alert('x6'); '",
    "<iframe src=//evil.example/x7></iframe>",
    "{{ 7*7 }} ${7*7} <b>x8</b>",
    "https://example.org/\"onmouseover=\"alert('x9')",
]

DANGEROUS = ("<script>alert", "<img src=x", "<svg/onload", "<iframe", 'href="javascript:',
             '"onmouseover=', "<b>x8</b>")  # fmt: skip


def _check(html: str, where: str) -> None:
    for bad in DANGEROUS:
        assert bad not in html, f"{bad!r} unescaped on {where}"
    assert "49" not in html.split("x8")[0][-40:], f"template code ran on {where}"


def test_xss_payloads_are_shown_as_text_everywhere(
    make_app: Any, users: Any, make_process: Any, db: Any
) -> None:
    from pb.proposals.models import Comment, Proposal
    from tests.proposals.conftest import make_proc

    app = make_app(PROPOSALS_PER_PERSON=100)
    proc = make_proc(app, make_process)
    client = app.test_client()
    login(client, "participant")
    pids = []
    for n, payload in enumerate(PAYLOADS):
        data = proposal_data(title=f"T{n} {payload}"[:120], description=f"D {payload}",
                             address=f"A {payload}"[:200], category=str(proc.parks),
                             area=str(proc.north))  # fmt: skip
        r = client.post("/p/parker/proposals/new", data=data)
        assert r.status_code == 303, r.get_data(as_text=True)
        pid = int(r.headers["Location"].rsplit("/", 1)[1])
        pids.append(pid)
        client.post(f"/p/parker/proposals/{pid}/comments", data={"body": f"C {payload}"})
    first_comment = db.scalars(sa.select(Comment.id).order_by(Comment.id)).first()
    client.post(f"/p/parker/proposals/{pids[0]}/comments",
                data={"body": f"R {PAYLOADS[0]}", "parent_id": str(first_comment)})  # fmt: skip
    official = app.test_client()
    login(official, "official")
    other = app.test_client()
    login(other, "participant2")
    for n, (pid, payload) in enumerate(zip(pids, PAYLOADS, strict=True)):
        other.post(f"/p/parker/proposals/{pid}/report", data={"reason": "spam", "note": payload})
        official.post(f"/p/parker/review/{pid}", data={"feasibility": "needs-work",
                      "official_cost": "", "answer": f"Svar {payload}", "decision": ""})  # fmt: skip
        if n % 3 == 0:
            official.post(f"/p/parker/moderation/proposals/{pid}/hide",
                          data={"reason": f"Skäl {payload}"})  # fmt: skip
    assert db.scalar(sa.select(sa.func.count()).select_from(Proposal)) == len(PAYLOADS)

    anon = app.test_client()
    pages = {
        "list": (anon, "/p/parker/proposals"),
        "search": (anon, "/p/parker/proposals?q=script"),
        "queue": (official, "/p/parker/moderation"),
        "bulk": (official, "/p/parker/review"),
        "mine": (client, "/p/parker/proposals/mine"),
        "similar": (anon, "/p/parker/proposals/similar?title=T1+img"),
        "api": (anon, "/api/v1/processes/parker/proposals"),
    }
    for pid in pids:
        pages[f"page {pid}"] = (client, f"/p/parker/proposals/{pid}")
        pages[f"official page {pid}"] = (official, f"/p/parker/proposals/{pid}")
        pages[f"edit {pid}"] = (client, f"/p/parker/proposals/{pid}/edit")
        pages[f"review {pid}"] = (official, f"/p/parker/review/{pid}")
        pages[f"report {pid}"] = (other, f"/p/parker/proposals/{pid}/report")
    for where, (c, url) in pages.items():
        r = c.get(url, follow_redirects=True)
        assert r.status_code in (200, 404), (where, r.status_code)
        if r.mimetype == "application/json":  # data, shown by proposals.js with textContent
            assert r.headers["X-Content-Type-Options"] == "nosniff"
            continue
        _check(r.get_data(as_text=True), where)
        assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    # Escaped, not dropped: the words are still there to read.
    html = client.get(f"/p/parker/proposals/{pids[0]}").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#39;x1&#39;)&lt;/script&gt;" in html
    # A bad link in the description is not made a link.
    html = anon.get(f"/p/parker/proposals/{pids[3]}").get_data(as_text=True)
    assert 'href="javascript:' not in html


def test_xss_in_rendered_mail_and_open_data_is_plain_text(
    app: Any, client: Any, users: Any, proc: Any, db: Any
) -> None:
    from pb.mail.models import OutboxMessage

    login(client, "participant")
    r = client.post("/p/parker/proposals/new", data=proposal_data(
        title="<script>alert(1)</script>", category=str(proc.parks), area=str(proc.north)))  # fmt: skip
    pid = int(r.headers["Location"].rsplit("/", 1)[1])
    official = app.test_client()
    login(official, "official")
    official.post(f"/p/parker/review/{pid}", data={"feasibility": "not-feasible",
                  "official_cost": "", "answer": "<b>nej</b>", "decision": "reject"})  # fmt: skip
    mail = db.scalars(sa.select(OutboxMessage)).one()
    assert "<script>alert(1)</script>" in mail.subject  # plain text mail: nothing to run
    csv = app.test_client().get("/p/parker/proposals.csv")
    assert csv.mimetype == "text/csv"
    js = app.test_client().get("/p/parker/proposals.json")
    # JSON carries the text as data; served as JSON that browsers must not sniff as HTML.
    assert js.mimetype == "application/json" and js.headers["X-Content-Type-Options"] == "nosniff"
    assert js.get_json()["proposals"][0]["title"] == "<script>alert(1)</script>"
