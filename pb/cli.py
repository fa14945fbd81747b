"""The ``pb`` command: Flask's CLI (run, routes, shell) bound to the factory, plus ours."""

from __future__ import annotations

import getpass
import os
import sys

import click
from flask.cli import FlaskGroup, with_appcontext
from werkzeug.serving import run_simple

from pb import create_app
from pb.config import ConfigError
from pb.results.cli import results_commands
from pb.tally.cli import tally_command
from pb.voting.cli import codes_command


def _factory() -> object:
    try:
        return create_app()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group(cls=FlaskGroup, create_app=_factory, help="pb: participatory budgeting.")
def main() -> None:
    pass


@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Bring the schema up to date."""
    from pb.db import get_engine
    from pb.migrate import upgrade

    upgrade(get_engine(), revision)
    click.echo("The database schema is up to date.")


@db.command("current")
@with_appcontext
def db_current() -> None:
    """Show the schema revision."""
    from pb.db import get_engine
    from pb.migrate import current

    click.echo(current(get_engine()) or "(empty database)")


@main.group()
def mail() -> None:
    """Outgoing e-mail."""


@mail.command("send")
@click.option("--limit", default=500, show_default=True, help="Most messages in one run.")
@with_appcontext
def mail_send(limit: int) -> None:
    """Send due e-mail from the outbox (run it from a timer, e.g. every minute)."""
    from pb.mail.services import send_pending

    report = send_pending(limit=limit)
    click.echo(f"sent {report.sent}, will retry {report.retried}, gave up {report.failed}")


@main.group()
def users() -> None:
    """Accounts."""


@users.command("create-admin")
@click.option("--email", required=True)
@click.option("--name", "display_name", default="Administrator", show_default=True)
@click.option("--password", envvar="PB_ADMIN_PASSWORD", help="Asked for when not given.")
@with_appcontext
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
    user = services.register(
        session, email=email, password=password, display_name=display_name, role=Role.ADMIN
    )
    session.commit()
    click.echo(f"Admin {user.email} created.")


@main.command("init-secrets", with_appcontext=False)
@click.option("--instance", type=click.Path(file_okay=False), default=None)
def init_secrets(instance: str | None) -> None:
    """Write a random secret key and voting-code pepper into instance/ if missing."""
    from pathlib import Path

    from pb import ROOT
    from pb.config import init_secrets as write

    path = Path(instance or os.environ.get("PB_INSTANCE_PATH") or ROOT / "instance")
    written = write(path)
    click.echo(f"Wrote {', '.join(written)} in {path}." if written else "Secrets already exist.")


@main.command("demo", with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--no-serve", is_flag=True, help="Load the demo data and exit.")
def demo(host: str, port: int, no_serve: bool) -> None:
    """Load a realistic Lund demo into the embedded database and serve it."""
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


main.add_command(codes_command, "codes")
for _command in results_commands:  # pb count, publish, export-pb, import-pb
    main.add_command(_command)

# `pb tally` needs no app: it reads a .pb file and counts it with the pure library.
main.add_command(tally_command, "tally")
