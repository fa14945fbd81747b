"""Officials' issuing pages: an anonymous batch as a PDF of cards, letters from an uploaded
people's file, the list of batches, revoking a batch; access, CSRF, audit, limits."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_token, login
from tests.voting.conftest import Vote, make_vote
from tests.voting.test_printing import page_texts

CODE = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z*~$=]")


@pytest.fixture(autouse=True)
def _fonts() -> None:
    if not Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf").exists():
        pytest.skip("the cards and letters need Debian's fonts-dejavu-core")


def _digests(db: Any) -> set[str]:
    from pb.voting.models import VotingCode

    return set(db.scalars(sa.select(VotingCode.digest)))


def test_only_officials_of_the_process_issue(client: Any, vote: Vote, users: Any) -> None:
    r = client.get(f"/p/{vote.slug}/codes")
    assert r.status_code == 302 and "/account/login" in r.headers["Location"]
    login(client, "other_official")
    assert client.get(f"/p/{vote.slug}/codes").status_code == 403
    r = client.post(f"/p/{vote.slug}/codes/batch", data={"count": "3", "purpose": "x"})
    assert r.status_code == 403
    client.post("/account/logout")
    login(client, "official")
    assert client.get(f"/p/{vote.slug}/codes?lang=en").status_code == 200


def test_a_batch_of_cards(client: Any, vote: Vote, users: Any, db: Any) -> None:
    from pb.audit import AuditEvent
    from pb.voting import codes
    from pb.voting.models import CodeBatch

    login(client, "official")
    r = client.post(f"/p/{vote.slug}/codes/batch?lang=en",
                    data={"count": "12", "purpose": "Klass 7B, Dalby skola", "channel": "school",
                          "language": "en", "web_address": "dalby.se/rosta"})  # fmt: skip
    assert r.status_code == 200, r.get_data(as_text=True)[:2000]
    assert r.mimetype == "application/pdf" and r.headers["Cache-Control"] == "no-store"
    assert "attachment" in r.headers["Content-Disposition"]
    pdf = r.get_data()
    found = {c for page in page_texts(pdf) for c in CODE.findall(page)}
    assert len(found) == 12
    pepper = client.application.config["VOTING_CODE_PEPPER"]
    # The codes in the PDF are exactly the ones stored (as digests only).
    assert {codes.digest(pepper, c) for c in found} == _digests(db)
    [batch] = db.scalars(sa.select(CodeBatch)).all()
    assert (batch.count, batch.purpose, batch.channel.value) == (12, "Klass 7B, Dalby skola",
                                                                 "school")  # fmt: skip
    [event] = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "codes.issue")).all()
    assert event.data["count"] == 12 and event.actor_id == users["official"].id
    logged = str(event.data) + str(event.reason)
    assert not CODE.search(logged)
    page = client.get(f"/p/{vote.slug}/codes?lang=en").get_data(as_text=True)
    assert "Klass 7B, Dalby skola" in page and ">12<" in page
    assert not CODE.search(page)  # the list never shows a code


def test_bad_batch_requests_issue_nothing(client: Any, vote: Vote, users: Any, db: Any) -> None:
    login(client, "official")
    for data, words in (
        ({"count": "5001", "purpose": "Mässan"}, "between 1 and 5000"),
        ({"count": "zero", "purpose": "Mässan"}, "between 1 and 5000"),
        ({"count": "3", "purpose": " "}, "what the batch is for"),
        ({"count": "3", "purpose": "x", "channel": "email"}, "where the codes are handed out"),
        ({"count": "3", "purpose": "x", "area": "nowhere"}, "no district"),
    ):
        r = client.post(f"/p/{vote.slug}/codes/batch?lang=en", data=data)
        html = r.get_data(as_text=True)
        assert r.status_code == 400 and words in html.lower(), (data, html[:3000])
        assert r.mimetype == "text/html"
    assert _digests(db) == set()
    r = client.post(f"/p/{vote.slug}/codes/batch?lang=en",
                    data={"count": "5001", "purpose": "Mässan"})  # fmt: skip
    assert 'value="Mässan"' in r.get_data(as_text=True)  # what was typed is kept


def test_letters_from_an_uploaded_file(
    client: Any, make_process: Any, users: Any, db: Any, tmp_path: Path
) -> None:
    from pb.audit import AuditEvent
    from pb.voting import codes
    from pb.voting.models import CodeBatch

    make_vote(client.application, make_process, slug="brev",
              areas=[("Norra Fäladen", 100_000), ("Klostergården", 200_000)], budget=300_000)  # fmt: skip
    login(client, "official")
    people = (
        "namn;adress;postnummer;ort;område;språk\n"
        "Anna Andersson;Vildandsvägen 1;224 60;Lund;Norra Fäladen;sv\n"
        "Omar Haddad;Klostergårdsvägen 2;222 47;Lund;Klostergården;en\n"
        "Eva Ek;Stora Södergatan 3;222 23;Lund;;sv\n"
    ).encode()
    uploads = tmp_path / "uploads"
    r = client.post("/p/brev/codes/letters?lang=en",
                    data={"people": (io.BytesIO(people), "people.csv"), "purpose": "Brev 2026",
                          "web_address": "lund.se/rosta"},
                    content_type="multipart/form-data")  # fmt: skip
    assert r.status_code == 200, r.get_data(as_text=True)[:3000]
    assert r.mimetype == "application/pdf"
    texts = page_texts(r.get_data())
    assert len(texts) == 3 and "Anna Andersson" in texts[0] and "Omar Haddad" in texts[1]
    found = {c for page in texts for c in CODE.findall(page)}
    pepper = client.application.config["VOTING_CODE_PEPPER"]
    assert len(found) == 3 and {codes.digest(pepper, c) for c in found} == _digests(db)
    batches = db.scalars(sa.select(CodeBatch)).all()
    assert sorted(b.count for b in batches) == [1, 1, 1]  # one batch per district and none
    events = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "codes.issue")).all()
    assert "Anna" not in str([(e.data, e.reason) for e in events])
    # The file is read from the upload, never saved.
    assert not uploads.exists() or not any(uploads.rglob("*"))


def test_a_bad_people_file_issues_nothing(client: Any, vote: Vote, users: Any, db: Any) -> None:
    login(client, "official")
    bad = "name,address\nAnna,Vägen 1\n,Vägen 2\nBo\n".encode()
    r = client.post(f"/p/{vote.slug}/codes/letters?lang=en",
                    data={"people": (io.BytesIO(bad), "people.csv")},
                    content_type="multipart/form-data")  # fmt: skip
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "Nothing was issued" in html
    assert "line 3" in html.lower() and "line 4" in html.lower(), html[:4000]
    assert _digests(db) == set()
    r = client.post(f"/p/{vote.slug}/codes/letters?lang=en", data={},
                    content_type="multipart/form-data")  # fmt: skip
    assert r.status_code == 400 and "Choose the people" in r.get_data(as_text=True)


def test_revoking_a_batch(client: Any, vote: Vote, users: Any, db: Any) -> None:
    from pb.audit import AuditEvent
    from pb.voting.models import CodeBatch, VotingCode

    login(client, "official")
    r = client.post(f"/p/{vote.slug}/codes/batch?lang=en",
                    data={"count": "4", "purpose": "Klass 8A", "channel": "school"})  # fmt: skip
    assert r.status_code == 200
    batch = db.scalar(sa.select(CodeBatch))
    r = client.post(f"/p/{vote.slug}/codes/{batch.id}/revoke?lang=en")
    assert r.status_code == 303
    page = client.get(f"/p/{vote.slug}/codes?lang=en").get_data(as_text=True)
    assert "Revoked 4 unused codes" in page
    assert db.scalar(sa.select(sa.func.count()).where(VotingCode.revoked.is_(True))) == 4
    event = db.scalar(sa.select(AuditEvent).where(AuditEvent.action == "codes.revoke"))
    assert event.data == {"count": 4}
    r = client.post(f"/p/{vote.slug}/codes/9999/revoke?lang=en")
    assert r.status_code == 400 and "no batch 9999" in r.get_data(as_text=True)


def test_issuing_forms_need_csrf(make_app: Any, make_process: Any, users: Any) -> None:
    app = make_app(WTF_CSRF_ENABLED=True)
    make_vote(app, make_process, slug="csrf")
    client = app.test_client()
    page = client.get("/account/login").get_data(as_text=True)
    client.post("/account/login", data={"email": "official@example.org",
                                        "password": "password-official",
                                        "csrf_token": csrf_token(page)})  # fmt: skip
    r = client.post("/p/csrf/codes/batch?lang=en", data={"count": "3", "purpose": "x"})
    assert r.status_code == 400
    page = client.get("/p/csrf/codes?lang=en").get_data(as_text=True)
    r = client.post("/p/csrf/codes/batch?lang=en",
                    data={"count": "3", "purpose": "x", "csrf_token": csrf_token(page)})  # fmt: skip
    assert r.status_code == 200 and r.mimetype == "application/pdf"


def _voting_ends(app: Any, slug: str, end: Any) -> None:
    """Move the end of voting (and the start of the phase after it) to ``end``."""
    from pb.db import get_session
    from pb.processes.models import PhaseKind, Process

    with app.app_context():
        session = get_session()
        process = session.scalar(sa.select(Process).where(Process.slug == slug))
        assert process is not None
        phases = sorted(process.phases, key=lambda p: p.starts_at)
        voting = process.phase(PhaseKind.VOTING)
        after = phases[phases.index(voting) + 1 :]
        voting.ends_at = end
        if after:
            after[0].starts_at = end
        session.commit()


@pytest.mark.parametrize("hour", [0, 20])
def test_letters_and_cards_give_the_last_day_the_process_page_gives(
    client: Any, vote: Vote, users: Any, hour: int
) -> None:
    """Voting that ends at midnight (exclusive) has the day before as its last day: the
    letters and cards say so in both languages, as the process page does; an end at 20:00
    prints that day and time."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Europe/Stockholm")
    day = dt.datetime.now(tz).date() + dt.timedelta(days=5)
    end = dt.datetime.combine(day, dt.time(hour), tzinfo=tz)
    _voting_ends(client.application, vote.slug, end)
    last = day - dt.timedelta(days=1) if hour == 0 else day
    months = {"sv": "januari februari mars april maj juni juli augusti september oktober "
                    "november december", "en": "January February March April May June July "
                    "August September October November December"}  # fmt: skip
    named = {lang: f"{last.day} {months[lang].split()[last.month - 1]} {last.year}"
             for lang in months}  # fmt: skip
    page = client.get(f"/p/{vote.slug}?lang=sv").get_data(as_text=True)
    assert f"{last.day} {months['sv'].split()[last.month - 1]}" in page  # "Sista dag ..."

    login(client, "official")
    people = "namn,adress,postnummer,ort,språk\nAnna Ek,Väg 1,224 60,Lund,sv\nBo Ek,Väg 2,224 60,Lund,en\n"
    r = client.post(f"/p/{vote.slug}/codes/letters?lang=sv",
                    data={"people": (io.BytesIO(people.encode()), "people.csv"),
                          "web_address": "lund.se/rosta"},
                    content_type="multipart/form-data")  # fmt: skip
    assert r.status_code == 200, r.get_data(as_text=True)[:3000]
    sv, en = (" ".join(t.split()) for t in page_texts(r.get_data()))
    if hour == 0:
        assert f"till och med {named['sv']}." in sv
        assert f"until {named['en']} inclusive." in en
    else:
        assert f"till {named['sv']} kl. 20.00." in sv
        assert f"until {named['en']} at 20:00." in en
    for lang in ("sv", "en"):
        r = client.post(f"/p/{vote.slug}/codes/batch?lang=sv",
                        data={"count": "1", "purpose": "Klass 7B", "channel": "school",
                              "language": lang, "web_address": "lund.se/rosta"})  # fmt: skip
        assert r.status_code == 200
        [card] = (" ".join(t.split()) for t in page_texts(r.get_data()))
        assert named[lang] + (" kl. 20.00" if lang == "sv" else " at 20:00") * (hour == 20) in card
        wrong = end.date() if hour == 0 else end.date() + dt.timedelta(days=1)
        assert f" {wrong.day} {months[lang].split()[wrong.month - 1]}" not in card
    page = client.get(f"/p/{vote.slug}/vote?lang=en").get_data(as_text=True)
    shown = f"{last.day} {months['en'].split()[last.month - 1]}"
    end_text = r"( \d{4})? 20:00\." if hour else r"( \d{4})?\."
    assert re.search(f"Voting is open, last day {shown}{end_text}", page)


