"""The upfront contract binds officials: codes are issued only through a channel the process
page states (``contract.eligibility.code_channels``). The codes page offers only those, and
a tampered form, the command line and the services refuse any other, issuing and auditing
nothing."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from pb.voting.cli import codes_command
from tests.conftest import login
from tests.voting.conftest import make_vote

FONTS = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
CHANNEL_WORDS = {"en": {"school": "at school", "library": "at the library", "letter": "by letter",
                        "email": "by e-mail"},
                 "sv": {"school": "i skolan", "library": "på biblioteket", "letter": "med brev",
                        "email": "med mejl"}}  # fmt: skip
PEOPLE = "namn,adress,postnummer,ort,språk\nAnna Ek,Väg 1,224 60,Lund,sv\n"


def _nothing_issued(db: Any) -> None:
    from pb.audit import AuditEvent
    from pb.voting.models import CodeBatch, VotingCode

    db.expire_all()
    assert db.scalar(sa.select(sa.func.count()).select_from(VotingCode)) == 0
    assert db.scalar(sa.select(sa.func.count()).select_from(CodeBatch)) == 0
    assert db.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                     .where(AuditEvent.action == "codes.issue")) == 0  # fmt: skip


def _issued(db: Any) -> int:
    from pb.voting.models import VotingCode

    db.expire_all()
    return int(db.scalar(sa.select(sa.func.count()).select_from(VotingCode)))


def _options(html: str) -> list[str]:
    select = re.search(r'<select id="channel" name="channel">(.*?)</select>', html, re.S)
    return re.findall(r'<option value="([a-z]+)"', select.group(1)) if select else []


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.mark.parametrize("channel", ["school", "library", "letter"])
def test_a_card_batch_through_an_undeclared_channel_is_refused(
    client: Any, make_process: Any, users: Any, db: Any, channel: str
) -> None:
    others = [c for c in ("school", "library", "letter") if c != channel]
    make_vote(client.application, make_process, slug="utan", code_channels=[*others, "email"])
    login(client, "official")
    page = client.get("/p/utan/codes?lang=en").get_data(as_text=True)
    assert sorted(_options(page)) == sorted(others)  # only what the contract names
    data = {"count": "3", "purpose": "Klass 7B, Dalby skola", "channel": channel,
            "language": "en", "web_address": "lund.se/rosta"}  # fmt: skip
    r = client.post("/p/utan/codes/batch?lang=en", data=data)
    html = r.get_data(as_text=True)
    assert r.status_code == 403 and r.mimetype == "text/html"
    assert f"This process does not hand out codes {CHANNEL_WORDS['en'][channel]}" in _text(html)
    assert "Nothing was issued." in html
    assert 'value="Klass 7B, Dalby skola"' in html and 'value="lund.se/rosta"' in html  # kept
    _nothing_issued(db)


@pytest.mark.skipif(not FONTS.exists(), reason="the cards need Debian's fonts-dejavu-core")
@pytest.mark.parametrize("channel", ["school", "library", "letter"])
def test_a_card_batch_through_a_declared_channel_is_issued(
    client: Any, make_process: Any, users: Any, db: Any, channel: str
) -> None:
    from pb.voting.models import CodeBatch

    make_vote(client.application, make_process, slug="med", code_channels=[channel])
    login(client, "official")
    page = client.get("/p/med/codes?lang=en").get_data(as_text=True)
    assert _options(page) == [channel]
    r = client.post("/p/med/codes/batch?lang=en",
                    data={"count": "2", "purpose": "Vecka 12", "channel": channel,
                          "language": "sv", "web_address": "lund.se/rosta"})  # fmt: skip
    assert r.status_code == 200 and r.mimetype == "application/pdf", r.get_data(as_text=True)
    assert _issued(db) == 2
    assert db.scalar(sa.select(CodeBatch.channel)).value == channel


def test_letters_in_a_process_without_letters_are_refused_before_the_file_is_read(
    client: Any, make_process: Any, users: Any, db: Any
) -> None:
    make_vote(client.application, make_process, slug="skola", code_channels=["school"])
    login(client, "official")
    page = client.get("/p/skola/codes?lang=en").get_data(as_text=True)
    assert 'id="no-letters"' in page and 'name="people"' not in page
    assert "so no letters are written here" in page
    for people in (PEOPLE, "name,address\nAnna,Vägen 1\n"):  # a good file and a bad one
        r = client.post("/p/skola/codes/letters?lang=en",
                        data={"people": (io.BytesIO(people.encode()), "people.csv"),
                              "purpose": "Brev december"},
                        content_type="multipart/form-data")  # fmt: skip
        html = r.get_data(as_text=True)
        assert r.status_code == 403
        assert (
            "This process does not hand out codes by letter: the process page states "
            "that codes are handed out at school. Nothing was issued."
        ) in _text(html)
        assert "line 3" not in html.lower()  # the file was not read
    _nothing_issued(db)


@pytest.mark.skipif(not FONTS.exists(), reason="the letters need Debian's fonts-dejavu-core")
def test_letters_in_a_process_with_letters_are_issued(
    client: Any, make_process: Any, users: Any, db: Any
) -> None:
    make_vote(client.application, make_process, slug="brev", code_channels=["letter"])
    login(client, "official")
    page = client.get("/p/brev/codes?lang=en").get_data(as_text=True)
    assert 'name="people"' in page and 'id="no-letters"' not in page
    r = client.post("/p/brev/codes/letters?lang=en",
                    data={"people": (io.BytesIO(PEOPLE.encode()), "people.csv"),
                          "web_address": "lund.se/rosta"},
                    content_type="multipart/form-data")  # fmt: skip
    assert r.status_code == 200 and r.mimetype == "application/pdf", r.get_data(as_text=True)
    assert _issued(db) == 1


def test_an_email_only_process_says_so_instead_of_empty_forms(
    client: Any, make_process: Any, users: Any, db: Any
) -> None:
    make_vote(client.application, make_process, slug="epost", code_channels=["email"])
    login(client, "official")
    page = client.get("/p/epost/codes?lang=sv").get_data(as_text=True)
    assert (
        "Processens sida säger inte att koder delas ut med brev, i skolan eller på "
        "biblioteket, så här delas inga koder ut."
    ) in page
    assert "Invånarna ber själva om sina koder med mejl." in page
    assert 'name="count"' not in page and 'name="people"' not in page
    r = client.post("/p/epost/codes/batch?lang=sv",
                    data={"count": "3", "purpose": "Klass 7B", "channel": "school"})  # fmt: skip
    html = r.get_data(as_text=True)
    assert r.status_code == 403
    assert (
        "Den här processen delar inte ut koder i skolan: enligt processens sida delas "
        "koder ut med mejl. Inga koder delades ut."
    ) in _text(html)
    assert 'id="no-channels"' in html
    _nothing_issued(db)


@pytest.mark.parametrize(
    ("lang", "stated", "expected"),
    [
        (
            "en",
            ["library", "email"],
            "This process does not hand out codes by letter: the process page states that "
            "codes are handed out by e-mail and at the library. Nothing was issued.",
        ),
        (
            "sv",
            ["school", "library", "email"],
            "Den här processen delar inte ut koder med brev: enligt processens sida delas "
            "koder ut med mejl, i skolan och på biblioteket. Inga koder delades ut.",
        ),
        (
            "en",
            [],
            "This process does not hand out codes by letter: the process page states "
            "no way of handing out codes. Nothing was issued.",
        ),
        (
            "sv",
            [],
            "Den här processen delar inte ut koder med brev: processens sida anger "
            "inget sätt att dela ut koder. Inga koder delades ut.",
        ),
    ],
)
def test_the_services_refuse_in_swedish_and_english(
    app: Any, make_process: Any, users: Any, db: Any, lang: str, stated: list[str],
    expected: str,
) -> None:  # fmt: skip
    """Both issuing services (a batch, and letters one at a time) refuse with the one
    rule's message, naming the channel and the channels the process states (in the process
    page's order)."""
    from pb.db import get_session, utcnow
    from pb.processes.models import CodeChannel
    from pb.voting import services

    vote = make_vote(app, make_process, slug="regel", code_channels=stated)
    with app.test_request_context(f"/?lang={lang}"):
        session = get_session()
        process = vote.process(session)
        with pytest.raises(services.ChannelNotStated) as batch:
            services.issue_codes(session, process, count=2, channel=CodeChannel.LETTER,
                                 purpose="Brev", actor=None, now=utcnow())  # fmt: skip
        with pytest.raises(services.ChannelNotStated) as letters:
            services.CodeIssuer(session, process, channel=CodeChannel.LETTER, purpose="Brev",
                                actor=None, now=utcnow())  # fmt: skip
        session.rollback()
    assert str(batch.value) == expected and str(letters.value) == expected
    _nothing_issued(db)


