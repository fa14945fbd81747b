"""An adversarial review of voting: each test is an attack that once worked (or a refusal
that once broke a rule), kept so it stays fixed."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import login
from tests.voting.conftest import Vote, ballot, issue, make_vote, now


def _receipt(html: str) -> str:
    m = re.search(r'id="receipt">([^<]+)<', html)
    assert m, html
    return m.group(1).strip()


def _cast(client: Any, vote: Vote, code: str, *picks: str, **extra: Any) -> Any:
    data = {"code": code, "pick": [f"|{p}" for p in picks], "action": "cast", **extra}
    return client.post(f"/p/{vote.slug}/vote/ballot?lang=en", data=data)


def test_mixed_held_ballots_leave_no_trace_in_the_sqlite_file(app: Any, vote: Vote) -> None:
    """SQLite keeps deleted rows in free space until overwritten: an administrator reading
    the file could recover held ballots (with their choices) in casting order, i.e. link
    them to an access log. Mixing must overwrite what it deletes."""
    from pb.db import get_engine, get_session
    from pb.voting import services

    with app.test_request_context("/?lang=en"):
        engine = get_engine()
        if engine.dialect.name != "sqlite":
            pytest.skip("SQLite's file format")
        path = engine.url.database
        assert path and path != ":memory:"
        # As on a SQLite built without SECURE_DELETE (Debian's has it on by default).
        sa.event.listen(engine, "connect", lambda c, _r: c.execute("PRAGMA secure_delete = OFF"))
        engine.dispose()
        session = get_session()
        process = vote.process(session)
        for code in issue(app, vote, 25):
            services.cast(session, process, code, ballot("p1", "p5"), now())
            session.commit()
        assert services.mix(session, process.id) == 25
        session.commit()
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    with open(path, "rb") as f:
        raw = f.read()
    # The held rows' sealed content is the only place the key "day" is written as JSON.
    assert raw.count(b'"day"') == 0


def test_the_back_button_on_a_shared_computer_shows_no_code_or_receipt(
    client: Any, vote: Vote
) -> None:
    """A library or school computer: the next person presses Back. Pages carrying a code or a
    receipt must not be kept by the browser (with both, one can replace the ballot)."""
    [code] = issue(client.application, vote)
    r = client.post(f"/p/{vote.slug}/vote?lang=en", data={"code": code})
    assert "no-store" in r.headers.get("Cache-Control", "")
    r = client.post(f"/p/{vote.slug}/vote/ballot?lang=en",
                    data={"code": code, "pick": ["|p1"], "action": "review"})  # fmt: skip
    assert "no-store" in r.headers.get("Cache-Control", "")
    r = _cast(client, vote, code, "p1")
    receipt = _receipt(r.get_data(as_text=True))
    assert "no-store" in r.headers.get("Cache-Control", "")
    r = client.post(f"/p/{vote.slug}/vote/change?lang=en", data={"code": code, "receipt": receipt})
    assert r.status_code == 200 and "no-store" in r.headers.get("Cache-Control", "")
    r = client.post(f"/p/{vote.slug}/receipt?lang=en", data={"receipt": receipt})
    assert "no-store" in r.headers.get("Cache-Control", "")


def test_a_used_code_typed_again_is_not_a_guess(app: Any, vote: Vote) -> None:
    """A class behind one school address: pupils pressing Back and Cast again must not lock
    the whole school out of voting. A used code is a real code, not a guess."""
    client = app.test_client()
    [used, fresh] = issue(app, vote, 2)
    assert _cast(client, vote, used, "p1").status_code == 200
    for _ in range(25):
        r = _cast(client, vote, used, "p2")
        assert r.status_code == 409 and "already been used" in r.get_data(as_text=True)
    r = client.post(f"/p/{vote.slug}/vote?lang=en", data={"code": fresh})
    assert r.status_code == 200


def test_guesses_from_one_ipv6_network_share_a_limit(app: Any, vote: Vote) -> None:
    """Anyone with an IPv6 /64 has 2^64 addresses: the limit per address counts the network."""
    from pb.voting import codes

    client = app.test_client()
    statuses = []
    for i in range(25):
        r = client.post(f"/p/{vote.slug}/vote?lang=en", data={"code": codes.generate()},
                        environ_base={"REMOTE_ADDR": f"2001:db8:1:2::{i + 1:x}"})  # fmt: skip
        statuses.append(r.status_code)
    assert statuses[:20] == [400] * 20 and statuses[20:] == [429] * 5
    # Another network is not limited.
    [code] = issue(app, vote)
    r = client.post(f"/p/{vote.slug}/vote?lang=en", data={"code": code},
                    environ_base={"REMOTE_ADDR": "2001:db8:1:3::1"})  # fmt: skip
    assert r.status_code == 200


def test_x_forwarded_for_does_not_bypass_the_limit_without_trusted_proxies(
    app: Any, vote: Vote
) -> None:
    from pb.voting import codes

    assert not app.config["TRUSTED_PROXIES"]
    client = app.test_client()
    statuses = []
    for i in range(22):
        r = client.post(f"/p/{vote.slug}/vote?lang=en", data={"code": codes.generate()},
                        headers={"X-Forwarded-For": f"10.9.{i}.1"})  # fmt: skip
        statuses.append(r.status_code)
    assert statuses[-1] == 429


def test_a_rate_limited_cast_keeps_the_choices(app: Any, vote: Vote) -> None:
    from pb.security import limiter

    client = app.test_client()
    [code] = issue(app, vote)
    with app.test_request_context("/?lang=en"):
        rl = limiter("code.ip")
        for _ in range(rl.limit):
            rl.hit("127.0.0.1")
    r = _cast(client, vote, code, "p1", "p5")
    html = r.get_data(as_text=True)
    assert r.status_code == 429 and "try again in" in html
    assert 'name="pick" value="|p1"' in html and 'name="pick" value="|p5"' in html


def test_a_replacement_is_checked_like_a_cast(client: Any, make_process: Any) -> None:
    """Changing one's mind must pass the same checks, declared age included."""
    vote = make_vote(client.application, make_process, slug="aldre", min_age=18)
    [code] = issue(client.application, vote)
    r = _cast(client, vote, code, "p1", age_band="-15")
    assert r.status_code == 403 and "at least 18" in r.get_data(as_text=True)
    receipt = _receipt(_cast(client, vote, code, "p1", age_band="26-39").get_data(as_text=True))
    r = _cast(client, vote, code, "p2", age_band="-15", receipt=receipt)
    assert r.status_code == 403 and "at least 18" in r.get_data(as_text=True)