def test_letters_without_a_short_web_address(client: Any, vote: Vote, users: Any) -> None:
    """The short web address is optional: left empty, the letters print the ballot's own
    address (on a line of its own, in smaller type when it is long)."""
    login(client, "official")
    page = client.get(f"/p/{vote.slug}/codes?lang=sv").get_data(as_text=True)
    default = f"127.0.0.1:5000/p/{vote.slug}/vote"
    assert f"Lämnas fältet tomt skrivs röstsedelns egen adress ut: {default}" in page
    people = "namn,adress,postnummer,ort,språk\nAnna Ek,Väg 1,224 60 ,Lund,sv\nBo Ek,Väg 2,224 60,Lund,en\n"
    for base in ("http://127.0.0.1:5000", "https://medborgarbudget.lund.se/pb"):
        client.application.config["BASE_URL"] = base
        r = client.post(f"/p/{vote.slug}/codes/letters?lang=sv",
                        data={"people": (io.BytesIO(people.encode()), "people.csv"),
                              "web_address": ""},
                        content_type="multipart/form-data")  # fmt: skip
        assert r.status_code == 200, r.get_data(as_text=True)[:3000]
        address = base.split("://")[1] + f"/p/{vote.slug}/vote"
        sv, en = (" ".join(t.split()) for t in page_texts(r.get_data()))
        assert f"Utan QR-kod: gå till adressen här under och skriv in koden. {address}" in sv
        assert f"type in the code at the address below. {address}" in en


