"""Regression tests for bugs found while reviewing co-creation (issue #4)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import login
from tests.proposals.helpers import make_proposal

HUGE = "9" * 30  # beyond any integer the databases store


def _client(app: Any, key: str | None) -> Any:
    c = app.test_client()
    if key:
        login(c, key)
    return c


def _comment(app: Any, client: Any, pid: int, body: str, parent: int | None = None) -> int:
    from pb.db import get_session
    from pb.proposals.models import Comment

    data = {"body": body, **({"parent_id": str(parent)} if parent else {})}
    r = client.post(f"/p/parker/proposals/{pid}/comments", data=data)
    assert r.status_code == 303, r.status_code
    with app.app_context():
        return get_session().scalar(
            sa.select(Comment.id).where(Comment.body == body).order_by(Comment.id.desc())
        )


@pytest.mark.parametrize("who", [None, "participant", "official"])
def test_huge_or_odd_numbers_are_not_found_never_a_500(
    app: Any, users: Any, proc: Any, who: str | None
) -> None:
    pid = make_proposal(app, proc.process, users["participant2"], title="Lekplats i parken")
    c = _client(app, who)
    for url in (
        f"/p/parker/proposals/{HUGE}",
        f"/p/parker/proposals/{HUGE}/report",
        f"/p/parker/comments/{HUGE}/report",
        f"/p/parker/review/{HUGE}",
        f"/api/v1/proposals/{HUGE}",
        f"/api/v1/proposals/{2**31}",
    ):
        assert c.get(url).status_code in (302, 403, 404), url
    for url in (
        f"/p/parker/proposals?area={HUGE}&category={HUGE}&page={HUGE}&seed={HUGE}",
        f"/api/v1/processes/parker/proposals?page={HUGE}",
        f"/p/parker/review?page={HUGE}",
        "/p/parker/proposals/similar?title=Lekplats&exclude=%C2%B2",
        f"/p/parker/proposals/similar?title=Lekplats&exclude={HUGE}",
    ):
        r = c.get(url)
        assert r.status_code in (200, 302, 403), (url, r.status_code)
    r = c.get(f"/p/parker/proposals/similar?title=Lekplats&exclude={pid}")
    assert r.status_code == 200 and r.get_json()["proposals"] == []


def test_huge_numbers_in_forms_are_refused_politely(app: Any, users: Any, proc: Any) -> None:
    pid = make_proposal(app, proc.process, users["participant2"])
    participant = _client(app, "participant")
    r = participant.post(
        f"/p/parker/proposals/{pid}/comments", data={"body": "Hej", "parent_id": HUGE}
    )
    assert r.status_code == 400  # refused with a message, the text kept; nothing saved
    assert "Hej</textarea>" in r.get_data(as_text=True)
    official = _client(app, "official")
    r = official.post(
        f"/p/parker/review/{pid}?lang=en",
        data={"decision": "merge", "merge_into": HUGE, "feasibility": ""},
    )
    assert r.status_code == 400
    assert "Not a proposal number." in r.get_data(as_text=True)
    r = official.post("/p/parker/review", data={"rows-0-proposal_id": HUGE})
    assert r.status_code == 400


def test_reply_to_a_hidden_comment_is_refused(app: Any, users: Any, proc: Any, db: Any) -> None:
    from pb.proposals.models import Comment

    pid = make_proposal(app, proc.process, users["participant"])
    p2 = _client(app, "participant2")
    cid = _comment(app, p2, pid, "Köp billiga klockor här")
    official = _client(app, "official")
    r = official.post(f"/p/parker/moderation/comments/{cid}/hide", data={"reason": "Reklam"})
    assert r.status_code == 303
    author = _client(app, "participant")
    r = author.post(f"/p/parker/proposals/{pid}/comments?lang=en",
                    data={"body": "Svar", "parent_id": str(cid)})  # fmt: skip
    assert r.status_code == 400 and "Svar</textarea>" in r.get_data(as_text=True)
    assert db.scalar(sa.select(sa.func.count()).select_from(Comment)) == 1


def test_hidden_merge_target_does_not_leak_its_title(app: Any, users: Any, proc: Any) -> None:
    a = make_proposal(app, proc.process, users["participant"], title="Lekplats vid dammen")
    b = make_proposal(app, proc.process, users["participant2"], title="Hemlig reklamrubrik")
    official = _client(app, "official")
    r = official.post(f"/p/parker/review/{a}",
                      data={"decision": "merge", "merge_into": str(b), "answer": "Samma idé", "feasibility": ""})  # fmt: skip
    assert r.status_code == 303
    r = official.post(f"/p/parker/moderation/proposals/{b}/hide", data={"reason": "Reklam"})
    assert r.status_code == 303
    for who in (None, "participant", "other_official"):
        html = _client(app, who).get(f"/p/parker/proposals/{a}").get_data(as_text=True)
        assert "Hemlig reklamrubrik" not in html, who
    html = official.get(f"/p/parker/proposals/{a}").get_data(as_text=True)
    assert "Hemlig reklamrubrik" in html


def test_moderation_queue_does_not_query_per_report(app: Any, users: Any, proc: Any) -> None:
    from pb.db import get_engine

    pid = make_proposal(app, proc.process, users["participant"])
    p2 = _client(app, "participant2")
    official = _client(app, "official")

    def statements() -> int:
        seen: list[str] = []
        engine = get_engine(app)
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        sa.event.listen(engine, "before_cursor_execute", listener)
        try:
            assert official.get("/p/parker/moderation").status_code == 200
        finally:
            sa.event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    def reported_comments(n: int) -> None:
        for i in range(n):
            cid = _comment(app, p2, pid, f"Kommentar {i} {n}")
            r = _client(app, "participant").post(f"/p/parker/comments/{cid}/report",
                                                 data={"reason": "spam"})  # fmt: skip
            assert r.status_code == 303
            official.post(f"/p/parker/moderation/comments/{cid}/hide", data={"reason": "x"})
            cid = _comment(app, p2, pid, f"Anmäld {i} {n}")
            _client(app, "participant").post(f"/p/parker/comments/{cid}/report",
                                             data={"reason": "spam"})  # fmt: skip

    reported_comments(2)
    few = statements()
    reported_comments(6)
    assert statements() == few


def test_officials_can_hide_a_comment_from_the_proposal_page(
    app: Any, users: Any, proc: Any
) -> None:
    pid = make_proposal(app, proc.process, users["participant"])
    cid = _comment(app, _client(app, "participant2"), pid, "Ring mig på 0701234567")
    action = f"/p/parker/moderation/comments/{cid}/hide"
    for who in (None, "participant", "participant2", "other_official"):
        html = _client(app, who).get(f"/p/parker/proposals/{pid}").get_data(as_text=True)
        assert action not in html, who
    official = _client(app, "official")
    html = official.get(f"/p/parker/proposals/{pid}").get_data(as_text=True)
    assert action in html and f"/p/parker/moderation/proposals/{pid}/hide" in html
    assert official.post(action, data={"reason": "Inga telefonnummer"}).status_code == 303
    html = _client(app, "participant2").get(f"/p/parker/proposals/{pid}").get_data(as_text=True)
    assert "Inga telefonnummer" in html
    html = _client(app, None).get(f"/p/parker/proposals/{pid}").get_data(as_text=True)
    assert "0701234567" not in html and "Inga telefonnummer" not in html


def test_moderation_overview_counts_without_a_query_per_process(
    app: Any, users: Any, make_process: Any
) -> None:
    from pb.db import get_engine

    admin = _client(app, "admin")

    def statements() -> tuple[int, str]:
        seen: list[str] = []
        engine = get_engine(app)
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        sa.event.listen(engine, "before_cursor_execute", listener)
        try:
            r = admin.get("/moderation")
            assert r.status_code == 200
        finally:
            sa.event.remove(engine, "before_cursor_execute", listener)
        return len(seen), r.get_data(as_text=True)

    make_process(slug="a")
    few, _ = statements()
    for slug in ("b", "c", "d"):
        make_process(slug=slug)
    many, html = statements()
    assert many == few
    assert html.count('/moderation"') >= 4


def test_officials_cannot_moderate_drafts(app: Any, users: Any, proc: Any, db: Any) -> None:
    from pb.proposals.models import Proposal

    pid = make_proposal(app, proc.process, users["participant"], publish=False)
    official = _client(app, "official")
    for action in ("hide", "seen"):
        r = official.post(f"/p/parker/moderation/proposals/{pid}/{action}", data={"reason": "x"})
        assert r.status_code == 404, action
    proposal = db.get(Proposal, pid)
    assert not proposal.hidden and proposal.seen_at is None
