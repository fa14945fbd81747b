"""``pb codes``: issue as CSV (100,000 in under 20 s), revoke by code or batch, list, mix."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from pb.voting.cli import codes_command
from tests.voting.conftest import Vote, ballot, make_vote, now


def test_issue_csv_then_vote_and_revoke(runner: Any, vote: Vote, tmp_path: Path, db: Any) -> None:
    from pb.audit import AuditEvent
    from pb.db import get_session
    from pb.voting import codes, services
    from pb.voting.models import VotingCode

    out = tmp_path / "codes.csv"
    r = runner.invoke(codes_command, ["issue", vote.slug, "--count", "5", "--purpose", "Klass 7B",
                                   "--out", str(out)])  # fmt: skip
    assert r.exit_code == 0, r.output
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 5
    for row in rows:
        assert codes.pretty(row["code"]) == row["code"]
        assert row["link"].endswith(f"/p/{vote.slug}/vote#{row['code']}")
    assert db.scalar(sa.select(sa.func.count()).select_from(VotingCode)) == 5
    event = db.scalar(sa.select(AuditEvent).where(AuditEvent.action == "codes.issue"))
    assert event.data["count"] == 5 and event.data["purpose"] == "Klass 7B"
    r = runner.invoke(codes_command, ["revoke", vote.slug, "--code", rows[0]["code"]])
    assert r.exit_code == 0 and "Revoked 1" in r.output
    r = runner.invoke(codes_command, ["revoke", vote.slug, "--code", rows[0]["code"].lower()])
    assert r.exit_code == 0  # revoking twice is harmless
    r = runner.invoke(codes_command, ["revoke", vote.slug, "--code", "nonsense"])
    assert r.exit_code != 0 and "not a voting code" in r.output
    with runner.app.test_request_context("/?lang=en"):
        session = get_session()
        assert services.cast(session, vote.process(session), rows[1]["code"], ballot("p1"), now())
        session.commit()
    r = runner.invoke(codes_command, ["batches", vote.slug])
    assert "Klass 7B" in r.output
    r = runner.invoke(codes_command, ["revoke", vote.slug, "--batch", r.output.split("\t")[0]])
    assert "Revoked 3" in r.output, r.output
    r = runner.invoke(codes_command, ["mix", vote.slug])
    assert r.exit_code == 0 and "Moved 0" in r.output  # one held ballot is not a batch


def test_bad_arguments_are_clear(runner: Any, vote: Vote, tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    r = runner.invoke(codes_command, ["issue", "nope", "--count", "3", "--out", str(out)])
    assert r.exit_code != 0 and "no process" in r.output
    r = runner.invoke(codes_command, ["issue", vote.slug, "--count", "3", "--area", "Mars",
                                   "--out", str(out)])  # fmt: skip
    assert r.exit_code != 0 and "no district Mars" in r.output and not out.exists()
    r = runner.invoke(codes_command, ["issue", vote.slug, "--count", "3", "--format", "pdf",
                                      "--web-address", "javascript:alert(1)",
                                      "--out", str(tmp_path / "x.pdf")])  # fmt: skip
    assert r.exit_code == 2 and "lund.se/rosta" in r.output and not (tmp_path / "x.pdf").exists()
    if importlib.util.find_spec("pb.voting.printing") is None:
        r = runner.invoke(codes_command, ["issue", vote.slug, "--count", "3", "--format", "pdf",
                                "--out", str(tmp_path / "x.pdf")])  # fmt: skip
        assert r.exit_code != 0 and "not available yet" in r.output


def test_issuing_many_codes_as_csv(runner: Any, vote: Vote, tmp_path: Path, db: Any) -> None:
    """Every code issued is written once, valid and distinct, and stored only as its digest.
    (How fast: benchmarks/codes.py, 100,000 codes against a 20 s target.)"""
    from pb.voting import codes
    from pb.voting.models import VotingCode

    out = tmp_path / "many.csv"
    r = runner.invoke(codes_command, ["issue", vote.slug, "--count", "3000", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert db.scalar(sa.select(sa.func.count()).select_from(VotingCode)) == 3000
    with out.open(encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    written = [line.split(",")[0] for line in lines[1:]]
    assert len(written) == 3000 == len(set(written))
    assert all(codes.normalize(c) for c in written)  # every one passes its check symbol
    stored = set(db.scalars(sa.select(VotingCode.digest)))
    assert not stored & set(written)  # the plain codes are not in the database


def _fonts_or_skip() -> Any:
    printing = pytest.importorskip("pb.voting.printing")
    if not Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf").exists():
        pytest.skip("the letters need Debian's fonts-dejavu-core")
    return printing


def test_issue_cards_as_pdf(runner: Any, vote: Vote, tmp_path: Path, db: Any) -> None:
    from pb.voting.models import VotingCode

    _fonts_or_skip()
    out = tmp_path / "cards.pdf"
    r = runner.invoke(codes_command, ["issue", vote.slug, "--count", "12", "--format", "pdf",
                                      "--purpose", "Klass 7B", "--out", str(out)])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert out.read_bytes().startswith(b"%PDF")
    assert db.scalar(sa.select(sa.func.count()).select_from(VotingCode)) == 12


def test_letters_from_a_people_file(
    runner: Any, make_process: Any, tmp_path: Path, db: Any
) -> None:
    from pb.audit import AuditEvent
    from pb.voting.models import CodeBatch, VotingCode

    _fonts_or_skip()
    make_vote(runner.app, make_process, slug="brev", areas=[("Norra Fäladen", 100_000),
                     ("Klostergården", 200_000)], budget=300_000)  # fmt: skip
    people = tmp_path / "people.csv"
    people.write_text(
        "namn;adress;postnummer;ort;område;språk\n"
        "Anna Andersson;Vildandsvägen 1;224 60;Lund;Norra Fäladen;sv\n"
        "Omar Haddad;Klostergårdsvägen 2;222 47;Lund;Klostergården;en\n"
        "Eva Ek;Stora Södergatan 3;222 23;Lund;;sv\n",
        encoding="utf-8",
    )
    out = tmp_path / "letters.pdf"
    r = runner.invoke(codes_command, ["letters", "brev", "--people", str(people),
                                      "--out", str(out)])  # fmt: skip
    if r.exit_code != 0:  # the printed address must fit the letter's panel
        assert "too long" in r.output and not out.exists()
        assert db.scalar(sa.select(sa.func.count()).select_from(VotingCode)) == 0
        r = runner.invoke(codes_command, ["letters", "brev", "--people", str(people),
                                          "--web-address", "lund.se/rosta", "--out", str(out)])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "Wrote 3 letters" in r.output and out.read_bytes().startswith(b"%PDF")
    rows = db.execute(sa.select(VotingCode.area_id, VotingCode.batch_id)).all()
    assert len(rows) == 3 and len({a for a, _ in rows}) == 3  # two districts and none
    assert sorted(b.count for b in db.scalars(sa.select(CodeBatch))) == [1, 1, 1]
    events = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "codes.issue")).all()
    assert sorted(e.data["count"] for e in events) == [1, 1, 1]
    assert "Anna" not in str([e.data for e in events])  # the people's file is not kept


def test_a_bad_people_file_issues_nothing(runner: Any, vote: Vote, tmp_path: Path, db: Any) -> None:
    from pb.voting.models import VotingCode

    _fonts_or_skip()
    people = tmp_path / "people.csv"
    people.write_text("name,address\nAnna,Vägen 1\n,Vägen 2\nBo\n", encoding="utf-8")
    out = tmp_path / "letters.pdf"
    r = runner.invoke(codes_command, ["letters", vote.slug, "--people", str(people),
                                      "--out", str(out)])  # fmt: skip
    assert r.exit_code != 0 and "nothing was issued" in r.output
    assert "line 3" in r.output.lower() and "line 4" in r.output.lower()
    assert not out.exists()
    assert db.scalar(sa.select(sa.func.count()).select_from(VotingCode)) == 0
