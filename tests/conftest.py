"""Shared fixtures: a real database per test run (SQLite file, or a fresh PostgreSQL
database when PB_TEST_DATABASE_URL is set), built by the real migrations, emptied after
every test; the app, its test client and CLI runner; users and processes."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

PG_URL = os.environ.get("PB_TEST_DATABASE_URL")
TEST_KEY = "test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from pb.db import make_engine
    from pb.migrate import upgrade

    if PG_URL:
        name = f"pb_test_{_worker()}_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "pb-test.sqlite3")
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    if PG_URL:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def empty_postgres(prefix: str = "pb_tmp") -> Iterator[str]:
    """The URL of a new, empty database on PB_TEST_DATABASE_URL's server, dropped after."""
    assert PG_URL, "PB_TEST_DATABASE_URL is not set"
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=[
    "sqlite",
    pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.skipif(
        not PG_URL, reason="PB_TEST_DATABASE_URL is not set: no PostgreSQL to test on")]),
])  # fmt: skip
def migration_engine(request: Any, tmp_path: Any) -> Iterator[sa.Engine]:
    """An empty database for a migration test, once on SQLite (a file) and once on a fresh
    PostgreSQL database (dropped after), with pb's own engine settings."""
    from pb.db import make_engine

    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = "sqlite:///" + str(tmp_path / "migration.sqlite3")
        else:
            url = stack.enter_context(empty_postgres("pb_mig"))
        engine = make_engine(url)
        stack.callback(engine.dispose)
        yield engine


def _empty_all_tables(engine: sa.Engine) -> None:
    import pb.models  # noqa: F401
    from pb.db import Base

    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(sa.text(f"DELETE FROM {name}"))


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict[str, Any]:
    return {
        "ENV": "test",
        "SECRET_KEY": TEST_KEY,
        "VOTING_CODE_PEPPER": "test-pepper-0123456789abcdefghijklmnopqrstuvwxyz",
        "DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": False,
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "MAIL_PORT": 1,  # no mail unless a test starts a server
        # Cheap hashes keep the suite fast; production uses the defaults (64 MiB, t=3).
        "ARGON2_MEMORY_KIB": 1024,
        "ARGON2_TIME_COST": 1,
    }


@pytest.fixture
def make_app(
    app_config: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    from pb import create_app
    from pb.db import get_engine

    monkeypatch.setenv("PB_INSTANCE_PATH", str(tmp_path / "instance"))
    made = []

    def factory(**overrides: Any) -> Any:
        application = create_app({**app_config, **overrides})
        made.append(application)
        return application

    yield factory
    for application in made:
        engine = get_engine(application)
        _empty_all_tables(engine)
        engine.dispose()


@pytest.fixture
def app(make_app: Any) -> Any:
    return make_app()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def runner(app: Any) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def db(app: Any) -> Iterator[Any]:
    """A session of its own for arranging data and checking results. It holds no app context
    open, so every request in the test gets a fresh context (g, locale, session)."""
    from sqlalchemy.orm import Session

    from pb.db import get_engine

    session = Session(get_engine(app), expire_on_commit=False)
    yield session
    session.close()


def create_users(app: Any) -> dict[str, Any]:
    """One account per role (plus a second official without a process), committed."""
    from pb.accounts import services
    from pb.accounts.models import Role
    from pb.db import get_session

    out = {}
    with app.app_context():
        session = get_session()
        for key, role in (("participant", Role.PARTICIPANT), ("official", Role.OFFICIAL),
                          ("other_official", Role.OFFICIAL), ("admin", Role.ADMIN),
                          ("participant2", Role.PARTICIPANT)):  # fmt: skip
            user = services.register(
                session, email=f"{key}@example.org", password=f"password-{key}",
                display_name=key.title(), role=role,
            )  # fmt: skip
            out[key] = user
        session.commit()
    return out


@pytest.fixture
def users(app: Any) -> dict[str, Any]:
    return create_users(app)


def login(client: Any, key: str) -> Any:
    response = client.post(
        "/account/login", data={"email": f"{key}@example.org", "password": f"password-{key}"}
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return response


def process_changes(**fields: Any) -> Any:
    """A complete, valid process; phases around now with the given one running."""
    from pb.processes.models import PhaseKind
    from pb.processes.services import ProcessChanges

    running = PhaseKind(fields.pop("running", "proposals"))
    now = dt.datetime.now(dt.UTC)
    phases = {}
    start = now - dt.timedelta(days=10 + 30 * running.order)
    for kind in PhaseKind:
        phases[kind] = (start, start + dt.timedelta(days=30))
        start += dt.timedelta(days=30)
    base = dict(
        slug="parker-2027", published=True, title_sv="Parker 2027", title_en="Parks 2027",
        purpose_sv="Vi bygger bättre parker.", purpose_en="We build better parks.",
        question_sv="Vad vill du ha?", question_en="What do you want?",
        influence_level="co-creation", decision_body_sv="Tekniska nämnden",
        decision_body_en="The Technical Committee", decision_date=dt.date(2027, 6, 12),
        decision_text_sv="Nämnden genomför vinnarna.", decision_text_en="The committee builds the winners.",
        budget=5_000_000, min_age=12, connections=["lives", "studies", "works", "business"],
        other_connection_sv="", other_connection_en="", area_restricted=False,
        code_channels=["letter", "school"], ballot_type="approval-budget", max_projects=None,
        min_projects=None, min_budget_share_pct=None, points_total=None,
        max_points_per_project=None, counting_rule="greedy", tie_break="lexicographic",
        lottery_seed=None,
    )  # fmt: skip
    areas = fields.pop("areas", [("Norra Fäladen", 2_500_000), ("Klostergården", 2_500_000)])
    categories = fields.pop("categories", [("Parker", "Parks"), ("Gator", "Streets")])
    base.update(fields)
    return ProcessChanges(fields=base, areas=areas, categories=categories, phases=phases)


def process_factory(app: Any, users: dict[str, Any]) -> Any:
    """Make a process (``process_changes``), with the ``official`` account its official."""
    from pb.db import get_session
    from pb.processes import services

    def factory(**fields: Any) -> Any:
        with app.app_context():
            session = get_session()
            process = services.create_process(session, process_changes(**fields), users["admin"])
            services.assign_official(session, process, users["official"], users["admin"])
            session.commit()
            return process

    return factory


@pytest.fixture
def make_process(app: Any, users: dict[str, Any]) -> Any:
    return process_factory(app, users)


def csrf_token(html: str) -> str:
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert m, "no CSRF token in page"
    return m.group(1)


class SMTPRecorder:
    """A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.raw: list[bytes] = []  # as received, before parsing
        self.refuse = False
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        import email
        import email.policy

        if self.refuse:
            return "451 Try again later"
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append(msg)
        self.raw.append(envelope.original_content)
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[SMTPRecorder]:
    import socket

    from aiosmtpd.controller import Controller

    recorder = SMTPRecorder()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        recorder.port = s.getsockname()[1]
    controller = Controller(recorder, hostname="127.0.0.1", port=recorder.port)
    controller.start()
    try:
        yield recorder
    finally:
        controller.stop()
