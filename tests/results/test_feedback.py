"""Feedback when results are published: proposal authors and followers, and people who
follow projects without an account (asked for separately from the ballot, confirmed by a
signed link, stopped with one click), through a real SMTP server on loopback."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from tests.conftest import login
from tests.results.conftest import ballot, cast_all, close_voting, make_vote

BALLOTS = [ballot("p1", "p2"), ballot("p1", "p3"), ballot("p1", "p2", "p4"),
           ballot("p1", "p3"), ballot("p2", "p4", "p5")]  # fmt: skip
# Budget 300 000: Skatepark (p1), Musikstudio (p2), Utegym (p4), Filmkväll (p5) are funded;
# Fritidsgård (p3, 150 000) no longer fits.


def _send(app: Any) -> None:
    from pb.mail.services import send_pending

    with app.app_context():
        send_pending()


def _link(body: str, part: str) -> str:
    m = re.search(r"https?://\S*" + part + r"\S*", body)
    assert m, body
    return m.group(0).split("localhost", 1)[-1] if "localhost" in m.group(0) else m.group(0)


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def _proposals(app: Any, db: Any, users: dict[str, Any], vote: Any) -> dict[str, int]:
    """An accepted proposal on the ballot (p1), an accepted one that loses (p3), a rejected
    one and one merged into the first; participant2 (English) follows the first."""
    from pb.accounts.models import User
    from pb.proposals.models import Follow, Project, Proposal, ProposalStatus

    author = db.get(User, users["participant"].id)
    other = db.get(User, users["participant2"].id)
    other.locale = "en"
    made = {}
    for key, status in (("won", ProposalStatus.ACCEPTED), ("lost", ProposalStatus.ACCEPTED),
                        ("rejected", ProposalStatus.REJECTED),
                        ("merged", ProposalStatus.MERGED)):  # fmt: skip
        p = Proposal(process_id=vote.process_id, author_id=author.id, status=status,
                     title=f"Förslag {key}", answer="Det går inte här." if key == "rejected"
                     else "")  # fmt: skip
        db.add(p)
        db.flush()
        made[key] = p.id
    db.get(Proposal, made["merged"]).merged_into_id = made["won"]
    for code, key in (("p1", "won"), ("p3", "lost")):
        project = db.scalar(sa.select(Project).where(Project.process_id == vote.process_id,
                                                     Project.code == code))  # fmt: skip
        project.proposal_id = made[key]
    db.add(Follow(proposal_id=made["won"], user_id=other.id))
    db.commit()
    return made


def _project_ids(db: Any, vote: Any) -> dict[str, int]:
    from pb.proposals.models import Project

    rows = db.scalars(sa.select(Project).where(Project.process_id == vote.process_id))
    return {p.code: p.id for p in rows}


def _follow(app: Any, smtp_server: Any, vote: Any, email: str, ids: list[int],
            lang: str = "en") -> str:  # fmt: skip
    """Ask to follow on the page, open the mailed link, confirm; returns the confirm path."""
    client = app.test_client()
    form = client.get(f"/p/{vote.slug}/follow?lang={lang}")
    assert form.status_code == 200 and "proves nothing" in form.text
    sent = client.post(f"/p/{vote.slug}/follow?lang={lang}",
                       data={"email": email, "project": [str(i) for i in ids]})  # fmt: skip
    assert sent.status_code == 200 and "We have sent a link" in sent.text
    before = len(smtp_server.messages)
    _send(app)
    msg = smtp_server.messages[before]
    assert msg["To"] == email.lower()
    path = _path(_link(msg.get_content(), "/follow/confirm/"))
    page = client.get(path + f"?lang={lang}")
    assert page.status_code == 200 and "Confirm" in page.text
    done = client.post(path + f"?lang={lang}")
    assert done.status_code == 200 and "You will hear by e-mail" in done.text
    return path


def test_publishing_tells_authors_followers_and_project_followers(
    app: Any, make_process: Any, users: dict[str, Any], db: Any, smtp_server: Any
) -> None:
    from pb.results.models import ProjectFollow

    app.config["MAIL_PORT"] = smtp_server.port
    vote = make_vote(app, make_process)
    _proposals(app, db, users, vote)
    ids = _project_ids(db, vote)
    confirm = _follow(app, smtp_server, vote, "Kim@Example.org", [ids["p1"], ids["p3"]])
    # Nothing about a ballot is kept: only the address, the projects and the language.
    rows = db.scalars(sa.select(ProjectFollow).order_by(ProjectFollow.project_id)).all()
    assert [(r.project_id, r.email, r.locale) for r in rows] == [
        (ids["p1"], "kim@example.org", "en"), (ids["p3"], "kim@example.org", "en")]  # fmt: skip
    # Opening the link again changes nothing.
    assert app.test_client().post(confirm).status_code == 200
    assert db.scalar(sa.select(sa.func.count()).select_from(ProjectFollow)) == 2

    cast_all(app, vote, BALLOTS)
    close_voting(app, vote)
    smtp_server.messages.clear()
    admin = app.test_client()
    login(admin, "admin")
    published = admin.post(f"/p/{vote.slug}/results/publish?lang=en", follow_redirects=True)
    assert "The results are published." in published.text
    _send(app)
    by_to: dict[str, list[Any]] = {}
    for msg in smtp_server.messages:
        by_to.setdefault(msg["To"], []).append(msg)

    # The author (Swedish): three proposals with news (won, lost, rejected, merged → four).
    author = [m.get_content() for m in by_to["participant@example.org"]]
    assert len(author) == 4
    assert all(m["Subject"].startswith("Resultatet") for m in by_to["participant@example.org"])
    won = next(b for b in author if "Förslag won" in b)
    assert "kommer att få pengar" in won
    lost = next(b for b in author if "Förslag lost" in b)
    assert "kommer inte att få pengar" in lost and "när det var dess tur återstod" in lost
    rejected = next(b for b in author if "Förslag rejected" in b)
    assert "Det går inte här." in rejected
    merged = next(b for b in author if "Förslag merged" in b)
    assert "Förslag won" in merged

    # The follower of the winning proposal, in English, hears about that one only.
    [follower] = by_to["participant2@example.org"]
    body = follower.get_content()
    assert "“Förslag won” will be funded." in body and "Förslag lost" not in body

    # The no-account follower: both projects, in English, with the explanation sentences.
    [kim] = by_to["kim@example.org"]
    body = kim.get_content()
    assert "“Skatepark” will be funded." in body
    assert "“Fritidsgård” will not be funded." in body and "when its turn came" in body
    assert kim["List-Unsubscribe"]  # the outbox's one-click unsubscribe from all mail

    # One click stops following: GET asks, POST stops (no CSRF token: the link is signed).
    stop = _path(_link(body, "/follow/stop/"))
    client = app.test_client()
    assert "Stop following" in client.get(stop + "?lang=en").text
    assert db.scalar(sa.select(sa.func.count()).select_from(ProjectFollow)) == 2
    assert "You follow none" in client.post(stop + "?lang=en").text
    assert db.scalar(sa.select(sa.func.count()).select_from(ProjectFollow)) == 0


def test_the_receipt_page_links_to_following_and_says_it_proves_nothing(
    app: Any, make_process: Any
) -> None:
    from tests.voting.conftest import issue

    vote = make_vote(app, make_process)
    [code] = issue(app, vote)
    page = app.test_client().post(f"/p/{vote.slug}/vote/ballot?lang=en",
                                  data={"code": code, "pick": ["|p1"], "action": "cast"})  # fmt: skip
    assert page.status_code == 200 and 'id="receipt"' in page.text
    assert 'id="receipt-follow"' in page.text
    assert "proves nothing about a vote" in page.text
    assert f'href="/p/{vote.slug}/follow"' in page.text


def test_bad_follow_requests_are_refused_and_keep_nothing(
    app: Any, make_process: Any, db: Any, smtp_server: Any
) -> None:
    from pb import tokens
    from pb.mail.models import OutboxMessage
    from pb.results.models import ProjectFollow

    vote = make_vote(app, make_process)
    other = make_vote(app, make_process, slug="annan")
    ids = _project_ids(db, vote)
    client = app.test_client()
    bad = client.post(f"/p/{vote.slug}/follow?lang=en",
                      data={"email": "not an address", "project": [str(ids["p1"])]})  # fmt: skip
    assert bad.status_code == 400 and "Give a valid e-mail address" in bad.text
    assert f'value="{ids["p1"]}" checked' in bad.text and "not an address" in bad.text
    none = client.post(f"/p/{vote.slug}/follow?lang=en", data={"email": "a@example.org"})
    assert none.status_code == 400 and "Choose at least one project" in none.text
    # A project of another process is not followed through this one.
    foreign = _project_ids(db, other)["p1"]
    wrong = client.post(f"/p/{vote.slug}/follow?lang=en",
                        data={"email": "a@example.org", "project": [str(foreign)]})  # fmt: skip
    assert wrong.status_code == 400
    assert db.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0

    # A forged link, or one made for another process, stores nothing.
    with app.test_request_context():
        theirs = tokens.dumps("follow", {"e": "a@example.org", "s": other.process_id,
                                         "p": [foreign], "l": "en"})  # fmt: skip
        stop = tokens.dumps("follow-stop", {"e": "a@example.org", "s": vote.process_id})
    for token in ("forged", theirs, stop):
        page = client.post(f"/p/{vote.slug}/follow/confirm/{token}?lang=en")
        assert page.status_code == 400 and "not valid or has expired" in page.text
        assert client.get(f"/p/{vote.slug}/follow/confirm/{token}?lang=en").status_code == 400
    assert client.post(f"/p/{vote.slug}/follow/stop/forged?lang=en").status_code == 400
    assert db.scalar(sa.select(sa.func.count()).select_from(ProjectFollow)) == 0


def test_asking_to_follow_is_rate_limited_per_address_per_ip_and_in_all(
    app: Any, make_process: Any, db: Any
) -> None:
    """Finding 3 of the 1 Dec probe: eight requests for one address sent eight mails."""
    from pb.mail.models import OutboxMessage
    from pb.security import limiter

    vote = make_vote(app, make_process)
    ids = _project_ids(db, vote)
    client = app.test_client()

    def ask(email: str, ip: str = "10.0.0.1", lang: str = "en") -> Any:
        return client.post(f"/p/{vote.slug}/follow?lang={lang}",
                           data={"email": email, "project": [str(ids["p1"])]},
                           environ_base={"REMOTE_ADDR": ip})  # fmt: skip

    def queued(to: str) -> int:
        return db.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                         .where(OutboxMessage.to == to))  # fmt: skip

    # One address: three mails a day, then the same answer and no more mail.
    pages = [ask("victim@example.org", ip=f"10.0.1.{i}") for i in range(8)]
    assert [p.status_code for p in pages] == [200] * 8
    assert all("We have sent a link to victim@example.org" in p.text for p in pages)
    # The CSRF token carries a timestamp in seconds: requests that straddle a second differ
    # there only (seen on a loaded machine).
    token = re.compile(r'name="csrf_token" value="[^"]*"')
    assert token.sub("", pages[7].text) == token.sub("", pages[0].text)
    assert queued("victim@example.org") == 3
    # The rate-limit table holds no address.
    with app.app_context():
        from pb.db import get_session
        from pb.security import RateLimitHit

        keys = get_session().scalars(sa.select(RateLimitHit.key)).all()
    assert keys and not any("victim" in k for k in keys)

    # One IP address: 30 an hour, then a refusal saying for how long (nothing typed lost).
    for i in range(29):
        assert ask(f"person{i}@example.org", ip="10.0.0.9").status_code == 200
    assert ask("late@example.org", ip="10.0.0.9").status_code == 200
    refused = ask("later@example.org", ip="10.0.0.9")
    assert refused.status_code == 429 and "Try again in 60 minutes." in refused.text
    assert 'value="later@example.org"' in refused.text
    assert queued("later@example.org") == 0
    sv = ask("later@example.org", ip="10.0.0.9", lang="sv")
    assert sv.status_code == 429 and "Försök igen om 60 minuter." in sv.text
    # Another IP address may still ask.
    assert ask("another@example.org", ip="10.0.0.10").status_code == 200

    # In all: past the overall limit everyone is refused.
    with app.app_context():
        overall = limiter("follow.all")
        for _ in range(overall.limit):
            overall.hit("all")
    assert ask("anyone@example.org", ip="10.0.0.11").status_code == 429
    assert queued("anyone@example.org") == 0