def test_an_absurd_extension_is_refused_not_a_500(client: Any, vote: Vote, users: Any) -> None:
    login(client, "admin")
    for ends in ("9999-12-31T23:59", "0001-01-01T00:00", "2026-13-01T00:00"):
        r = client.post(f"/p/{vote.slug}/voting/extend?lang=en",
                        data={"ends": ends, "reason": "Why not."})  # fmt: skip
        assert r.status_code == 400, (ends, r.status_code)


def test_paper_ballots_hide_among_all_ballots_of_their_batch(
    app: Any, vote: Vote, users: Any, db: Any
) -> None:
    """An operator knows which codes were cast on paper (the official's audited entry shares
    the casting transaction). If mixed ballots said which were paper, one paper ballot in a
    batch would be tied to its code; its batch must hide it among all the batch's ballots."""
    from pb.db import get_session
    from pb.voting import services
    from pb.voting.models import Ballot, VotingCode

    with app.test_request_context("/?lang=en"):
        session = get_session()
        process = vote.process(session)
        codes_ = issue(app, vote, 20)
        for code in codes_[:19]:
            services.cast(session, process, code, ballot("p1"), now())
            session.commit()
        official = users["official"]
        for _ in range(2):
            services.enter_paper(session, process, codes_[19], ballot("p4"), official, now())
            session.commit()
        assert services.mix(session, process.id) == 20
        session.commit()
    paper = db.scalars(sa.select(Ballot).where(Ballot.paper.is_(True))).all()
    assert paper == []
    binds = db.scalars(sa.select(VotingCode.receipt_bind).where(VotingCode.used.is_(True))).all()
    assert len(binds) == 20 and all(b and len(b) == 64 for b in binds)


