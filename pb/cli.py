"""The ``pb`` command: Flask's CLI (run, routes, shell) bound to the factory, plus ours.

Flask and the app are loaded only for the commands that need them. ``pb tally FILE`` (and any
other command in :data:`LIGHT_COMMANDS`) runs from a plain click group that imports neither
Flask nor the app; every other invocation (``pb run``, ``pb db upgrade``, ``pb --help``, ...)
goes through the Flask group that :func:`app_group` builds.

To add a command, add one line:

- to :data:`LIGHT_COMMANDS` if it needs no app (it must not import Flask or pb's web modules);
- to :data:`APP_COMMANDS` if it needs the app: a click command or group whose commands use
  :func:`flask.cli.with_appcontext` (or :func:`with_app` from here) to get an app context.

Both map the command's name to ``"module:attribute"``; the module is imported only when the
command runs (or when ``pb --help`` lists it).
"""

from __future__ import annotations

import functools
import getpass
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, NoReturn, TypeVar, overload

import click

if TYPE_CHECKING:
    from flask import Flask
    from flask.cli import FlaskGroup

# name -> "module:attribute": commands that run without Flask or the app.
LIGHT_COMMANDS: dict[str, str] = {
    "tally": "pb.tally.cli:tally_command",
}

# name -> "module:attribute": commands that run with the app (Flask's ScriptInfo).
APP_COMMANDS: dict[str, str] = {
    "audit": "pb.operations:audit_command",
    "backup": "pb.operations:backup_command",
    "restore": "pb.operations:restore_command",
    "codes": "pb.voting.cli:codes_command",
    "officials": "pb.processes.cli:officials_command",
    "count": "pb.results.cli:count_command",
    "publish": "pb.results.cli:publish_command",
    "export-pb": "pb.results.cli:export_pb_command",
    "import-pb": "pb.results.cli:import_pb_command",
    "privacy": "pb.results.privacy:privacy_command",
}

F = TypeVar("F", bound=Callable[..., Any])


def _load(target: str) -> click.Command:
    module, _, attribute = target.partition(":")
    command = getattr(importlib.import_module(module), attribute)
    assert isinstance(command, click.Command), target
    return command


def with_app(f: F) -> F:
    """:func:`flask.cli.with_appcontext`, with Flask imported only when the command runs."""

    @click.pass_context
    @functools.wraps(f)
    def run(ctx: click.Context, /, *args: Any, **kwargs: Any) -> Any:
        from flask.cli import with_appcontext

        return ctx.invoke(with_appcontext(f), *args, **kwargs)

    return run  # type: ignore[return-value]


def _factory() -> Flask:
    from pb import create_app
    from pb.config import ConfigError

    try:
        return create_app()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


# ---------------------------------------------------------------- commands that need the app


@click.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_app
def db_upgrade(revision: str) -> None:
    """Bring the schema up to date."""
    from pb.db import get_engine
    from pb.migrate import upgrade

    upgrade(get_engine(), revision)
    click.echo("The database schema is up to date.")


@db.command("current")
@with_app
def db_current() -> None:
    """Show the schema revision."""
    from pb.db import get_engine
    from pb.migrate import current

    click.echo(current(get_engine()) or "(empty database)")


@click.group()
def mail() -> None:
    """Outgoing e-mail."""


@mail.command("send")
@click.option("--limit", default=500, show_default=True, help="Most messages in one run.")
@with_app
def mail_send(limit: int) -> None:
    """Send due e-mail from the outbox (run it from a timer, e.g. every minute)."""
    from pb.mail.services import send_pending

    report = send_pending(limit=limit)
    click.echo(f"sent {report.sent}, will retry {report.retried}, gave up {report.failed}")


@click.group()
def users() -> None:
    """Accounts."""


