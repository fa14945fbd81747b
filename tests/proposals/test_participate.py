"""Supporting, commenting with one level of replies, and following."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import login
from tests.proposals.conftest import make_proc
from tests.proposals.helpers import get, make_proposal


@pytest.mark.parametrize("lang,done,again", [
    ("en", "You support this proposal.", "You already support this proposal."),
    ("sv", "Du stöder förslaget.", "Du stöder redan det här förslaget."),
])  # fmt: skip
def test_one_support_per_person_and_withdrawable(
    app: Any, client: Any, users: Any, proc: Any, db: Any, lang: str, done: str, again: str
) -> None:
    from pb.proposals.models import Proposal, Support

    pid = make_proposal(app, proc.process, users["participant2"])
    url = f"/p/parker/proposals/{pid}"
    login(client, "participant")
    r = client.post(f"{url}/support?lang={lang}")
    assert r.status_code == 303 and r.headers["Location"].endswith(f"{url}#support")
    assert done in client.get(f"{url}?lang={lang}").get_data(as_text=True)
    r = client.post(f"{url}/support?lang={lang}")
    assert again in client.get(f"{url}?lang={lang}").get_data(as_text=True)
    assert get(app, Proposal, pid).support_count == 1
    assert db.scalar(sa.select(sa.func.count()).select_from(Support)) == 1
    html = client.get(f"{url}?lang=en").get_data(as_text=True)
    assert "1 person supports this proposal." in html and "Withdraw my support" in html
    client.post(f"{url}/unsupport")
    assert get(app, Proposal, pid).support_count == 0
    client.post(f"{url}/unsupport?lang=en")
    assert "You do not support this proposal." in client.get(url + "?lang=en").get_data(
        as_text=True
    )
    assert get(app, Proposal, pid).support_count == 0


def test_the_supporting_session_reads_the_new_count_only_when_asked(
    app: Any, users: Any, proc: Any
) -> None:
    """The count is changed in the database (``support_count + 1``, safe when two support
    at once); the proposal in the session forgets its old count and reads it again only if
    asked, so a support (or its withdrawal) through the page does not read it back."""
    from pb.db import get_engine, get_session, utcnow
    from pb.processes.models import Process
    from pb.proposals import services
    from pb.proposals.models import Proposal

    pid = make_proposal(app, proc.process, users["participant2"])
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    with app.test_request_context("/?lang=en"):
        session = get_session()
        proposal = session.get(Proposal, pid)
        process = session.get(Process, proposal.process_id)
        user = session.merge(users["participant"])
        assert proposal.support_count == 0
        sa.event.listen(get_engine(app), "before_cursor_execute", record)
        try:
            services.support(session, process, proposal, user, utcnow())
            assert not [s for s in seen if s.startswith("SELECT proposals.support_count")]
            assert proposal.support_count == 1  # read when asked
            services.unsupport(session, process, proposal, user, utcnow())
            assert proposal.support_count == 0
        finally:
            sa.event.remove(get_engine(app), "before_cursor_execute", record)
        session.commit()
    assert get(app, Proposal, pid).support_count == 0


def test_supports_closed_when_voting(app: Any, client: Any, users: Any, make_process: Any) -> None:
    from pb.db import get_session
    from pb.proposals.models import Proposal

    proc = make_proc(app, make_process)
    pid = make_proposal(app, proc.process, users["participant2"])
    voting = make_proc(app, make_process, slug="rostar", running="voting")
    with app.app_context():
        session = get_session()
        session.get(Proposal, pid).process_id = voting.process.id
        session.commit()
    login(client, "participant")
    client.post(f"/p/rostar/proposals/{pid}/support?lang=en")
    html = client.get(f"/p/rostar/proposals/{pid}?lang=en").get_data(as_text=True)
    assert "Supports and comments are open only during the proposal and review phases" in html
    assert get(app, Proposal, pid).support_count == 0
    r = client.post(f"/p/rostar/proposals/{pid}/comments?lang=en", data={"body": "Hej"})
    assert r.status_code == 403 and "Comments are closed." in r.get_data(as_text=True)


def test_comments_with_one_level_of_replies(
    app: Any, client: Any, users: Any, proc: Any, db: Any
) -> None:
    from pb.proposals.models import Comment, Proposal

    pid = make_proposal(app, proc.process, users["participant2"])
    url = f"/p/parker/proposals/{pid}"
    login(client, "participant")
    r = client.post(f"{url}/comments?lang=sv", data={"body": "Bra idé!\n\nHåller med."})
    assert r.status_code == 303
    first = db.scalars(sa.select(Comment)).one()
    client.post(f"{url}/comments", data={"body": "Ett svar", "parent_id": str(first.id)})
    reply = db.scalars(sa.select(Comment).where(Comment.parent_id == first.id)).one()
    # A reply to a reply joins the same thread: one level only.
    client.post(f"{url}/comments", data={"body": "Svar på svar", "parent_id": str(reply.id)})
    db.expire_all()
    deep = db.scalars(sa.select(Comment).where(Comment.body == "Svar på svar")).one()
    assert deep.parent_id == first.id
    assert get(app, Proposal, pid).comment_count == 3
    html = client.get(f"{url}?lang=sv").get_data(as_text=True)
    assert "Din kommentar är publicerad." in html
    assert html.index("Bra idé!") < html.index("Ett svar") < html.index("Svar på svar")
    assert '<ol class="replies">' in html
    # Empty and over-long comments are explained, keeping what was typed; bad parents too.
    r = client.post(f"{url}/comments?lang=en", data={"body": "   "})
    assert r.status_code == 400 and "Write something first." in r.get_data(as_text=True)
    r = client.post(f"{url}/comments?lang=sv", data={"body": "x" * 2001})
    assert r.status_code == 400 and "Använd högst 2000 tecken." in r.get_data(as_text=True)
    assert "x" * 2001 in r.get_data(as_text=True)
    # A reply to a comment that is gone (or was hidden while it was being written): the
    # page again, the text kept in the comment box, nothing published (third probe F1).
    r = client.post(f"{url}/comments?lang=en",
                    data={"body": "Mitt långa svar", "parent_id": "999999"})  # fmt: skip
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and "The comment you replied to is no longer there" in page
    assert "Your text is kept below" in page and "Mitt långa svar</textarea>" in page
    assert 'name="parent_id" value="999999"' not in page  # sending it again publishes it
    # A tampered, unreadable parent id is a comment that is not there (fourth probe: the page
    # said "Parent Id: Inte ett giltigt heltal").
    r = client.post(f"{url}/comments?lang=sv", data={"body": "Mitt svar", "parent_id": "abc"})
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and "Kommentaren du svarade på finns inte längre kvar" in page
    assert "Parent Id" not in page and "Mitt svar</textarea>" in page
    assert db.scalar(sa.select(sa.func.count()).select_from(Comment)) == 3


def test_officials_comments_are_marked(app: Any, client: Any, users: Any, proc: Any) -> None:
    pid = make_proposal(app, proc.process, users["participant2"])
    login(client, "official")
    client.post(f"/p/parker/proposals/{pid}/comments", data={"body": "Vi tittar på det."})
    html = client.get(f"/p/parker/proposals/{pid}?lang=sv").get_data(as_text=True)
    assert '<span class="status status-official">Tjänsteperson</span>' in html


def test_the_badge_is_the_role_at_the_time_of_writing(
    app: Any, client: Any, users: Any, proc: Any
) -> None:
    """A comment written as a resident stays a resident's after its writer is made an
    official; one written as an official keeps the badge after the official is removed."""
    from pb.db import get_session
    from pb.processes import services as process_services
    from pb.processes.models import Process

    pid = make_proposal(app, proc.process, users["participant2"])
    url = f"/p/parker/proposals/{pid}"
    login(client, "participant")
    client.post(f"{url}/comments", data={"body": "Skrivet som invånare."})

    def set_official(on: bool) -> None:
        with app.test_request_context():
            s = get_session()
            process, user = s.get(Process, proc.process.id), s.merge(users["participant"])
            if on:
                process_services.assign_official(s, process, user, users["admin"])
                user.role = "official"
            else:
                process_services.remove_official(s, process, user, users["admin"])
            s.commit()

    set_official(True)
    client.post(f"{url}/comments", data={"body": "Skrivet som tjänsteperson."})
    set_official(False)
    html = client.get(url + "?lang=sv").get_data(as_text=True)
    badge = '<span class="status status-official">Tjänsteperson</span>'
    resident = html[html.index("Skrivet som invånare.") - 600 : html.index("Skrivet som invånare.")]
    official = html[
        html.index("Skrivet som tjänsteperson.") - 600 : html.index("Skrivet som tjänsteperson.")
    ]
    assert badge not in resident.rsplit('<article class="comment"', 1)[1]
    assert badge in official.rsplit('<article class="comment"', 1)[1]


def test_follow_and_unfollow(app: Any, client: Any, users: Any, proc: Any, db: Any) -> None:
    from pb.proposals.models import Follow

    pid = make_proposal(app, proc.process, users["participant2"])
    url = f"/p/parker/proposals/{pid}"
    login(client, "participant")
    client.post(f"{url}/follow?lang=en")
    assert db.scalar(sa.select(sa.func.count()).select_from(Follow)) == 1
    assert "Stop following" in client.get(url + "?lang=en").get_data(as_text=True)
    client.post(f"{url}/follow")  # twice is harmless
    assert db.scalar(sa.select(sa.func.count()).select_from(Follow)) == 1
    client.post(f"{url}/unfollow?lang=sv")
    db.expire_all()
    assert db.scalar(sa.select(sa.func.count()).select_from(Follow)) == 0
    assert "Du följer inte längre förslaget." in client.get(url + "?lang=sv").get_data(as_text=True)