def test_the_command_line_refuses_an_undeclared_channel(
    runner: Any, make_process: Any, db: Any, tmp_path: Path
) -> None:
    make_vote(runner.app, make_process, slug="cli", code_channels=["school", "email"])
    out = tmp_path / "codes.csv"
    for channel in ("library", "letter"):
        r = runner.invoke(codes_command, ["issue", "cli", "--count", "5", "--channel", channel,
                                          "--out", str(out)])  # fmt: skip
        assert r.exit_code != 0
        assert r.output == (f"Error: This process does not hand out codes "
                            f"{CHANNEL_WORDS['en'][channel]}: the process page states that "
                            "codes are handed out by e-mail and at school. Nothing was "
                            "issued.\n")  # one line  # fmt: skip
        assert not out.exists() and not list(tmp_path.iterdir())
    people = tmp_path / "people.csv"
    people.write_text(PEOPLE, encoding="utf-8")
    letters = tmp_path / "letters.pdf"
    r = runner.invoke(codes_command, ["letters", "cli", "--people", str(people),
                                      "--out", str(letters)])  # fmt: skip
    assert r.exit_code != 0 and r.output.count("\n") == 1
    assert "does not hand out codes by letter" in r.output
    assert not letters.exists() and not list(tmp_path.glob("letters*"))
    _nothing_issued(db)
    r = runner.invoke(codes_command, ["issue", "cli", "--count", "5", "--channel", "school",
                                      "--out", str(out)])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert _issued(db) == 5


