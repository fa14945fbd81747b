"""Database plumbing: the declarative base, the engine and one session per request.

The schema is built only by Alembic migrations (``pb db upgrade``), in tests too.
Services receive a session and only flush; the request (or CLI command) commits once.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware datetimes stored as UTC; SQLite forgets the zone, so we restore it."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; pb stores aware datetimes only")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


SYNCHRONOUS = ("FULL", "NORMAL", "EXTRA")


def _sqlite_pragmas(
    dbapi_connection: Any, connection_record: Any, synchronous: str = "NORMAL"
) -> None:
    assert synchronous in SYNCHRONOUS, synchronous
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.close()


def make_engine(url: str, echo: bool = False, sqlite_synchronous: str = "NORMAL") -> Engine:
    """``sqlite_synchronous``: ``NORMAL`` keeps commits through a crash of pb; ``FULL``
    syncs the write-ahead log at every commit, so they survive a power cut too."""
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 10}
    else:
        kwargs["pool_pre_ping"] = True
    engine = sa.create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", functools.partial(
            _sqlite_pragmas, synchronous=sqlite_synchronous))  # fmt: skip
    return engine


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"], app.config["SQL_ECHO"],
                         app.config.get("SQLITE_SYNCHRONOUS", "NORMAL"))  # fmt: skip
    app.extensions["pb.engine"] = engine
    app.extensions["pb.sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)

    @app.teardown_appcontext
    def _close_session(exc: BaseException | None) -> None:
        session: Session | None = g.pop("pb_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()


def get_engine(app: Flask | None = None) -> Engine:
    return (app or current_app).extensions["pb.engine"]  # type: ignore[no-any-return]


def get_session() -> Session:
    """The session of the current request or CLI command (created on first use)."""
    session: Session | None = g.get("pb_session")
    if session is None:
        session = current_app.extensions["pb.sessionmaker"]()
        g.pb_session = session
    return session


def rows_changed(session: Session, statement: Any) -> int:
    """Run a bulk DELETE or UPDATE and return how many rows it changed."""
    result: Any = session.execute(statement)
    return int(result.rowcount or 0)
