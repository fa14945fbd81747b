"""Who may do what, route by route: anonymous, participant (author or not), the process's
official, an official of another process, and an admin."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import login
from tests.proposals.helpers import make_proposal

ROLES = ("anonymous", "participant", "participant2", "official", "other_official", "admin")
LOGIN = "login"  # redirected to the log-in page


@pytest.fixture
def world(app: Any, users: Any, proc: Any) -> dict[str, Any]:
    from pb.db import get_session
    from pb.proposals.models import Comment

    pid = make_proposal(app, proc.process, users["participant"])  # participant is the author
    with app.app_context():
        s = get_session()
        c = Comment(proposal_id=pid, author_id=users["participant2"].id, body="Hej")
        s.add(c)
        s.commit()
        cid = c.id
    clients = {}
    for role in ROLES:
        c = app.test_client()
        if role != "anonymous":
            login(c, role)
        clients[role] = c
    return {"pid": pid, "cid": cid, "clients": clients}


def _status(r: Any) -> Any:
    if r.status_code in (302, 303) and "/account/login" in r.headers.get("Location", ""):
        return LOGIN
    return r.status_code


# (method, url, data, expected status per role in ROLES order)
GETS = [
    ("/p/parker/proposals", (200, 200, 200, 200, 200, 200)),
    ("/p/parker/proposals/{pid}", (200, 200, 200, 200, 200, 200)),
    ("/p/parker/proposals/new", (LOGIN, 200, 200, 200, 200, 200)),
    ("/p/parker/proposals/mine", (LOGIN, 200, 200, 200, 200, 200)),
    ("/p/parker/proposals/{pid}/edit", (LOGIN, 200, 403, 403, 403, 403)),
    ("/p/parker/proposals/{pid}/report", (LOGIN, 403, 200, 200, 200, 200)),
    ("/p/parker/comments/{cid}/report", (LOGIN, 200, 403, 200, 200, 200)),
    ("/moderation", (LOGIN, 403, 403, 200, 200, 200)),
    ("/p/parker/moderation", (LOGIN, 403, 403, 200, 403, 200)),
    ("/p/parker/review", (LOGIN, 403, 403, 200, 403, 200)),
    ("/p/parker/review/{pid}", (LOGIN, 403, 403, 200, 403, 200)),
    ("/p/parker/proposals.csv", (200,) * 6),
    ("/api/v1/processes/parker/proposals", (200,) * 6),
]


def test_get_routes_by_role(world: Any) -> None:
    wrong = {}
    for url, expected in GETS:
        url = url.format(**world)
        got = tuple(_status(world["clients"][role].get(url)) for role in ROLES)
        if got != expected:
            wrong[url] = dict(zip(ROLES, got, strict=True))
    assert not wrong


POSTS = [
    ("/p/parker/moderation/proposals/{pid}/hide", {"reason": "x"}),
    ("/p/parker/moderation/comments/{cid}/hide", {"reason": "x"}),
    ("/p/parker/review/{pid}", {"feasibility": "feasible", "answer": "", "decision": ""}),
    (
        "/p/parker/review",
        {"rows-0-proposal_id": "{pid}", "rows-0-feasibility": "feasible", "rows-0-decision": ""},
    ),
]


@pytest.mark.parametrize("url,data", POSTS)
def test_official_actions_by_role(world: Any, db: Any, url: str, data: dict[str, str]) -> None:
    url = url.format(**world)
    data = {k: v.format(**world) for k, v in data.items()}
    expected = {"anonymous": LOGIN, "participant": 403, "participant2": 403,
                "other_official": 403}  # fmt: skip
    for role, status in expected.items():
        r = world["clients"][role].post(url + "?lang=en", data=data)
        assert _status(r) == status, role
        if status == 403:
            text = r.get_data(as_text=True)
            assert "You are not an official of this process" in text, role
    r = world["clients"]["other_official"].post(url + "?lang=sv", data=data)
    assert "Du är inte tjänsteperson i den här processen" in r.get_data(as_text=True)
    assert world["clients"]["official"].post(url, data=data).status_code == 303
    assert world["clients"]["admin"].post(url, data=data).status_code in (303, 409)


def test_anonymous_posts_go_to_login_and_moderation_link_only_for_officials(
    world: Any, db: Any
) -> None:
    from pb.proposals.models import Comment, Follow, Support

    for path in ("support", "unsupport", "follow", "unfollow", "withdraw", "comments", "report"):
        r = world["clients"]["anonymous"].post(f"/p/parker/proposals/{world['pid']}/{path}",
                                               data={"body": "x", "reason": "spam"})  # fmt: skip
        assert _status(r) == LOGIN, path
    import sqlalchemy as sa

    assert db.scalar(sa.select(sa.func.count()).select_from(Support)) == 0
    assert db.scalar(sa.select(sa.func.count()).select_from(Follow)) == 0
    assert db.scalar(sa.select(sa.func.count()).select_from(Comment)) == 1
    for role in ROLES:
        html = world["clients"][role].get("/?lang=en").get_data(as_text=True)
        shown = 'href="/moderation"' in html
        assert shown == (role in ("official", "other_official", "admin")), role
