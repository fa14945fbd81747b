"""Migration 0015 and the form: "By project number" counts the numbers as numbers from now
on for processes whose rules are not frozen; frozen ones (voting opened, frozen by an admin,
fingerprinted) keep ``lexicographic`` and the same rules fingerprint. On SQLite and
PostgreSQL. New processes get project-number."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import sqlalchemy as sa

from pb.migrate import downgrade, upgrade

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
PAST = NOW - dt.timedelta(days=3)
FUTURE = NOW + dt.timedelta(days=30)

# slug -> (tie_break, frozen_at, voting starts, fingerprint)
PROCESSES: dict[str, tuple[str, dt.datetime | None, dt.datetime | None, str | None]] = {
    "open-later": ("lexicographic", None, FUTURE, None),
    "no-vote-yet": ("lexicographic", None, None, None),
    "frozen-later": ("lexicographic", FUTURE, FUTURE, None),
    "voting-opened": ("lexicographic", None, PAST, None),
    "admin-froze": ("lexicographic", PAST, FUTURE, None),
    "fingerprinted": ("lexicographic", None, FUTURE, "ab" * 32),
    "cheaper": ("cheaper-first", None, FUTURE, None),
}
CONVERTED = {"open-later", "no-vote-yet", "frozen-later"}


def _insert(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for i, (slug, (tie, frozen, opens, fingerprint)) in enumerate(PROCESSES.items(), 1):
            conn.execute(sa.text(
                "INSERT INTO processes (id, slug, published, title_sv, title_en, purpose_sv, "
                "purpose_en, easy_sv, easy_en, question_sv, question_en, influence_level, "
                "decision_body_sv, decision_body_en, decision_text_sv, decision_text_en, budget, "
                "min_age, connections, other_connection_sv, other_connection_en, "
                "area_restricted, code_channels, ballot_type, counting_rule, tie_break, "
                "frozen_at, created_at, updated_at, version) VALUES (:id, :slug, true, 'P', '', "
                "'P', '', '', '', '', '', 'co-creation', 'N', '', 'D', '', 100, 12, '[]', '', '', "
                "false, '[]', 'approval-budget', 'greedy', :tie, :frozen, :now, :now, 1)"
            ), {"id": i, "slug": slug, "tie": tie, "frozen": frozen, "now": PAST})  # fmt: skip
            if opens is not None:
                conn.execute(sa.text(
                    "INSERT INTO phases (process_id, kind, starts_at, ends_at) "
                    "VALUES (:id, 'voting', :starts, :ends)"
                ), {"id": i, "starts": opens, "ends": opens + dt.timedelta(days=10)})  # fmt: skip
            if fingerprint is not None:
                conn.execute(sa.text(
                    "INSERT INTO voting_records (process_id, fingerprint, canonical_rules, "
                    "extension_reason) VALUES (:id, :fp, '{\"tie_break\":\"lexicographic\"}', '')"
                ), {"id": i, "fp": fingerprint})  # fmt: skip


def _ties(engine: sa.Engine) -> dict[str, tuple[str, int]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT slug, tie_break, version FROM processes"))
        return {slug: (tie, version) for slug, tie, version in rows}


def _converts_only_what_is_not_frozen(engine: sa.Engine) -> None:
    upgrade(engine, "0014")
    _insert(engine)
    upgrade(engine, "0015")
    after = _ties(engine)
    for slug, (tie, *_rest) in PROCESSES.items():
        if slug in CONVERTED:
            assert after[slug] == ("project-number", 2), slug
        else:
            assert after[slug] == (tie, 1), slug  # untouched, not even its version
    with engine.connect() as conn:
        stored = conn.execute(sa.text(
            "SELECT fingerprint, canonical_rules FROM voting_records"
        )).one()  # fmt: skip
    assert stored == ("ab" * 32, '{"tie_break":"lexicographic"}')
    # Down: the code before 0015 knows "by project number" only as lexicographic.
    downgrade(engine, "0014")
    assert {tie for tie, _v in _ties(engine).values()} == {"lexicographic", "cheaper-first"}
    upgrade(engine)


def test_0015_converts_only_unfrozen_processes(migration_engine: sa.Engine) -> None:
    """On SQLite and on PostgreSQL (``migration_engine``)."""
    _converts_only_what_is_not_frozen(migration_engine)


def test_a_new_process_is_offered_by_project_number_first(client: Any, users: Any) -> None:
    """The new-process form selects "By project number" (project-number); the alphabetical
    order is still there, named as what it is, and an edit form shows a process's own choice."""
    from tests.conftest import login
    from tests.processes.test_processes import create

    login(client, "admin")
    page = client.get("/admin/processes/new?lang=en").get_data(as_text=True)
    select = page.split('name="tie_break"')[1].split("</select>")[0]
    options = re.findall(r'<option([^>]*)value="([^"]+)"([^>]*)>([^<]*)<', select)
    assert [(v, label) for _a, v, _b, label in options] == [
        ("project-number", "By project number"),
        ("cheaper-first", "Cheaper first"),
        ("lottery", "Lottery"),
        ("lexicographic", "By project code in alphabetical order"),
    ]
    chosen = [v for a, v, b, _label in options if "selected" in a + b]
    assert chosen == ["project-number"]
    assert create(client, tie_break="lexicographic", lottery_seed=None).status_code == 303
    edit = client.get("/admin/processes/lund-2027/edit?lang=en").get_data(as_text=True)
    select = edit.split('name="tie_break"')[1].split("</select>")[0]
    assert re.search(r'<option selected value="lexicographic"|value="lexicographic" selected',
                     select)  # fmt: skip
