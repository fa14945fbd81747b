"""What the domain packages' commands (`pb codes`, `pb count`, ...) share: finding a process
by its slug, and turning a service's refusal into a clean command-line error; and
``pb officials`` (list, add, remove the officials of a process)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import with_appcontext

from pb.db import get_session
from pb.errors import DomainError
from pb.processes import services
from pb.processes.models import Process


@contextmanager
def refusals_as_errors(*also: type[Exception]) -> Iterator[None]:
    """Run with a request context (messages are translated on demand, in English) and turn a
    service's refusal (a ``DomainError``, or one of ``also``) into a ``ClickException``,
    rolling the session back."""
    refused: tuple[type[Exception], ...] = (DomainError, *also)
    with current_app.test_request_context("/?lang=en"):
        try:
            yield
        except refused as exc:
            get_session().rollback()
            raise click.ClickException(str(exc)) from exc


def process_named(slug: str) -> Process:
    """The process with this slug (published or not: the command line is the operator's)."""
    process = services.get_by_slug(get_session(), slug)
    if process is None:
        raise click.ClickException(f"no process {slug!r}")
    return process


@click.group("officials")
def officials_command() -> None:
    """Officials of a process: list, add, remove (each change audited)."""


@officials_command.command("list")
@click.argument("slug")
@with_appcontext
def officials_list(slug: str) -> None:
    """The officials of a process: e-mail address and name, one a line."""
    users = services.officials_of(get_session(), process_named(slug))
    for user in users:
        click.echo(f"{user.email}\t{user.display_name}")
    if not users:
        click.echo(f"{slug} has no officials.", err=True)


@officials_command.command("add")
@click.argument("slug")
@click.argument("email")
@with_appcontext
def officials_add(slug: str, email: str) -> None:
    """Make the account with EMAIL an official of the process."""
    with refusals_as_errors():
        session = get_session()
        user = services.assign_official_by_email(session, process_named(slug), email, None)
        session.commit()
    click.echo(f"{user.email} is now an official of {slug}.")


@officials_command.command("remove")
@click.argument("slug")
@click.argument("email")
@with_appcontext
def officials_remove(slug: str, email: str) -> None:
    """Take the account with EMAIL off the process's officials. An account that is then an
    official of no process becomes a participant again (an admin stays admin)."""
    with refusals_as_errors():
        session = get_session()
        user = services.remove_official_by_email(session, process_named(slug), email, None)
        session.commit()
    click.echo(f"{user.email} is no longer an official of {slug} (role: {user.role}).")
