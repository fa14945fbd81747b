"""Database plumbing: the declarative base, the engine and one session per request.

The schema is built only by Alembic migrations (``pb db upgrade``), in tests too.
Services receive a session and only flush; the request (or CLI command) commits once.
"""

from __future__ import annotations

import datetime as dt
import functools
import select
import time
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy import event, exc
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


# A pooled PostgreSQL connection idle longer than this is pinged before use (seconds).
PING_AFTER_IDLE = 30.0


def _readable(dbapi_connection: Any) -> bool:
    """Whether the server has sent anything on an idle connection (no query in flight),
    which a live backend does not do unprompted: a closed socket (the server restarted,
    or the backend was terminated) or its last message. True if the socket is gone.
    ``poll``, not ``select``: a busy process may hold descriptors above ``select``'s 1024."""
    try:
        poller = select.poll()
        poller.register(dbapi_connection.fileno(), select.POLLIN)
        return bool(poller.poll(0))
    except Exception:  # closed: no socket to look at
        return True


def _used(dbapi_connection: Any, record: Any, *_proxy: Any) -> None:
    record.info["pb_idle_since"] = time.monotonic()


def _check_alive(dialect: Any, dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """The pool's checkout of a PostgreSQL connection: ping it (``SELECT 1``, a round trip)
    only if it may be dead, that is if the server has sent something on it while it sat
    in the pool (a restart or ``pg_terminate_backend`` closes the socket, which this sees
    without a round trip), or it has been idle longer than ``PING_AFTER_IDLE`` (a peer
    that vanished without closing the connection: a firewall's idle timeout, a crashed
    host). A failed ping raises ``DisconnectionError``: the pool then drops the connection
    and checks out a fresh one, as with ``pool_pre_ping``. What this does not see, and
    the ping on every checkout did: a connection used less than ``PING_AFTER_IDLE`` ago
    whose server vanished without closing it (a host that crashed and came back): its
    request fails at the first statement, and SQLAlchemy then drops the whole pool."""
    idle = time.monotonic() - record.info.get("pb_idle_since", 0.0)
    if idle < PING_AFTER_IDLE and not _readable(dbapi_connection):
        return
    try:
        dialect.do_ping(dbapi_connection)
    except Exception as error:
        raise exc.DisconnectionError(f"pooled connection found dead: {error}") from error


def make_engine(url: str, echo: bool = False, sqlite_synchronous: str = "NORMAL") -> Engine:
    """``sqlite_synchronous``: ``NORMAL`` keeps commits through a crash of pb; ``FULL``
    syncs the write-ahead log at every commit, so they survive a power cut too.

    On PostgreSQL a pooled connection is checked at checkout without a round trip, and
    pinged only when it may be dead (``_check_alive``): ``pool_pre_ping``'s ``SELECT 1`` on
    every checkout cost a round trip per request (50 to 70 µs of the app's CPU and a wake-up
    of the database's backend)."""
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 10}
    engine = sa.create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", functools.partial(
            _sqlite_pragmas, synchronous=sqlite_synchronous))  # fmt: skip
    else:
        event.listen(engine, "connect", _used)
        event.listen(engine, "checkin", _used)
        event.listen(engine, "checkout", functools.partial(_check_alive, engine.dialect))
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
