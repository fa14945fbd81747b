"""Crash safety, short (issue #12 item 3): benchmarks/crash.py's own code serves with
gunicorn, casts from concurrent clients and SIGKILLs the server 3 times, restarting it; then
nothing shown to a voter is lost or counted twice, the database's integrity check and
``pb audit verify`` pass. On SQLite (synchronous=FULL) and, when PB_TEST_DATABASE_URL is set,
on PostgreSQL. The 20-kill run is ``benchmarks/crash.py``."""

from __future__ import annotations

import os
import socket

import pytest

from benchmarks.crash import run

PG_URL = os.environ.get("PB_TEST_DATABASE_URL")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("engine", [
    "sqlite",
    pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.skipif(
        not PG_URL, reason="PB_TEST_DATABASE_URL is not set: no PostgreSQL to test on")]),
])  # fmt: skip
def test_three_kills_lose_nothing(engine: str) -> None:
    result = run(engine, 3, voters=4, port=_free_port(), workers=2, threads=2, seed=12,
                 pg_url=PG_URL or "", gap=(0.4, 1.2), codes_per_voter=300)  # fmt: skip
    assert result["kills"] == 3
    assert result["receipts"] > 0, result
    assert result["lost"] == 0 and result["duplicated"] == 0, result
    assert result["counted"] == result["used_codes"] >= result["receipts"], result
    assert result["integrity"] == "ok", result
    assert result["audit_verify"] == "ok" and result["audit_entries"], result
