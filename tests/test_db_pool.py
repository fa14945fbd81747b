"""PostgreSQL's pooled connections: a connection the server has closed (a restart, or
``pg_terminate_backend``) is replaced at checkout (``pool_pre_ping``), so the next requests
succeed."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import PG_URL
from tests.voting.conftest import Vote, issue, make_vote

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not PG_URL, reason="PB_TEST_DATABASE_URL is not set: no PostgreSQL"),
]


@pytest.fixture
def vote(app: Any, make_process: Any) -> Vote:
    return make_vote(app, make_process)


def _terminate_others(database_url: str) -> int:
    """Terminates every other backend of this database, as a restart of the server would,
    and waits until each has exited (so its socket is closed). Returns how many."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            done = conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )).scalars().all()  # fmt: skip
    finally:
        engine.dispose()
    assert all(done), done
    return len(done)


def _cast(client: Any, vote: Vote, code: str) -> Any:
    return client.post(f"/p/{vote.slug}/vote/ballot?lang=en",
                       data={"code": code, "pick": ["|p1"], "action": "cast"})  # fmt: skip


def test_casts_succeed_after_the_servers_backends_are_terminated(
    client: Any, vote: Vote, database_url: str
) -> None:
    from pb.voting import services

    codes = issue(client.application, vote, n=4)
    for code in codes[:2]:
        assert _cast(client, vote, code).status_code == 200
    assert _terminate_others(database_url) >= 1
    # Every pooled connection is dead now; the next casts, and the page after, succeed.
    for code in codes[2:]:
        r = _cast(client, vote, code)
        assert r.status_code == 200 and 'id="receipt"' in r.get_data(as_text=True)
    assert client.get(f"/p/{vote.slug}/vote?lang=en").status_code == 200
    with client.application.test_request_context():
        from pb.db import get_session

        session = get_session()
        assert services.counts(session, vote.process_id)["used_codes"] == 4


def test_a_failed_ping_replaces_the_connection(app: Any, database_url: str) -> None:
    """The server is back but the pooled connection is not: the pool connects anew instead
    of handing out the dead one."""
    from pb.db import get_engine

    engine = get_engine(app)
    with engine.connect() as conn:
        first = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    _terminate_others(database_url)
    with engine.connect() as conn:
        second = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    assert second != first
