"""The schema is built by the migrations, on SQLite and on PostgreSQL, and matches the models."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import pb.models  # noqa: F401
from pb.db import Base, make_engine
from pb.migrate import current, downgrade, upgrade

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
    assert PG_URL
    name = f"pb_mig_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(sa.engine.make_url(PG_URL).set(database=name).render_as_string(False))
    try:
        _roundtrip(engine)
        # The audit log refuses updates in SQL, not only in the ORM.
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO audit_events (at, action, subject_type, reason, data) "
                "VALUES (now(), 'x', 'y', '', '{}')"
            ))  # fmt: skip
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(sa.text("UPDATE audit_events SET reason = 'changed'"))
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
