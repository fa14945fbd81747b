"""Migration 0014: a ballot project's English title, up and down, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa

from pb.migrate import downgrade, upgrade

NOW = "2026-11-30 12:00:00+00:00"


def _columns(engine: sa.Engine) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_columns("projects")}


def english_title_comes_and_goes(engine: sa.Engine) -> None:
    """0014 gives every existing project an empty English title (readers then see the
    Swedish one) and takes the column away again on the way down, keeping the project."""
    upgrade(engine, "0013")
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO processes (id, slug, published, title_sv, title_en, purpose_sv, "
            "purpose_en, easy_sv, easy_en, question_sv, question_en, influence_level, "
            "decision_body_sv, decision_body_en, decision_text_sv, decision_text_en, budget, "
            "min_age, connections, other_connection_sv, other_connection_en, area_restricted, "
            "code_channels, ballot_type, counting_rule, tie_break, created_at, updated_at, "
            "version) VALUES (1, 'p', true, 'P', '', 'P', '', '', '', '', '', 'co-creation', "
            f"'N', '', 'D', '', 100, 12, '[]', '', '', false, '[]', 'approval-budget', 'greedy', "
            f"'lexicographic', '{NOW}', '{NOW}', 1)"
        ))  # fmt: skip
        for pid in (1, 2):
            conn.execute(sa.text(
                "INSERT INTO projects (id, process_id, code, title, cost, position, created_at, "
                f"easy_sv, easy_en) VALUES ({pid}, 1, 'p{pid}', 'Skatepark {pid}', 10, {pid}, "
                f"'{NOW}', 'Lätt.', 'Easy.')"
            ))  # fmt: skip
    assert "title_en" not in _columns(engine)
    upgrade(engine, "0014")
    with engine.begin() as conn:
        rows = conn.execute(sa.text("SELECT id, title, title_en FROM projects ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [(1, "Skatepark 1", ""), (2, "Skatepark 2", "")]
        conn.execute(sa.text("UPDATE projects SET title_en = 'Skate park' WHERE id = 1"))
        # A project added without naming the column gets the empty title too.
        conn.execute(sa.text(
            "INSERT INTO projects (id, process_id, code, title, cost, position, created_at) "
            f"VALUES (3, 1, 'p3', 'Utegym', 10, 3, '{NOW}')"
        ))  # fmt: skip
        assert conn.execute(sa.text("SELECT title_en FROM projects WHERE id = 3")).scalar() == ""
    downgrade(engine, "0013")
    assert "title_en" not in _columns(engine)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT code, title, easy_en FROM projects ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [
        ("p1", "Skatepark 1", "Easy."), ("p2", "Skatepark 2", "Easy."), ("p3", "Utegym", "")
    ]  # fmt: skip
    upgrade(engine)
    assert "title_en" in _columns(engine)


def test_0014_english_title_up_and_down(migration_engine: sa.Engine) -> None:
    """On SQLite and on PostgreSQL (``migration_engine``)."""
    english_title_comes_and_goes(migration_engine)