def test_cross_site_posts_cast_nothing(make_app: Any, make_process: Any) -> None:
    from pb.voting.models import VotingCode

    app = make_app(WTF_CSRF_ENABLED=True)
    vote = make_vote(app, make_process)
    [code] = issue(app, vote)
    client = app.test_client()
    headers = {"Origin": "https://evil.example", "Referer": "https://evil.example/"}
    r = client.post(f"/p/{vote.slug}/vote/ballot?lang=en", headers=headers,
                    data={"code": code, "pick": ["|p1"], "action": "cast"})  # fmt: skip
    assert r.status_code == 400 and "Nothing was cast" in r.get_data(as_text=True)
    r = client.post(f"/p/{vote.slug}/vote/ballot?lang=en", headers=headers,
                    data={"code": code, "pick": ["|p1"], "action": "cast",
                          "csrf_token": "forged"})  # fmt: skip
    assert r.status_code == 400
    with app.app_context():
        from pb.db import get_session

        assert (
            get_session().scalar(sa.select(sa.func.count()).where(VotingCode.used.is_(True))) == 0
        )


def test_a_paper_entry_is_checked_like_a_cast(app: Any, make_process: Any, users: Any) -> None:
    """A tampered paper form cannot declare what a web ballot may not."""
    from pb.db import get_session
    from pb.errors import NotAllowed
    from pb.voting import services

    vote = make_vote(app, make_process, slug="papper", min_age=18)
    [code] = issue(app, vote)
    from pb.voting.models import AgeBand

    with app.test_request_context("/?lang=en"):
        session = get_session()
        with pytest.raises(NotAllowed, match="at least 18"):
            services.enter_paper(session, vote.process(session), code,
                                 ballot("p1", age_band=AgeBand.UNDER_16),
                                 users["official"], now())  # fmt: skip


def test_the_ballot_address_by_get_goes_back_to_code_entry(client: Any, vote: Vote) -> None:
    """The language switch sends the voter back to the page's address with a GET."""
    r = client.get(f"/p/{vote.slug}/vote/ballot?lang=sv")
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/p/{vote.slug}/vote")


def test_a_double_click_is_not_a_second_paper_entry(client: Any, vote: Vote, db: Any) -> None:
    """Double entry catches typing errors only if the ballot is typed twice: the same form
    sent twice (a double click, a reload) must not count the ballot."""
    from pb.voting.models import VotingCode

    [code] = issue(client.application, vote)
    login(client, "official")
    html = client.get(f"/p/{vote.slug}/paper?lang=en").get_data(as_text=True)
    entry = re.search(r'name="entry" value="([0-9a-f]+)"', html)
    assert entry
    data = {"code": code, "pick": ["|p1"], "entry": entry.group(1)}
    assert client.post(f"/p/{vote.slug}/paper?lang=en", data=data).status_code == 303
    r = client.post(f"/p/{vote.slug}/paper?lang=en", data=data)
    assert r.status_code == 409 and "sent again" in r.get_data(as_text=True)
    assert db.scalar(sa.select(sa.func.count()).where(VotingCode.used.is_(True))) == 0
    html = client.get(f"/p/{vote.slug}/paper?lang=en").get_data(as_text=True)
    again = re.search(r'name="entry" value="([0-9a-f]+)"', html)
    assert again and again.group(1) != entry.group(1)
    r = client.post(f"/p/{vote.slug}/paper?lang=en", follow_redirects=True,
                    data={**data, "entry": again.group(1)})  # fmt: skip
    assert "Both entries match" in r.get_data(as_text=True)
    assert db.scalar(sa.select(sa.func.count()).where(VotingCode.used.is_(True))) == 1


