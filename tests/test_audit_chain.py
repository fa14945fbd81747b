"""The audit log is a hash chain (issue #12 item 5): an edited, removed or reordered entry is
found by ``pb audit verify``; appends from many connections at once keep one chain; the
migration chains the entries that existed before; the head is on the process page and in the
published result."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from pb.audit import GENESIS, AuditAction, AuditEvent, record, verify
from pb.operations import audit_command
from tests.conftest import PG_URL, empty_postgres, login


def _append(engine: sa.Engine, n: int, tag: str = "r") -> None:
    for i in range(n):
        with Session(engine) as session:
            record(session, AuditAction.PROCESS_UPDATE, subject_type="processes", subject_id=i,
                   reason=f"{tag}{i} åäö", data={"changed": {"budget": [i, i + 1]}, "t": tag})  # fmt: skip
            session.commit()


def _tamper(engine: sa.Engine, *statements: str) -> None:
    """Change the log behind pb's back, as someone with the database's keys could (on
    PostgreSQL the append-only trigger has to be switched off first)."""
    pg = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        if pg:
            conn.execute(
                sa.text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
            )
        for sql in statements:
            conn.execute(sa.text(sql))
        if pg:
            conn.execute(
                sa.text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
            )


def _verdict(engine: sa.Engine, *heads: str) -> Any:
    with Session(engine) as session:
        return verify(session, heads)


@pytest.fixture
def engine(app: Any) -> sa.Engine:
    from pb.db import get_engine

    return get_engine(app)


def test_entries_form_a_chain_anyone_can_recompute(engine: sa.Engine, runner: Any) -> None:
    _append(engine, 5)
    with Session(engine) as session:
        rows = session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    prev = GENESIS
    for r in rows:  # docs/audit.md, by hand: sorted keys, no spaces, UTF-8
        doc = {"seq": r.seq, "prev": prev, "at": r.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
               "actor_id": r.actor_id, "action": r.action, "subject_type": r.subject_type,
               "subject_id": r.subject_id, "process_id": r.process_id, "reason": r.reason,
               "data": r.data}  # fmt: skip
        text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert r.prev_sha256 == prev
        assert r.sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()
        prev = r.sha256
    result = runner.invoke(audit_command, ["verify"])
    assert result.exit_code == 0, result.output
    assert f"5 entries; head: entry 5, SHA-256 {prev}" in result.output
    assert runner.invoke(audit_command, ["verify", "--head", rows[2].sha256]).exit_code == 0


def test_an_edited_entry_is_found(engine: sa.Engine, runner: Any) -> None:
    _append(engine, 6)
    assert _verdict(engine).ok
    _tamper(engine, "UPDATE audit_events SET reason = 'nothing happened' WHERE seq = 3")
    verdict = _verdict(engine)
    assert not verdict.ok
    assert [(b.seq, "changed" in b.problem) for b in verdict.breaks] == [(3, True)]
    result = runner.invoke(audit_command, ["verify"])
    assert result.exit_code == 1
    assert "entry 3 (row id" in result.output and "changed" in result.output


def test_an_edit_that_rehashes_the_entry_breaks_the_next_link(engine: sa.Engine) -> None:
    _append(engine, 4)
    with Session(engine) as session:
        ev = session.scalar(sa.select(AuditEvent).where(AuditEvent.seq == 2))
        session.expunge(ev)
        ev.reason = "rewritten"
        from pb.audit import entry_hash

        forged = entry_hash(ev)
        noted = session.scalar(sa.select(AuditEvent.sha256).where(AuditEvent.seq == 4))
        session.rollback()
    _tamper(engine, f"UPDATE audit_events SET reason = 'rewritten', sha256 = '{forged}' "
                    "WHERE seq = 2")  # fmt: skip
    verdict = _verdict(engine)
    assert [b.seq for b in verdict.breaks] == [3]
    assert "does not follow" in verdict.breaks[0].problem
    # Rewriting the whole rest of the chain too changes the head someone noted.
    with Session(engine) as session:
        from pb.audit import entry_hash

        prev = forged
        fixes = []
        for ev in session.scalars(sa.select(AuditEvent).where(AuditEvent.seq > 2)
                                  .order_by(AuditEvent.seq)):  # fmt: skip
            sha = entry_hash(ev, prev=prev)
            fixes.append(f"UPDATE audit_events SET prev_sha256 = '{prev}', sha256 = '{sha}' "
                         f"WHERE seq = {ev.seq}")  # fmt: skip
            prev = sha
        session.rollback()
    _tamper(engine, *fixes, f"UPDATE audit_chain SET sha256 = '{prev}'")
    assert _verdict(engine).ok  # a perfect forgery of the whole chain...
    verdict = _verdict(engine, noted)  # ...is caught by anyone who noted the head
    assert not verdict.ok and noted in verdict.breaks[0].problem


def test_a_deleted_entry_is_found(engine: sa.Engine) -> None:
    _append(engine, 5)
    _tamper(engine, "DELETE FROM audit_events WHERE seq = 2")
    problems = [(b.seq, b.problem.split(":")[0]) for b in _verdict(engine).breaks]
    assert problems[0] == (2, "missing")
    assert problems[1][0] == 3 and "does not follow" in problems[1][1]


def test_a_deleted_last_entry_is_found(engine: sa.Engine) -> None:
    _append(engine, 3)
    _tamper(engine, "DELETE FROM audit_events WHERE seq = 3")
    [brk] = _verdict(engine).breaks
    assert "the recorded head is entry 3" in brk.problem


def test_reordered_entries_are_found(engine: sa.Engine) -> None:
    _append(engine, 5)
    _tamper(engine, "UPDATE audit_events SET seq = -1 WHERE seq = 2",
            "UPDATE audit_events SET seq = 2 WHERE seq = 4",
            "UPDATE audit_events SET seq = 4 WHERE seq = -1")  # fmt: skip
    verdict = _verdict(engine)
    assert {b.seq for b in verdict.breaks} >= {2, 3, 4, 5}


def test_a_rolled_back_event_leaves_no_trace(engine: sa.Engine) -> None:
    _append(engine, 2)
    with Session(engine) as session:
        record(session, AuditAction.PROCESS_UPDATE, reason="never happened")
        session.rollback()
        session.commit()
    with Session(engine) as session:
        record(session, AuditAction.PROCESS_UPDATE, reason="never either")
    _append(engine, 1, tag="after")
    verdict = _verdict(engine)
    assert verdict.ok and verdict.head[0] == 3


def test_events_of_one_transaction_are_chained_in_order(engine: sa.Engine) -> None:
    with Session(engine) as session:
        for i in range(3):
            record(session, AuditAction.PROCESS_UPDATE, reason=f"step {i}")
        session.commit()
    with Session(engine) as session:
        reasons = session.scalars(sa.select(AuditEvent.reason).order_by(AuditEvent.seq)).all()
    assert reasons == ["step 0", "step 1", "step 2"]
    assert _verdict(engine).ok


def test_adding_an_event_without_record_is_refused(engine: sa.Engine) -> None:
    from pb.audit import AuditLogIsAppendOnly

    with Session(engine) as session, pytest.raises(AuditLogIsAppendOnly):
        session.add(AuditEvent(action="x", subject_type="y", reason="", data={}))
        session.flush()


def test_concurrent_appends_keep_one_chain(engine: sa.Engine) -> None:
    """Eight connections append at once (on PostgreSQL when PB_TEST_DATABASE_URL is set):
    every event is in the chain exactly once, numbered without gap, and verify passes."""
    threads, each = 8, 15
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def worker(t: int) -> None:
        try:
            start.wait()
            _append(engine, each, tag=f"t{t}-")
        except BaseException as exc:  # reported below
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    assert not errors, errors
    verdict = _verdict(engine)
    assert verdict.ok, verdict.breaks
    assert verdict.entries == threads * each and verdict.head[0] == threads * each
    with Session(engine) as session:
        reasons = session.scalars(sa.select(AuditEvent.reason)).all()
    assert len(set(reasons)) == threads * each


def test_the_head_is_on_the_process_page(client: Any, make_process: Any, engine: sa.Engine) -> None:
    make_process()
    with Session(engine) as session:
        seq, sha = session.execute(
            sa.select(AuditEvent.seq, AuditEvent.sha256).order_by(AuditEvent.seq.desc()).limit(1)
        ).one()
    page = client.get("/p/parker-2027?lang=en").get_data(as_text=True)
    assert f"latest entry is number {seq}, with the SHA-256 fingerprint {sha}" in page
    login(client, "admin")
    seq, sha = _verdict(engine).head  # logging in is an entry too
    page = client.get("/admin/processes/parker-2027/audit?lang=en").get_data(as_text=True)
    assert f"is number {seq} with the SHA-256 fingerprint {sha}" in page


def _old_log(engine: sa.Engine) -> None:
    from pb.migrate import upgrade

    upgrade(engine, "0009")
    with engine.begin() as conn:
        for i in range(4):
            conn.execute(sa.text(
                "INSERT INTO audit_events (at, action, subject_type, subject_id, reason, data) "
                "VALUES (:at, 'process.update', 'processes', :i, :reason, :data)"
            ), {"at": f"2026-0{i + 1}-02 10:00:0{i}.12345{i}+00:00", "i": i,
                "reason": f"före {i}", "data": json.dumps({"n": i, "ord": ["b", "a"]})})  # fmt: skip
    upgrade(engine)
    with Session(engine) as session:
        verdict = verify(session)
        assert verdict.ok and verdict.entries == 4, verdict.breaks
        seqs = session.scalars(sa.select(AuditEvent.seq).order_by(AuditEvent.id)).all()
        assert seqs == [1, 2, 3, 4]
    _append(engine, 2)  # new entries join the migrated chain
    with Session(engine) as session:
        assert verify(session).ok and verify(session).entries == 6


def test_the_migration_chains_existing_entries_on_sqlite(tmp_path: Path) -> None:
    from pb.db import make_engine

    engine = make_engine("sqlite:///" + str(tmp_path / "old.sqlite3"))
    try:
        _old_log(engine)
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="PB_TEST_DATABASE_URL is not set: no PostgreSQL to test on")
def test_the_migration_chains_existing_entries_on_postgresql() -> None:
    from pb.db import make_engine

    with empty_postgres("pb_mig") as url:
        engine = make_engine(url)
        try:
            _old_log(engine)
        finally:
            engine.dispose()


def test_the_script_in_the_docs_checks_a_sqlite_copy(
    engine: sa.Engine, tmp_path: Path, capsys: Any
) -> None:
    """docs/audit.md's stdlib-only script recomputes the chain pb wrote."""
    import re
    import sqlite3

    _append(engine, 4)
    with Session(engine) as session:
        head = verify(session).head
    copy = tmp_path / "pb-copy.sqlite3"
    if engine.dialect.name == "sqlite":
        src = sqlite3.connect(engine.url.database or "")
    else:  # the same rows, as a SQLite copy would hold them
        pytest.skip("the script reads a SQLite copy; pb backup makes one only from SQLite")
    with sqlite3.connect(copy) as dst:
        src.backup(dst)
    src.close()
    docs = (Path(__file__).resolve().parent.parent / "docs" / "audit.md").read_text("utf-8")
    script = re.search(r"### Outside pb.*?```python\n(.*?)```", docs, re.S)
    assert script
    exec(script.group(1).replace("pb-copy.sqlite3", str(copy)), {})
    assert capsys.readouterr().out.split() == [str(head[0]), head[1]]
