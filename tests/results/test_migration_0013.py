"""Migration 0013: what a follow-up photo shows, up and down, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from pb.db import make_engine
from pb.migrate import downgrade, upgrade
from tests.conftest import empty_postgres

PG_URL = os.environ.get("PB_TEST_DATABASE_URL")
NOW = "2026-11-30 12:00:00+00:00"


def _columns(engine: sa.Engine) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_columns("results_updates")}


def _photo_words_come_and_go(engine: sa.Engine) -> None:
    """0013 gives every existing update an empty description (the page then says whose
    photo it is) and takes the column away again on the way down, keeping the update."""
    upgrade(engine, "0012")
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
        conn.execute(sa.text(
            "INSERT INTO projects (id, process_id, code, title, cost, position, created_at) "
            f"VALUES (1, 1, 'p1', 'P', 10, 0, '{NOW}')"
        ))  # fmt: skip
        conn.execute(sa.text(
            "INSERT INTO results_updates (id, project_id, created_at, body, image) "
            f"VALUES (1, 1, '{NOW}', 'Bygget har börjat.', 'AbCdEfGhIjKlMnOpQrStUvWx.jpg')"
        ))  # fmt: skip
    assert "image_alt" not in _columns(engine)
    upgrade(engine, "0013")
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT image_alt FROM results_updates")).scalar() == ""
        conn.execute(sa.text("UPDATE results_updates SET image_alt = 'Ramperna'"))
    downgrade(engine, "0012")
    assert "image_alt" not in _columns(engine)
    with engine.connect() as conn:
        body = conn.execute(sa.text("SELECT body FROM results_updates")).scalar()
    assert body == "Bygget har börjat."
    upgrade(engine)
    assert "image_alt" in _columns(engine)


def test_0013_photo_words_up_and_down_on_sqlite(tmp_path: Path) -> None:
    engine = make_engine("sqlite:///" + str(tmp_path / "photo-words.sqlite3"))
    try:
        _photo_words_come_and_go(engine)
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="PB_TEST_DATABASE_URL is not set: no PostgreSQL to test on")
def test_0013_photo_words_up_and_down_on_postgresql() -> None:
    with empty_postgres("pb_mig") as url:
        engine = make_engine(url)
        try:
            _photo_words_come_and_go(engine)
        finally:
            engine.dispose()