def test_one_paper_form_sent_back_for_another_code(client: Any, vote: Vote) -> None:
    """Back to the same form, another paper ballot typed into it: a first entry, not a 500."""
    a, b = issue(client.application, vote, 2)
    login(client, "official")
    html = client.get(f"/p/{vote.slug}/paper?lang=en").get_data(as_text=True)
    entry = re.search(r'name="entry" value="([0-9a-f]+)"', html)
    assert entry
    for code in (a, b):
        r = client.post(f"/p/{vote.slug}/paper?lang=en",
                        data={"code": code, "pick": ["|p1"], "entry": entry.group(1)})  # fmt: skip
        assert r.status_code == 303


def test_a_receipt_without_its_code_replaces_nothing(client: Any, vote: Vote, db: Any) -> None:
    """Someone who saw a voter's receipt (and holds a used code and receipt of their own)
    cannot replace that voter's ballot; someone holding the voter's code learns only that it
    was used."""
    from pb.voting.models import HeldBallot

    victim, attacker = issue(client.application, vote, 2)
    theirs = _receipt(_cast(client, vote, victim, "p1").get_data(as_text=True))
    mine = _receipt(_cast(client, vote, attacker, "p2").get_data(as_text=True))
    for code, receipt in ((attacker, theirs), (victim, mine)):
        r = _cast(client, vote, code, "p4", "p5", receipt=receipt)
        assert r.status_code == 400 and "does not belong to this code" in r.get_data(as_text=True)
        r = client.post(f"/p/{vote.slug}/vote/change?lang=en",
                        data={"code": code, "receipt": receipt})  # fmt: skip
        assert r.status_code == 400
    contents = sorted(
        h.content["choices"][0]["projects"] for h in db.scalars(sa.select(HeldBallot))
    )
    assert contents == [["p1"], ["p2"]]
    html = client.post(f"/p/{vote.slug}/vote?lang=en", data={"code": victim}).get_data(as_text=True)
    assert "already been used" in html
    assert theirs not in html and "Skatepark" not in html


def test_the_extension_decides_when_a_cast_is_too_late(app: Any, vote: Vote, users: Any) -> None:
    import datetime as dt

    from pb.db import get_session
    from pb.processes.models import PhaseKind
    from pb.voting import services

    a, b = issue(app, vote, 2)
    with app.test_request_context("/?lang=en"):
        session = get_session()
        process = vote.process(session)
        end = process.phase(PhaseKind.VOTING).ends_at
        with pytest.raises(services.VotingClosed):
            services.cast(session, process, a, ballot("p1"), end)
        session.rollback()
        services.extend_voting(session, process, end + dt.timedelta(days=1), "Post strike.",
                               users["admin"], now())  # fmt: skip
        session.commit()
        assert services.cast(session, process, a, ballot("p1"), end + dt.timedelta(hours=1))
        session.commit()
        with pytest.raises(services.VotingClosed):
            services.cast(session, process, b, ballot("p1"), end + dt.timedelta(days=1))
        session.rollback()
        with pytest.raises(services.ExtensionRefused):  # never shorter
            services.extend_voting(session, process, end + dt.timedelta(hours=2), "Oops.",
                                   users["admin"], now())  # fmt: skip
        with pytest.raises(services.ExtensionRefused):  # never once it has ended
            services.extend_voting(session, process, end + dt.timedelta(days=9), "Late.",
                                   users["admin"], end + dt.timedelta(days=2))  # fmt: skip


def test_mixing_on_the_web_leaves_no_held_ballot_in_the_sqlite_log(app: Any, vote: Vote) -> None:
    """The write-ahead log keeps every page as written, in casting order, after the rows are
    gone from the database: the mix after a cast truncates it (when nobody else is busy)."""
    from pathlib import Path

    from pb.db import get_engine

    with app.app_context():
        engine = get_engine()
        if engine.dialect.name != "sqlite":
            pytest.skip("SQLite's write-ahead log")
        path = Path(str(engine.url.database))
    client = app.test_client()
    for code in issue(app, vote, 20):
        assert _cast(client, vote, code, "p1", "p5").status_code == 200
    wal = Path(f"{path}-wal")
    assert not wal.exists() or b'"day"' not in wal.read_bytes()
    assert b'"day"' not in path.read_bytes()


