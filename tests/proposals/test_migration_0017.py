"""Migration 0017: a comment remembers whether it was written as an official; existing
comments keep the badge they showed (author now an official of the process, or an admin)."""

from __future__ import annotations

import sqlalchemy as sa

from pb.migrate import downgrade, upgrade

NOW = "2026-11-30 12:00:00+00:00"


def _insert_world(conn: sa.Connection) -> None:
    conn.execute(sa.text(
        "INSERT INTO processes (id, slug, published, title_sv, title_en, purpose_sv, "
        "purpose_en, easy_sv, easy_en, question_sv, question_en, influence_level, "
        "decision_body_sv, decision_body_en, decision_text_sv, decision_text_en, budget, "
        "min_age, connections, other_connection_sv, other_connection_en, area_restricted, "
        "code_channels, ballot_type, counting_rule, tie_break, created_at, updated_at, "
        "version) VALUES (1, 'p', true, 'P', '', 'P', '', '', '', '', '', 'co-creation', "
        f"'N', '', 'D', '', 100, 12, '[]', '', '', false, '[]', 'approval-budget', 'greedy', "
        f"'lexicographic', '{NOW}', '{NOW}', 1), (2, 'q', true, 'Q', '', 'Q', '', '', '', '', "
        "'', 'co-creation', 'N', '', 'D', '', 100, 12, '[]', '', '', false, '[]', "
        f"'approval-budget', 'greedy', 'lexicographic', '{NOW}', '{NOW}', 1)"
    ))  # fmt: skip
    for uid, role in ((1, "participant"), (2, "official"), (3, "admin"), (4, "official")):
        conn.execute(sa.text(
            "INSERT INTO users (id, email, display_name, password_hash, role, active, "
            f"created_at, session_version) VALUES ({uid}, 'u{uid}@example.org', 'U{uid}', 'x', "
            f"'{role}', true, '{NOW}', 1)"
        ))  # fmt: skip
    # 2 is an official of process 1, 4 only of process 2.
    conn.execute(
        sa.text("INSERT INTO process_officials (process_id, user_id) VALUES (1, 2), (2, 4)")
    )
    conn.execute(sa.text(
        "INSERT INTO proposals (id, process_id, status, title, description, address, image, "
        "consent, created_at, updated_at, answer, hidden, auto_hidden, hidden_reason, "
        "support_count, comment_count, search_text) VALUES (1, 1, 'published', 'T', 'D', '', "
        f"'', true, '{NOW}', '{NOW}', '', false, false, '', 0, 4, '')"
    ))  # fmt: skip
    for cid in (1, 2, 3, 4):
        conn.execute(sa.text(
            "INSERT INTO proposal_comments (id, proposal_id, author_id, body, created_at, "
            f"hidden, auto_hidden, hidden_reason) VALUES ({cid}, 1, {cid}, 'c', '{NOW}', false, "
            "false, '')"
        ))  # fmt: skip


def _comes_and_goes(engine: sa.Engine) -> None:
    upgrade(engine, "0013")
    with engine.begin() as conn:
        _insert_world(conn)
    upgrade(engine, "0017")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, as_official FROM proposal_comments ORDER BY id"))
        assert [(i, bool(a)) for i, a in rows] == [(1, False), (2, True), (3, True), (4, False)]
    downgrade(engine, "0016")
    columns = {c["name"] for c in sa.inspect(engine).get_columns("proposal_comments")}
    assert "as_official" not in columns
    upgrade(engine)


def test_0017_up_and_down(migration_engine: sa.Engine) -> None:
    """On SQLite and on PostgreSQL (``migration_engine``)."""
    _comes_and_goes(migration_engine)
