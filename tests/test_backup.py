"""``pb backup`` and ``pb restore`` (issue #12 item 6): vote, back up, vote more, restore,
and find exactly the first ballots and an intact audit chain; on the suite's engine (SQLite,
or PostgreSQL when PB_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from pb.operations import audit_command, backup_command, restore_command
from tests.voting.conftest import Vote, ballot, issue, make_vote, now


def _cast(app: Any, vote: Vote, codes: list[str]) -> list[str]:
    from pb.db import get_session
    from pb.voting import services

    receipts = []
    for i, code in enumerate(codes):
        with app.test_request_context("/?lang=en"):
            session = get_session()
            receipts.append(services.cast(session, vote.process(session), code,
                                          ballot(f"p{i % 5 + 1}"), now()))  # fmt: skip
            session.commit()
    return receipts


def _state(app: Any, vote: Vote) -> tuple[dict[str, int], list[str], list[str]]:
    from pb.db import get_session
    from pb.voting import services
    from pb.voting.models import Ballot, HeldBallot

    with app.test_request_context("/?lang=en"):
        session = get_session()
        held = session.scalars(sa.select(HeldBallot.receipt_digest)).all()
        mixed = session.scalars(sa.select(Ballot.receipt_digest)).all()
        return services.counts(session, vote.process_id), sorted(held), sorted(mixed)


def _receipt_found(app: Any, vote: Vote, receipt: str) -> bool:
    from pb.db import get_session
    from pb.voting import services

    with app.test_request_context("/?lang=en"):
        session = get_session()
        return bool(services.receipt_found(session, vote.process(session), receipt))


def test_restore_brings_back_exactly_the_ballots_at_the_backup(
    app: Any, make_process: Any, runner: Any, db: Any, tmp_path: Path
) -> None:
    from pb.db import get_session
    from pb.voting import services

    vote = make_vote(app, make_process)
    codes = issue(app, vote, 6)
    first = _cast(app, vote, codes[:3])
    with app.test_request_context("/?lang=en"):  # some mixed into the count, some held
        session = get_session()
        services.mix(session, vote.process_id, everything=True)
        session.commit()
    first += _cast(app, vote, codes[3:4])
    before = _state(app, vote)
    assert before[0]["used_codes"] == 4 and len(before[1]) == 1 and len(before[2]) == 3
    file = tmp_path / "pb.backup"
    r = runner.invoke(backup_command, [str(file)])
    assert r.exit_code == 0, r.output
    later = _cast(app, vote, codes[4:])
    assert _state(app, vote)[0]["used_codes"] == 6
    db.close()  # the test's own session: a restore wants the database to itself
    r = runner.invoke(restore_command, [str(file)])
    assert r.exit_code != 0 and "--overwrite" in r.output
    assert _state(app, vote)[0]["used_codes"] == 6  # refused: nothing changed
    r = runner.invoke(restore_command, [str(file), "--overwrite"])
    assert r.exit_code == 0, r.output
    assert "The audit log is intact" in r.output
    assert _state(app, vote) == before
    assert all(_receipt_found(app, vote, rec) for rec in first)
    assert not any(_receipt_found(app, vote, rec) for rec in later)
    assert runner.invoke(audit_command, ["verify"]).exit_code == 0
    # The codes used after the backup are unused again, and cast once more.
    assert len(_cast(app, vote, codes[4:])) == 2


def test_backup_is_one_self_contained_file(app: Any, runner: Any, tmp_path: Path) -> None:
    from pb.db import get_engine

    engine = get_engine(app)
    file = tmp_path / "copy"
    assert runner.invoke(backup_command, [str(file)]).exit_code == 0
    assert not list(tmp_path.glob(".copy*"))  # written aside, then renamed
    if engine.dialect.name == "sqlite":
        with sqlite3.connect(file) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
            assert conn.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)
    else:
        assert file.read_bytes()[:5] == b"PGDMP"


def test_restore_refuses_what_is_not_a_backup(app: Any, runner: Any, tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.write_text("hello")
    r = runner.invoke(restore_command, [str(junk), "--overwrite"])
    assert r.exit_code != 0 and "not a pb backup" in r.output


@pytest.mark.parametrize("server, tool, ok", [("15.20 (Debian)", "pg_dump (PostgreSQL) 15.4", True),
                                              ("16.1", "pg_dump (PostgreSQL) 15.20", False)])  # fmt: skip
def test_pg_dump_must_match_the_servers_major_version(server: str, tool: str, ok: bool) -> None:
    from pb.operations import _major

    assert (_major(server) == _major(tool)) is ok