@users.command("create-admin")
@click.option("--email", required=True)
@click.option("--name", "display_name", default="Administrator", show_default=True)
@click.option("--password", envvar="PB_ADMIN_PASSWORD", help="Asked for when not given.")
@with_app
def create_admin(email: str, display_name: str, password: str | None) -> None:
    """Create an admin account, or make an existing account admin."""
    from pb.accounts import services
    from pb.accounts.forms import PASSWORD_MIN
    from pb.accounts.models import Role
    from pb.db import get_session

    session = get_session()
    user = services.find_by_email(session, email)
    if user is not None:
        services.set_role(session, user, Role.ADMIN)
        session.commit()
        click.echo(f"{user.email} is now an admin.")
        return
    if password is None:
        if not sys.stdin.isatty():
            raise click.UsageError("give --password or PB_ADMIN_PASSWORD (no terminal to ask)")
        password = getpass.getpass("Password: ")
    if len(password) < PASSWORD_MIN:
        raise click.UsageError(f"the password needs at least {PASSWORD_MIN} characters")
    from pb.errors import DomainError

    try:
        user = services.register(
            session, email=email, password=password, display_name=display_name, role=Role.ADMIN
        )
    except DomainError as exc:  # e.g. a name of spaces: say why, no traceback
        session.rollback()
        raise click.UsageError(str(exc)) from None
    session.commit()
    click.echo(f"Admin {user.email} created.")


@click.command("init-secrets")
@click.option("--instance", type=click.Path(file_okay=False), default=None)
def init_secrets(instance: str | None) -> None:
    """Write a random secret key and voting-code pepper into instance/ if missing."""
    from pathlib import Path

    from pb import ROOT
    from pb.config import init_secrets as write

    path = Path(instance or os.environ.get("PB_INSTANCE_PATH") or ROOT / "instance")
    written = write(path)
    click.echo(f"Wrote {', '.join(written)} in {path}." if written else "Secrets already exist.")


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--no-serve", is_flag=True, help="Load the demo data and exit.")
def demo(host: str, port: int, no_serve: bool) -> None:
    """Load a realistic Lund demo into the embedded database and serve it."""
    from werkzeug.serving import run_simple

    from pb import create_app
    from pb.demo import load_demo

    base_url = os.environ.get("PB_BASE_URL") or f"http://{host}:{port}"  # links follow --port
    app = create_app({"ENV": os.environ.get("PB_ENV", "development"), "BASE_URL": base_url})
    with app.app_context():
        accounts = load_demo()
    click.echo("Demo data loaded. Log in with:")
    for role, email, password in accounts:
        click.echo(f"  {role:<12} {email:<28} password: {password}")
    if no_serve:
        return
    click.echo(f"Serving on http://{host}:{port}/  (Ctrl+C stops)")
    # Not app.run(): Flask ignores it inside its own CLI.
    run_simple(host, port, app, use_reloader=False, use_debugger=False, threaded=True)


_LOCAL_APP_COMMANDS: tuple[click.Command, ...] = (db, mail, users, init_secrets, demo)


@functools.cache
def app_group() -> FlaskGroup:
    """The whole ``pb`` command: Flask's group (run, routes, shell; ``--app``, ``--env-file``,
    ``--debug``, ``--version``) bound to the factory, with every command of ours."""
    from flask.cli import FlaskGroup

    group = FlaskGroup(name="pb", create_app=_factory, help="pb: participatory budgeting.")
    for command in _LOCAL_APP_COMMANDS:
        group.add_command(command)
    for name, target in {**APP_COMMANDS, **LIGHT_COMMANDS}.items():
        group.add_command(_load(target), name)
    return group


class _Pb(click.Group):
    """``pb``: a :data:`LIGHT_COMMANDS` name as the first argument runs that command from this
    plain group (no Flask); anything else is handed to :func:`app_group`."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = LIGHT_COMMANDS.get(cmd_name)
        return _load(target) if target else None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(LIGHT_COMMANDS)

    @overload
    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: Literal[True] = True,
        **extra: Any,
    ) -> NoReturn: ...

    @overload
    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = ...,
        **extra: Any,
    ) -> Any: ...

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        light = bool(argv) and argv[0] in LIGHT_COMMANDS
        if light and "numpy" not in sys.modules:
            # One BLAS thread: pb.tally makes no matrix products, and OpenBLAS's idle worker
            # threads, started when numpy is imported, bill about 0.05-0.1 s of CPU to a
            # short count. An explicit setting wins.
            os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        group: click.Group = self if light else app_group()
        return click.Group.main(group, argv, prog_name, complete_var, standalone_mode, **extra)


main = _Pb(name="pb", help="pb: participatory budgeting.")