def test_a_web_address_too_long_for_the_letter_is_refused_in_swedish(
    client: Any, vote: Vote, users: Any, db: Any
) -> None:
    login(client, "official")
    people = "namn,adress,postnummer,ort\nAnna Ek,Väg 1,224 60,Lund\n"
    long = "lund.se/" + "rosta" * 18
    r = client.post(f"/p/{vote.slug}/codes/letters?lang=sv",
                    data={"people": (io.BytesIO(people.encode()), "people.csv"),
                          "web_address": long, "purpose": "Brev december"},
                    content_type="multipart/form-data")  # fmt: skip
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert f"Webbadressen {long} är för lång för att få plats i brevet." in html
    assert "too long" not in html
    assert f'value="{long}"' in html and 'value="Brev december"' in html  # kept
    assert _digests(db) == set()  # nothing issued


def test_the_letters_hint_names_the_area_column_only_where_there_are_districts(
    client: Any, vote: Vote, make_process: Any, users: Any
) -> None:
    login(client, "official")
    page = client.get(f"/p/{vote.slug}/codes?lang=sv").get_data(as_text=True)
    assert "namn, adress, postnummer, ort och språk (omröstningen har inga områden" in page
    assert "område och språk" not in page
    make_vote(client.application, make_process, slug="omraden",
              areas=[("Norra Fäladen", 100_000), ("Klostergården", 200_000)], budget=300_000)  # fmt: skip
    page = client.get("/p/omraden/codes?lang=en").get_data(as_text=True)
    assert "name, address, postcode, city, area and language" in page