@pytest.mark.parametrize("purpose,message", [
    ("Klass 7B\u202e, Dalby skola", "Remove the invisible characters"),
    ("x" * 201, "Say what the batch is for in at most 200 characters (now 201)."),
])  # fmt: skip
def test_a_batch_purpose_that_would_flip_or_be_cut_is_refused(
    client: Any,
    runner: Any,
    make_process: Any,
    users: Any,
    db: Any,
    tmp_path: Path,
    purpose: str,
    message: str,
) -> None:
    """Third probe: a purpose carrying U+202E was printed on every card and written in the
    audit log reversed, and a longer one was cut at 200 characters without a word. Both
    are refused now, by the web page, the letters and the command line, issuing nothing."""
    make_vote(client.application, make_process, slug="syfte",
              code_channels=["school", "letter", "email"])  # fmt: skip
    login(client, "official")
    r = client.post("/p/syfte/codes/batch?lang=en", data={
        "count": "3", "purpose": purpose, "channel": "school", "language": "en"})  # fmt: skip
    assert r.status_code == 400 and message in r.get_data(as_text=True)
    r = client.post("/p/syfte/codes/letters?lang=en", data={
        "purpose": purpose, "people": (io.BytesIO(PEOPLE.encode()), "people.csv")})  # fmt: skip
    assert r.status_code == 400 and message in r.get_data(as_text=True)
    out = tmp_path / "codes.csv"
    r = runner.invoke(codes_command, ["issue", "syfte", "--count", "5", "--channel", "school",
                                      "--purpose", purpose, "--out", str(out)])  # fmt: skip
    assert r.exit_code != 0 and message in r.output and not out.exists()
    _nothing_issued(db)


def test_a_batch_purpose_is_kept_on_one_line() -> None:
    from pb.voting.services import batch_purpose

    assert batch_purpose("  Klass 7B\r\nDalby\tskola\x1b[31m ") == "Klass 7B Dalby skola[31m"
    assert batch_purpose("x" * 200) == "x" * 200