def test_a_truncation_put_off_after_a_quick_second_mix_still_happens(
    app: Any, vote: Vote, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two batches mixed on the web within FORGET_EVERY of each other: the second
    truncation of the log is put off to a timer (a checkpoint stalls every cast), but it
    happens; no held ballot stays in the log."""
    import time
    from pathlib import Path

    from pb.db import get_engine
    from pb.voting import services

    with app.app_context():
        engine = get_engine()
        if engine.dialect.name != "sqlite":
            pytest.skip("SQLite's write-ahead log")
        path = Path(str(engine.url.database))
    monkeypatch.setattr(services, "FORGET_EVERY", 2.0)
    client = app.test_client()
    for code in issue(app, vote, 40):
        assert _cast(client, vote, code, "p1", "p5").status_code == 200
    wal = Path(f"{path}-wal")
    deadline = time.monotonic() + 30  # a wait for the timer, not a measure of speed
    while wal.exists() and b'"day"' in wal.read_bytes() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not wal.exists() or b'"day"' not in wal.read_bytes()
    assert b'"day"' not in path.read_bytes()


def test_the_overall_limit_stops_guessers_not_the_vote(app: Any, vote: Vote) -> None:
    """Guessing from many addresses fills the overall limit; then every address that has
    guessed wrong is refused, but a voter who has not (another address) still votes: the
    overall limit cannot be used to lock every voter out."""
    from pb.security import limiter
    from pb.voting import codes

    client = app.test_client()
    with app.test_request_context("/?lang=en"):
        overall = limiter("code.all")
        for _ in range(overall.limit - 1):
            overall.hit("all")
    guesser = {"REMOTE_ADDR": "198.51.100.7"}
    r = client.post(f"/p/{vote.slug}/vote?lang=en", data={"code": codes.generate()},
                    environ_base=guesser)  # fmt: skip
    assert r.status_code == 400  # the guess that fills the overall limit
    [code, other] = issue(app, vote, 2)
    r = client.post(f"/p/{vote.slug}/vote?lang=en", data={"code": code}, environ_base=guesser)
    assert r.status_code == 429 and "try again in" in r.get_data(as_text=True)
    voter = {"REMOTE_ADDR": "203.0.113.20"}
    r = client.post(f"/p/{vote.slug}/vote?lang=en", data={"code": other}, environ_base=voter)
    assert r.status_code == 200
    r = client.post(f"/p/{vote.slug}/vote/ballot?lang=en", environ_base=voter,
                    data={"code": other, "pick": ["|p1"], "action": "cast"})  # fmt: skip
    assert r.status_code == 200 and _receipt(r.get_data(as_text=True))


def test_a_code_and_projects_of_another_process_count_for_nothing(
    client: Any, vote: Vote, make_process: Any, db: Any
) -> None:
    from pb.voting.models import VotingCode

    other = make_vote(client.application, make_process, slug="annan",
                      projects=[("x1", "Bibliotek", 50_000, None)])  # fmt: skip
    [theirs] = issue(client.application, other)
    [mine] = issue(client.application, vote)
    r = client.post(f"/p/{vote.slug}/vote?lang=en", data={"code": theirs})
    assert r.status_code == 400 and "not valid for this vote" in r.get_data(as_text=True)
    r = _cast(client, vote, theirs, "p1")
    assert r.status_code == 400 and "not valid for this vote" in r.get_data(as_text=True)
    r = _cast(client, vote, mine, "x1")
    assert r.status_code == 400 and "not on this ballot" in r.get_data(as_text=True)
    assert db.scalar(sa.select(sa.func.count()).where(VotingCode.used.is_(True))) == 0
