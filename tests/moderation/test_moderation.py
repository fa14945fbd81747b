"""Reports, the auto-hide threshold, the queue, hiding and restoring with a reason the
author sees, and the audit log."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import login
from tests.proposals.helpers import get, make_proposal


def _actions(db: Any, action_prefix: str = "content.") -> list[tuple[str, int | None, str]]:
    from pb.audit import AuditEvent

    db.expire_all()
    rows = db.scalars(sa.select(AuditEvent).where(AuditEvent.action.like(action_prefix + "%"))
                      .order_by(AuditEvent.id))  # fmt: skip
    return [(e.action, e.actor_id, e.reason) for e in rows]


def _report(app: Any, key: str, url: str, reason: str = "spam", lang: str = "en") -> Any:
    c = app.test_client()
    login(c, key)
    return c.post(f"{url}?lang={lang}", data={"reason": reason, "note": "Reklam för en bilfirma"})


@pytest.mark.parametrize("lang,thanks", [("en", "An official will look at your report."),
                                         ("sv", "Tack. Någon på kommunen tittar på din anmälan.")])  # fmt: skip
def test_report_a_proposal(
    app: Any, users: Any, proc: Any, db: Any, lang: str, thanks: str
) -> None:
    from pb.moderation.models import Report

    pid = make_proposal(app, proc.process, users["participant2"])
    client = app.test_client()
    login(client, "participant")
    form = client.get(f"/p/parker/proposals/{pid}/report?lang={lang}").get_data(as_text=True)
    assert ("Spam or advertising" if lang == "en" else "Skräppost eller reklam") in form
    r = client.post(f"/p/parker/proposals/{pid}/report?lang={lang}",
                    data={"reason": "offensive", "note": "Elakt"})  # fmt: skip
    assert r.status_code == 303
    assert thanks in client.get(r.headers["Location"] + f"?lang={lang}").get_data(as_text=True)
    report = db.scalars(sa.select(Report)).one()
    assert report.reason.value == "offensive" and report.note == "Elakt"
    assert _actions(db) == [("content.report", users["participant"].id, "Elakt")]
    # A second report by the same person is refused.
    r = client.post(f"/p/parker/proposals/{pid}/report?lang=en", data={"reason": "spam"})
    assert r.status_code == 409 and "already reported" in r.get_data(as_text=True)
    assert db.scalar(sa.select(sa.func.count()).select_from(Report)) == 1


def test_own_content_cannot_be_reported(app: Any, users: Any, proc: Any, db: Any) -> None:
    from pb.moderation.models import Report

    pid = make_proposal(app, proc.process, users["participant"])
    client = app.test_client()
    login(client, "participant")
    for lang, text in (("en", "You cannot report what you wrote yourself."),
                       ("sv", "Du kan inte anmäla något som du själv har skrivit.")):  # fmt: skip
        r = client.post(f"/p/parker/proposals/{pid}/report?lang={lang}", data={"reason": "spam"})
        assert r.status_code == 403 and text in r.get_data(as_text=True)
    assert db.scalar(sa.select(sa.func.count()).select_from(Report)) == 0
    r = client.post(f"/p/parker/proposals/{pid}/report?lang=en", data={"reason": "nonsense"})
    assert r.status_code == 403


def test_bad_report_input(app: Any, users: Any, proc: Any, db: Any) -> None:
    pid = make_proposal(app, proc.process, users["participant2"])
    client = app.test_client()
    login(client, "participant")
    r = client.post(f"/p/parker/proposals/{pid}/report?lang=en", data={"reason": "nonsense"})
    assert r.status_code == 400 and "Not a valid choice" in r.get_data(as_text=True)
    r = client.post(f"/p/parker/proposals/{pid}/report?lang=sv", data={"note": "x" * 1001})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "Välj vad som är fel." in html
    assert "Använd högst 1000 tecken." in html


def test_three_reports_hide_until_an_official_looks(
    app: Any, users: Any, proc: Any, db: Any
) -> None:
    from pb.accounts import services as accounts
    from pb.proposals.models import Proposal

    pid = make_proposal(app, proc.process, users["participant"], title="Köp billiga bilar")
    url = f"/p/parker/proposals/{pid}"
    follower = app.test_client()
    login(follower, "participant2")
    assert follower.post(url + "/follow").status_code == 303
    with app.app_context():
        from pb.db import get_session

        s = get_session()
        accounts.register(s, email="third@example.org", password="password-third",
                          display_name="Third")  # fmt: skip
        s.commit()
    assert _report(app, "participant2", url + "/report").status_code == 303
    assert _report(app, "official", url + "/report").status_code == 303
    assert not get(app, Proposal, pid).hidden
    assert _report(app, "third", url + "/report", reason="off-topic").status_code == 303
    p = get(app, Proposal, pid)
    assert p.hidden and p.auto_hidden
    assert [a for a, _, _ in _actions(db)] == ["content.report"] * 3 + ["content.autohide"]
    # The author alone (not the follower, participant2) is told why it is gone, in Swedish.
    from pb.mail.models import OutboxMessage

    [mail] = db.scalars(sa.select(OutboxMessage)).all()
    assert mail.to == "participant@example.org"
    assert mail.subject == "Ditt förslag ”Köp billiga bilar” är dolt medan anmälningar granskas"
    assert "en moderator" in mail.body and "/p/parker/proposals/" in mail.body
    # Gone from the list, search, the API and open data; kept in the database.
    anon = app.test_client()
    assert "Köp billiga bilar" not in anon.get("/p/parker/proposals?q=bilar").get_data(as_text=True)
    r = anon.get(url + "?lang=en")
    assert r.status_code == 410  # gone for now, and the page says why, not "not found"
    page = r.get_data(as_text=True)
    assert "This proposal is hidden while a moderator looks at it." in page
    assert "never existed" not in page and "Köp billiga" not in page
    # The same from the link in a mail, for the follower who is logged in, in Swedish.
    link = re.search(r"https?://\S+?(/p/parker/proposals/\d+)", mail.body)
    assert link is not None
    follower = app.test_client()
    login(follower, "participant2")
    r = follower.get(link.group(1) + "?lang=sv")
    assert r.status_code == 410
    assert "Förslaget är dolt medan en moderator tittar på det." in r.get_data(as_text=True)
    assert anon.get(f"/api/v1/proposals/{pid}").status_code == 404
    assert "Köp billiga" not in anon.get("/p/parker/proposals.csv").get_data(as_text=True)
    # The author still sees it, with an explanation.
    author = app.test_client()
    login(author, "participant")
    html = author.get(url + "?lang=en").get_data(as_text=True)
    assert "Several people reported this proposal" in html
    # The official sees it in the queue and restores it, with a reason.
    official = app.test_client()
    login(official, "official")
    # Closing the reports and leaving it hidden is refused (the author was promised an answer).
    r = official.post(f"/p/parker/moderation/proposals/{pid}/dismiss?lang=en", data={"reason": ""})
    assert r.status_code == 303
    assert "show it again, or hide it with a reason" in official.get(
        "/p/parker/moderation?lang=en"
    ).get_data(as_text=True)
    assert get(app, Proposal, pid).hidden
    assert _actions(db)[-1][0] == "content.autohide"  # nothing recorded
    queue = official.get("/p/parker/moderation?lang=en").get_data(as_text=True)
    assert "Köp billiga bilar" in queue and "Hidden automatically until you decide" in queue
    assert "Reklam för en bilfirma" in queue
    r = official.post(f"/p/parker/moderation/proposals/{pid}/restore?lang=en", data={"reason": ""})
    assert r.status_code == 400 and "Give a reason." in r.get_data(as_text=True)
    r = official.post(f"/p/parker/moderation/proposals/{pid}/restore?lang=en",
                      data={"reason": "Handlar om parkering, inte reklam."})  # fmt: skip
    assert r.status_code == 303
    assert not get(app, Proposal, pid).hidden
    assert _actions(db)[-1] == ("content.restore", users["official"].id,
                                "Handlar om parkering, inte reklam.")  # fmt: skip
    db.expire_all()
    mails = db.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    # Shown again: again the author alone (the follower never heard it was hidden).
    assert len(mails) == 2 and mails[1].to == "participant@example.org"
    assert mails[1].subject == "Ditt förslag ”Köp billiga bilar” visas igen"
    assert "Handlar om parkering, inte reklam." in mails[1].body
    assert anon.get(url).status_code == 200
    assert "No open reports." in official.get("/p/parker/moderation?lang=en").get_data(as_text=True)


def test_threshold_is_configurable(make_app: Any, users: Any, make_process: Any, db: Any) -> None:
    from pb.proposals.models import Proposal
    from tests.proposals.conftest import make_proc

    app = make_app(REPORTS_TO_HIDE=1)
    proc = make_proc(app, make_process)
    pid = make_proposal(app, proc.process, users["participant"])
    _report(app, "participant2", f"/p/parker/proposals/{pid}/report")
    assert get(app, Proposal, pid).hidden


def test_official_hides_with_a_reason_the_author_sees(
    app: Any, users: Any, proc: Any, db: Any
) -> None:
    from pb.mail.models import OutboxMessage
    from pb.proposals.models import Proposal

    pid = make_proposal(app, proc.process, users["participant"], title="Dumt förslag")
    official = app.test_client()
    login(official, "official")
    queue = official.get("/p/parker/moderation?lang=sv").get_data(as_text=True)
    assert "Nya förslag" in queue and "Dumt förslag" in queue
    r = official.post(f"/p/parker/moderation/proposals/{pid}/hide?lang=sv",
                      data={"reason": "Innehåller personangrepp."})  # fmt: skip
    assert r.status_code == 303
    p = get(app, Proposal, pid)
    assert p.hidden and not p.auto_hidden and p.hidden_reason == "Innehåller personangrepp."
    assert _actions(db)[-1] == ("content.hide", users["official"].id, "Innehåller personangrepp.")
    author = app.test_client()
    login(author, "participant")
    html = author.get(f"/p/parker/proposals/{pid}?lang=sv").get_data(as_text=True)
    assert "En moderator har dolt det här förslaget." in html
    assert "Innehåller personangrepp." in html
    assert "Dolt av en moderator" in html  # in its history, for the author
    assert app.test_client().get(f"/p/parker/proposals/{pid}").status_code == 410
    # The author hears about it by e-mail, in their language, with the reason.
    [mail] = db.scalars(sa.select(OutboxMessage)).all()
    assert mail.to == "participant@example.org"
    assert mail.subject == "Förslaget ”Dumt förslag” har dolts"
    assert "Innehåller personangrepp." in mail.body


def test_followers_told_of_a_hiding_are_told_when_it_is_shown_again(
    app: Any, users: Any, proc: Any, db: Any
) -> None:
    from pb.mail.models import OutboxMessage

    pid = make_proposal(app, proc.process, users["participant"], title="Fler bänkar")
    follower = app.test_client()
    login(follower, "participant2")
    assert follower.post(f"/p/parker/proposals/{pid}/follow").status_code == 303
    official = app.test_client()
    login(official, "official")
    base = f"/p/parker/moderation/proposals/{pid}"
    assert official.post(base + "/hide", data={"reason": "Fel."}).status_code == 303
    assert official.post(base + "/restore", data={"reason": "Mitt misstag."}).status_code == 303
    db.expire_all()
    mails = [(m.to, m.subject, m.body) for m in
             db.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id))]  # fmt: skip
    told = {(to, subject) for to, subject, _ in mails}
    assert told == {
        ("participant@example.org", "Förslaget ”Fler bänkar” har dolts"),
        ("participant2@example.org", "Förslaget ”Fler bänkar” har dolts"),
        ("participant@example.org", "Ditt förslag ”Fler bänkar” visas igen"),
        ("participant2@example.org", "Förslaget ”Fler bänkar” visas igen"),
    }
    # The reason goes to the author only, as when it was hidden.
    bodies = {(to, subject): body for to, subject, body in mails}
    assert (
        "Mitt misstag."
        in bodies[("participant@example.org", "Ditt förslag ”Fler bänkar” visas igen")]
    )
    assert (
        "Mitt misstag."
        not in bodies[("participant2@example.org", "Förslaget ”Fler bänkar” visas igen")]
    )


def test_comments_are_reported_hidden_and_restored(
    app: Any, users: Any, proc: Any, db: Any
) -> None:
    from pb.proposals.models import Comment, Proposal

    pid = make_proposal(app, proc.process, users["participant"])
    writer = app.test_client()
    login(writer, "participant2")
    writer.post(f"/p/parker/proposals/{pid}/comments", data={"body": "Ni är alla idioter"})
    cid = db.scalars(sa.select(Comment.id)).one()
    assert _report(app, "participant", f"/p/parker/comments/{cid}/report").status_code == 303
    r = _report(app, "participant2", f"/p/parker/comments/{cid}/report")
    assert r.status_code == 403  # own comment
    official = app.test_client()
    login(official, "official")
    assert "Ni är alla idioter" in official.get("/p/parker/moderation").get_data(as_text=True)
    r = official.post(f"/p/parker/moderation/comments/{cid}/hide", data={"reason": "Otrevligt."})
    assert r.status_code == 303
    assert get(app, Proposal, pid).comment_count == 0
    html = app.test_client().get(f"/p/parker/proposals/{pid}?lang=en").get_data(as_text=True)
    assert "Ni är alla idioter" not in html and "A moderator has hidden this comment." in html
    html = writer.get(f"/p/parker/proposals/{pid}?lang=en").get_data(as_text=True)
    assert "Ni är alla idioter" in html and "Otrevligt." in html  # its author sees why
    r = official.post(f"/p/parker/moderation/comments/{cid}/restore", data={"reason": "Ändrat."})
    assert r.status_code == 303
    assert get(app, Proposal, pid).comment_count == 1
    assert [a for a, _, _ in _actions(db)] == ["content.report", "content.hide", "content.restore"]


def test_dismiss_and_mark_seen(app: Any, users: Any, proc: Any, db: Any) -> None:
    from pb.proposals.models import Proposal

    pid = make_proposal(app, proc.process, users["participant"])
    _report(app, "participant2", f"/p/parker/proposals/{pid}/report")
    official = app.test_client()
    login(official, "official")
    r = official.post(f"/p/parker/moderation/proposals/{pid}/dismiss", data={"reason": ""})
    assert r.status_code == 303
    r = official.post(f"/p/parker/moderation/proposals/{pid}/seen", data={})
    assert r.status_code == 303
    assert get(app, Proposal, pid).seen_at is not None
    assert official.post(f"/p/parker/moderation/proposals/{pid}/explode").status_code == 404
    html = official.get("/p/parker/moderation?lang=en").get_data(as_text=True)
    assert "No open reports." in html and "No new proposals to look at." in html
    actions = [a for a, _, _ in _actions(db, "") if not a.startswith("user.")]
    assert actions[-3:] == ["content.report", "content.dismiss", "proposal.seen"]


def test_a_comment_hidden_by_reports_does_not_say_a_moderator_hid_it(
    app: Any, users: Any, proc: Any, db: Any
) -> None:
    """Three reports hide a comment until an official decides (second probe, finding 10):
    the page says so, and does not claim that a moderator acted."""
    from pb.accounts import services as accounts
    from pb.db import get_session
    from pb.proposals.models import Comment

    pid = make_proposal(app, proc.process, users["participant"])
    writer = app.test_client()
    login(writer, "participant2")
    writer.post(f"/p/parker/proposals/{pid}/comments", data={"body": "Köp billiga bilar"})
    cid = db.scalars(sa.select(Comment.id)).one()
    with app.app_context():
        s = get_session()
        accounts.register(s, email="third@example.org", password="password-third",
                          display_name="Third")  # fmt: skip
        s.commit()
    for key in ("participant", "official", "third"):
        assert _report(app, key, f"/p/parker/comments/{cid}/report").status_code == 303
    assert get(app, Comment, cid).auto_hidden
    html = app.test_client().get(f"/p/parker/proposals/{pid}?lang=en").get_data(as_text=True)
    assert "Köp billiga bilar" not in html and "A moderator has hidden" not in html
    assert "Several people reported this comment, so it is hidden until an official" in html
    html = writer.get(f"/p/parker/proposals/{pid}?lang=sv").get_data(as_text=True)
    assert "Köp billiga bilar" in html and "Dold efter flera anmälningar" in html
