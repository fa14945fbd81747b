"""The curious administrator: 200 voters with known codes (letters, school and library
batches, e-mail, paper) vote one after the other. Given the whole database with its system
columns (PostgreSQL's ``xmin``/``ctid``, SQLite's ``rowid``, the order rows come back in),
the audit log, the issuing records, the pepper and even the exact order in which the
voters voted, the attacker's best matching of ballots to voters does no better than chance
within a mixing batch.

The same attacker, pointed at the holding table before a batch is mixed, matches every
ballot: the attack is real, and the mixing is what defeats it."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from tests.voting.conftest import ballot, issue, make_vote, now

VOTERS = 200
BATCH = 20
# Within each batch of 20 the attacker's ranking hits a random permutation's fixed points:
# about one per batch, 10 in all (variance about 10). 25 or more happens with probability
# below 1e-4 by chance; a leak of order would give close to 200.
BOUND = 25

PROJECTS = [(f"q{i:02d}", f"Projekt {i}", 1000, None) for i in range(12)]


def _choices(i: int) -> tuple[str, ...]:
    """A different non-empty set of projects for each voter."""
    subsets = [s for k in (1, 2, 3) for s in itertools.combinations(range(12), k)]
    return tuple(f"q{j:02d}" for j in subsets[i])


def _key(choices: Any) -> tuple[str, ...]:
    if isinstance(choices, str):  # raw SQL returns JSON as text on SQLite
        choices = json.loads(choices)
    return tuple(sorted(choices[0]["projects"]))


def _snapshot(db: Any, table: str, content: str) -> list[dict[str, Any]]:
    """Every row with its system columns, in the order the database returns them."""
    dialect = db.get_bind().dialect.name
    if dialect == "postgresql":
        sql = f"SELECT xmin::text::bigint AS xmin, ctid::text AS ctid, id, {content} FROM {table}"
    else:
        sql = f"SELECT rowid AS rowid, id, {content} FROM {table}"
    rows = [dict(r) for r in db.execute(sa.text(sql)).mappings()]
    for n, row in enumerate(rows):
        row["natural"] = n
        if "ctid" in row:
            page, item = row["ctid"].strip("()").split(",")
            row["ctid_key"] = (int(page), int(item))
    return rows


def _attacks(rows: Sequence[dict[str, Any]]) -> dict[str, Callable[[dict[str, Any]], Any]]:
    keys: dict[str, Callable[[dict[str, Any]], Any]] = {
        "natural order": lambda r: r["natural"],
        "id": lambda r: r["id"],
    }
    if rows and "rowid" in rows[0]:
        keys["rowid"] = lambda r: r["rowid"]
    if rows and "xmin" in rows[0]:
        keys["xmin then ctid"] = lambda r: (r["xmin"], r["ctid_key"])
        keys["ctid"] = lambda r: r["ctid_key"]
    return keys


def _best_matching(
    rows: Sequence[dict[str, Any]], voters: Sequence[tuple[str, ...]], key: Callable[..., Any]
) -> int:
    """Rank ballots by the feature, voters by when they voted, pair rank with rank; the
    number of ballots given to their true voter."""
    ranked = sorted(rows, key=key)
    return sum(1 for r, v in zip(ranked, voters, strict=False) if r["key"] == v)


def test_the_curious_administrator_does_no_better_than_chance(
    app: Any, make_process: Any, users: Any, db: Any
) -> None:
    from pb.db import get_session
    from pb.voting import services

    vote = make_vote(
        app,
        make_process,
        slug="hemlig",
        budget=100_000,
        projects=PROJECTS,
        code_channels=["letter", "school", "library", "email"],
    )
    codes = (
        issue(app, vote, 60, channel="letter", purpose="Brev")
        + issue(app, vote, 50, channel="school", purpose="Klass 9A")
        + issue(app, vote, 40, channel="library", purpose="Biblioteket")
        + issue(app, vote, 25, channel="email", purpose="E-post")
        + issue(app, vote, 25, channel="school", purpose="Papper")
    )
    voters = list(range(VOTERS))
    random.Random(7).shuffle(voters)  # who votes when: the attacker knows this order
    cast_order: list[tuple[str, ...]] = []
    held_snapshot: list[dict[str, Any]] = []
    for step, i in enumerate(voters):
        code = codes[i]
        choices = _choices(i)
        with app.test_request_context("/?lang=en"):
            session = get_session()
            process = vote.process(session)
            b = ballot(*choices)
            if i >= 175:  # paper: typed twice by two officials
                services.enter_paper(session, process, code, b, users["official"], now())
                session.commit()
                services.enter_paper(session, process, code, b, users["admin"], now())
            else:
                services.cast(session, process, code, b, now())
            session.commit()
            cast_order.append(tuple(sorted(choices)))
            if step == BATCH - 2:
                held_snapshot = _snapshot(db, "voting_held_ballots", "content")
                db.rollback()
            services.mix_due(session, process, now())
            session.commit()
    with app.test_request_context("/?lang=en"):
        session = get_session()
        services.mix(session, vote.process_id, everything=True)
        session.commit()

    # The attack works on ballots still held (before their batch is mixed) ...
    for row in held_snapshot:
        content = row["content"]
        content = json.loads(content) if isinstance(content, str) else content
        row["key"] = _key(content["choices"])
    assert len(held_snapshot) == BATCH - 1
    held_hits = max(
        _best_matching(held_snapshot, cast_order, key) for key in _attacks(held_snapshot).values()
    )
    assert held_hits == BATCH - 1

    # ... and is at chance level on the mixed ballots.
    rows = _snapshot(db, "voting_ballots", "choices")
    db.rollback()
    assert len(rows) == VOTERS
    for row in rows:
        row["key"] = _key(row["choices"])
    assert sorted(r["key"] for r in rows) == sorted(cast_order)
    for name, key in _attacks(rows).items():
        hits = _best_matching(rows, cast_order, key)
        assert hits < BOUND, f"{name}: {hits} of {VOTERS} ballots matched to their voter"

    if db.get_bind().dialect.name == "postgresql":
        code_xmins = set(db.scalars(sa.text("SELECT xmin::text::bigint FROM voting_codes")))
        ballot_xmins = {r["xmin"] for r in rows}
        assert not code_xmins & ballot_xmins  # no ballot shares a transaction with a code

    # Nothing else holds a link: the audit log has counts only, no ballot or code.
    audit = db.execute(sa.text("SELECT action, reason, data FROM audit_events")).all()
    text = " ".join(str(a) for a in audit)
    assert not any(r["id"] in text for r in rows)
    assert not any(c in text for c in codes)
    assert db.scalar(sa.text("SELECT count(*) FROM voting_held_ballots")) == 0
    assert db.scalar(sa.text("SELECT count(*) FROM voting_paper_entries")) == 0