def test_the_batches_table_names_channels_in_the_readers_language(
    client: Any, vote: Vote, users: Any
) -> None:
    from tests.voting.conftest import issue

    issue(client.application, vote, channel="school")
    issue(client.application, vote, channel="letter")
    login(client, "official")
    page = client.get(f"/p/{vote.slug}/codes?lang=sv").get_data(as_text=True)
    table = page[page.index('class="batches"') : page.index("</table>")]
    assert "<td>I skolan</td>" in table and "<td>Med brev</td>" in table, table
    assert "<td>school</td>" not in table and "<td>letter</td>" not in table


def test_cards_in_an_unknown_language_are_refused(
    client: Any, vote: Vote, users: Any, db: Any
) -> None:
    """A language the cards have no texts for is refused, not silently replaced by Swedish."""
    login(client, "official")
    r = client.post(f"/p/{vote.slug}/codes/batch?lang=sv",
                    data={"count": "2", "purpose": "Klass 7B", "channel": "school",
                          "language": "fi"})  # fmt: skip
    assert r.status_code == 400 and "Välj kortens språk" in r.get_data(as_text=True)
    assert _digests(db) == set()


@pytest.mark.parametrize("address", ["javascript:alert(1)", "lund se/rösta", "data:text/html,x"])
def test_a_short_web_address_must_be_one(
    client: Any, vote: Vote, users: Any, db: Any, address: str
) -> None:
    """What cards and letters print for typing the code must be a web address (second probe:
    "javascript:alert(1)" was printed on cards); a real one is taken."""
    login(client, "official")
    data = {"count": "2", "purpose": "Klass 7B", "channel": "school", "web_address": address}
    r = client.post(f"/p/{vote.slug}/codes/batch?lang=sv", data=data)
    assert r.status_code == 400 and "Ange en webbadress" in r.get_data(as_text=True)
    assert _digests(db) == set()
    r = client.post(f"/p/{vote.slug}/codes/batch?lang=sv",
                    data={**data, "web_address": "https://lund.se/rosta"})  # fmt: skip
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert len(_digests(db)) == 2
