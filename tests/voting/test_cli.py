"""``pb codes``: issue as CSV (100,000 in under 20 s), revoke by code or batch, list, mix."""

from __future__ import annotations

import csv
import importlib.util
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from pb.voting.cli import codes_command
from tests.voting.conftest import Vote, ballot, now


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
    assert r.exit_code != 0 and "no area Mars" in r.output and not out.exists()
    if importlib.util.find_spec("pb.voting.printing") is None:
        r = runner.invoke(codes_command, ["issue", vote.slug, "--count", "3", "--format", "pdf",
                                "--out", str(tmp_path / "x.pdf")])  # fmt: skip
        assert r.exit_code != 0 and "not available yet" in r.output


def test_issuing_100000_codes_as_csv_takes_under_20_seconds(
    runner: Any, vote: Vote, tmp_path: Path, db: Any
) -> None:
    from pb.voting.models import VotingCode

    out = tmp_path / "many.csv"
    started = time.perf_counter()
    r = runner.invoke(codes_command, ["issue", vote.slug, "--count", "100000", "--out", str(out)])
    elapsed = time.perf_counter() - started
    assert r.exit_code == 0, r.output
    assert elapsed < 20, elapsed
    assert db.scalar(sa.select(sa.func.count()).select_from(VotingCode)) == 100_000
    with out.open(encoding="utf-8") as fh:
        assert sum(1 for _ in fh) == 100_001
