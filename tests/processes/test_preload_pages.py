"""The pages that read all of a process's areas, phases and categories read them in one
statement (``pb.processes.preload``), not in three lazy loads, and show what they showed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import login
from tests.proposals.helpers import ids

LAZY = ("SELECT areas.", "SELECT phases.", "SELECT categories.")


@contextmanager
def statements(engine: sa.Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize(
    ("path", "logged_in", "shown"),
    [
        ("/p/parker-2027?lang=en", False, ["Norra Fäladen", "Klostergården"]),
        ("/p/parker-2027/proposals?lang=en", False, ["Norra Fäladen", "Streets"]),
        ("/p/parker-2027/proposals?lang=en", True, ["Klostergården", "Parks"]),
        ("/p/parker-2027/proposals/new?lang=en", True, ["Norra Fäladen", "Streets"]),
    ],
)
def test_a_page_reads_the_process_collections_in_one_statement(
    app: Any, make_process: Any, path: str, logged_in: bool, shown: list[str]
) -> None:
    from pb.db import get_engine

    make_process()
    client = app.test_client()
    if logged_in:
        login(client, "participant")
    with statements(get_engine(app)) as seen:
        r = client.get(path)
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    for text in shown:
        assert text in html, text
    assert not [s for s in seen if s.startswith(LAZY)], seen
    assert len([s for s in seen if "UNION ALL" in s]) == 1, seen


def test_publishing_reads_the_collections_once_and_still_checks_the_area(
    app: Any, make_process: Any, db: Any
) -> None:
    from pb.db import get_engine
    from pb.proposals.models import Proposal

    make_process()
    client = app.test_client()
    login(client, "participant")
    data = {"title": "Bänkar", "description": "Bänkar och träd.", "cost_estimate": "50000",
            "consent": "y", "action": "publish", "area": "999999", "category": ""}  # fmt: skip
    with statements(get_engine(app)) as seen:
        refused = client.post("/p/parker-2027/proposals/new?lang=en", data=data)
    assert refused.status_code == 400
    assert not [s for s in seen if s.startswith(LAZY)], seen
    assert db.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 0
    known = ids(app, "parker-2027")
    data.update(area=str(known["Klostergården"]), category=str(known["Parker"]))
    with statements(get_engine(app)) as seen:
        published = client.post("/p/parker-2027/proposals/new?lang=en", data=data)
    assert published.status_code == 303
    assert not [s for s in seen if s.startswith(LAZY)], seen
    assert db.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 1
