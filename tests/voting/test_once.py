"""Casting once: 50 simultaneous casts of one code, 200 times over, give exactly one ballot
each time and a clear "already used" for the other 49, on the real database (SQLite file,
or PostgreSQL with PB_TEST_DATABASE_URL)."""

from __future__ import annotations

import threading
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from tests.voting.conftest import Vote, ballot, issue, now

THREADS = 50
ROUNDS = 200


def _engine(url: str, size: int) -> sa.Engine:
    from pb.db import _sqlite_pragmas

    if url.startswith("sqlite"):
        engine = sa.create_engine(url, pool_size=size, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_size=size, max_overflow=0)


def test_fifty_parallel_casts_of_one_code_give_one_ballot_two_hundred_times(
    app: Any, vote: Vote, db: Any
) -> None:
    from pb.processes.models import Process
    from pb.voting import services
    from pb.voting.models import HeldBallot, VotingCode

    codes = issue(app, vote, ROUNDS)
    engine = _engine(app.config["DATABASE_URL"], THREADS)
    barrier = threading.Barrier(THREADS)
    outcomes: list[list[str]] = [[] for _ in range(ROUNDS)]
    lock = threading.Lock()

    def worker() -> None:
        with (
            app.test_request_context("/?lang=en"),
            Session(engine, expire_on_commit=False) as session,
        ):
            process = session.get(Process, vote.process_id)
            assert process is not None
            _ = (process.phases, process.areas)
            session.commit()
            for i, code in enumerate(codes):
                barrier.wait()
                try:
                    services.cast(session, process, code, ballot("p1", "p4"), now())
                    session.commit()
                    result = "cast"
                except services.CodeAlreadyUsed:
                    session.rollback()
                    result = "used"
                except Exception as exc:  # anything else is a failure of the test
                    session.rollback()
                    result = f"error: {exc!r}"
                with lock:
                    outcomes[i].append(result)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    for i, results in enumerate(outcomes):
        assert sorted(set(results)) == ["cast", "used"], (i, sorted(set(results)))
        assert results.count("cast") == 1 and len(results) == THREADS, i
    assert db.scalar(sa.select(sa.func.count()).select_from(HeldBallot)) == ROUNDS
    assert db.scalar(sa.select(sa.func.count()).where(VotingCode.used.is_(True))) == ROUNDS


def test_simultaneous_replacements_leave_one_ballot(app: Any, vote: Vote, db: Any) -> None:
    from sqlalchemy.exc import IntegrityError

    from pb.db import get_session
    from pb.processes.models import Process
    from pb.voting import services
    from pb.voting.models import HeldBallot

    [code] = issue(app, vote)
    with app.test_request_context("/?lang=en"):
        session = get_session()
        receipt = services.cast(session, vote.process(session), code, ballot("p1"), now())
        session.commit()
    assert receipt
    engine = _engine(app.config["DATABASE_URL"], 10)
    barrier = threading.Barrier(10)
    results: list[str] = []

    def worker(i: int) -> None:
        with app.test_request_context("/?lang=en"), Session(engine) as session:
            process = session.get(Process, vote.process_id)
            assert process is not None
            _ = (process.phases, process.areas)
            barrier.wait()
            try:
                services.replace(session, process, code, receipt, ballot(f"p{i % 5 + 1}"), now())
                session.commit()
                results.append("ok")
            except IntegrityError:
                session.rollback()
                results.append("busy")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    assert len(results) == 10 and "ok" in results
    assert db.scalar(sa.select(sa.func.count()).select_from(HeldBallot)) == 1
    with app.test_request_context("/?lang=en"):
        session = get_session()
        services.mix(session, vote.process_id, everything=True)
        session.commit()
        assert services.counts(session, vote.process_id)["ballots"] == 1
