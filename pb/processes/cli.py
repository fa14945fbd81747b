"""What the domain packages' commands (`pb codes`, `pb count`, ...) share: finding a process
by its slug, and turning a service's refusal into a clean command-line error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import current_app

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
