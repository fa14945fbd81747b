"""The schema is built by the migrations, on SQLite and on PostgreSQL, and matches the models."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import pb.models  # noqa: F401
from pb.db import Base, make_engine
from pb.migrate import current, downgrade, upgrade
from tests.conftest import empty_postgres

PG_URL = os.environ.get("PB_TEST_DATABASE_URL")


def _roundtrip(engine: sa.Engine) -> None:
    assert current(engine) is None
    upgrade(engine)
    assert current(engine) is not None
    tables = set(sa.inspect(engine).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # Only differences that are not real schema drift may remain (type decorators).
    assert diff == [], f"models and migrations differ: {diff}"
    downgrade(engine, "base")
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)


def test_migrations_on_empty_sqlite(tmp_path: Path) -> None:
    engine = make_engine("sqlite:///" + str(tmp_path / "empty.sqlite3"))
    try:
        _roundtrip(engine)
        with engine.connect() as conn:
            assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="PB_TEST_DATABASE_URL is not set: no PostgreSQL to test on")
def test_migrations_on_empty_postgresql() -> None:
    with empty_postgres("pb_mig") as url:
        engine = make_engine(url)
        try:
            _roundtrip(engine)
            # The audit log refuses updates in SQL, not only in the ORM.
            with engine.begin() as conn:
                conn.execute(sa.text(
                    "INSERT INTO audit_events (at, action, subject_type, reason, data, seq, "
                    "prev_sha256, sha256) VALUES (now(), 'x', 'y', '', '{}', 1, '', '')"
                ))  # fmt: skip
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(sa.text("UPDATE audit_events SET reason = 'changed'"))
        finally:
            engine.dispose()


def _old_ballot_is_renumbered(engine: sa.Engine) -> None:
    """0005 on a database whose old code gave two projects one position: positions become
    0, 1, 2 ... per process in their old order, the unique constraint holds from then on,
    and a project's area can no longer be deleted under it."""
    upgrade(engine, "0004")
    now = "2026-11-30 12:00:00+00:00"
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO processes (id, slug, published, title_sv, title_en, purpose_sv, "
            "purpose_en, question_sv, question_en, influence_level, decision_body_sv, "
            "decision_body_en, decision_text_sv, decision_text_en, budget, min_age, connections, "
            "other_connection_sv, other_connection_en, area_restricted, code_channels, "
            "ballot_type, counting_rule, tie_break, created_at, updated_at, version) VALUES "
            "(1, 'p', false, 'P', '', 'P', '', '', '', 'co-creation', 'N', '', 'D', '', 100, 12, "
            "'[]', '', '', "
            f"false, '[]', 'approval-budget', 'greedy', 'lexicographic', '{now}', '{now}', 1)"
        ))  # fmt: skip
        conn.execute(sa.text(
            "INSERT INTO areas (id, process_id, slug, name, budget, position) "
            "VALUES (1, 1, 'a', 'A', 100, 0)"
        ))  # fmt: skip
        for pid, pos in ((1, 0), (2, 1), (3, 1), (4, 1)):  # the old count() after a withdrawal
            conn.execute(sa.text(
                "INSERT INTO projects (id, process_id, area_id, code, title, cost, position, "
                f"created_at) VALUES ({pid}, 1, 1, '{pid}', 'P', 10, {pos}, '{now}')"
            ))  # fmt: skip
    upgrade(engine)
    with engine.begin() as conn:
        rows = conn.execute(sa.text("SELECT id, position FROM projects ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [(1, 0), (2, 1), (3, 2), (4, 3)]
        assert conn.execute(sa.text("SELECT whole_municipality FROM areas")).scalar() in (0, False)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.text("UPDATE projects SET position = 0 WHERE id = 2"))
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM areas WHERE id = 1"))


def test_0005_renumbers_an_old_ballot_on_sqlite(tmp_path: Path) -> None:
    engine = make_engine("sqlite:///" + str(tmp_path / "old.sqlite3"))
    try:
        _old_ballot_is_renumbered(engine)
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="PB_TEST_DATABASE_URL is not set: no PostgreSQL to test on")
def test_0005_renumbers_an_old_ballot_on_postgresql() -> None:
    with empty_postgres("pb_mig") as url:
        engine = make_engine(url)
        try:
            _old_ballot_is_renumbered(engine)
        finally:
            engine.dispose()


def _process_picture_comes_and_goes(engine: sa.Engine) -> None:
    """0012 gives every existing process an empty picture (no file, no words) and takes the
    three columns away again on the way down, keeping the process."""
    upgrade(engine, "0011")
    now = "2026-11-30 12:00:00+00:00"
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO processes (id, slug, published, title_sv, title_en, purpose_sv, "
            "purpose_en, easy_sv, easy_en, question_sv, question_en, influence_level, "
            "decision_body_sv, decision_body_en, decision_text_sv, decision_text_en, budget, "
            "min_age, connections, other_connection_sv, other_connection_en, area_restricted, "
            "code_channels, ballot_type, counting_rule, tie_break, created_at, updated_at, "
            "version) VALUES (1, 'p', true, 'P', '', 'P', '', '', '', '', '', 'co-creation', "
            f"'N', '', 'D', '', 100, 12, '[]', '', '', false, '[]', 'approval-budget', 'greedy', "
            f"'lexicographic', '{now}', '{now}', 1)"
        ))  # fmt: skip
    columns = {c["name"] for c in sa.inspect(engine).get_columns("processes")}
    assert not columns & {"image", "image_alt_sv", "image_alt_en"}
    upgrade(engine, "0012")
    with engine.begin() as conn:
        row = conn.execute(sa.text("SELECT image, image_alt_sv, image_alt_en FROM processes"))
        assert tuple(row.one()) == ("", "", "")
        conn.execute(sa.text(
            "UPDATE processes SET image = 'AbCdEfGhIjKlMnOpQrStUvWx.png', image_alt_sv = 'En park'"
        ))  # fmt: skip
    downgrade(engine, "0011")
    columns = {c["name"] for c in sa.inspect(engine).get_columns("processes")}
    assert not columns & {"image", "image_alt_sv", "image_alt_en"}
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT slug FROM processes")).scalar() == "p"
    upgrade(engine)
    columns = {c["name"] for c in sa.inspect(engine).get_columns("processes")}
    assert {"image", "image_alt_sv", "image_alt_en"} <= columns


def test_0012_process_picture_up_and_down_on_sqlite(tmp_path: Path) -> None:
    engine = make_engine("sqlite:///" + str(tmp_path / "pictures.sqlite3"))
    try:
        _process_picture_comes_and_goes(engine)
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="PB_TEST_DATABASE_URL is not set: no PostgreSQL to test on")
def test_0012_process_picture_up_and_down_on_postgresql() -> None:
    with empty_postgres("pb_mig") as url:
        engine = make_engine(url)
        try:
            _process_picture_comes_and_goes(engine)
        finally:
            engine.dispose()
