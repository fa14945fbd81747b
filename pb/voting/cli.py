"""``pb codes``: issue voting codes (CSV or PDF), revoke them, list batches, mix held ballots.

Plain codes exist only in the file written by ``issue``: they are written chunk by chunk as
they are stored (bounded memory) and never kept anywhere else. The audit log records the
count, channel and purpose of each batch.
"""

from __future__ import annotations

import csv
import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from pb.db import get_session, utcnow
from pb.errors import DomainError
from pb.processes import services as processes
from pb.processes.models import CodeChannel, Process
from pb.voting import services
from pb.voting.models import CodeBatch


def ballot_link(base_url: str, slug: str, code: str) -> str:
    """The link a QR code carries: the code in the URL fragment, which browsers never send
    to the server (so it stays out of access logs); the ballot page's script fills it in."""
    return f"{base_url.rstrip('/')}/p/{slug}/vote#{code}"


@contextmanager
def _domain() -> Iterator[None]:
    """Run with a request context (messages are translated on demand) and turn a service's
    refusal into a clean command-line error."""
    with current_app.test_request_context("/?lang=en"):
        try:
            yield
        except DomainError as exc:
            get_session().rollback()
            raise click.ClickException(str(exc)) from exc


def _process(slug: str) -> Process:
    process = processes.get_by_slug(get_session(), slug)
    if process is None:
        raise click.ClickException(f"no process {slug!r}")
    return process


@click.group("codes")
def codes_command() -> None:
    """Voting codes: issue, revoke, list batches; mix held ballots."""


@codes_command.command("issue")
@click.argument("slug")
@click.option("--count", type=click.IntRange(1, services.MAX_ISSUE), required=True)
@click.option("--area", default=None, help="Bind the codes to this district (slug or name).")
@click.option(
    "--channel",
    type=click.Choice([c.value for c in CodeChannel]),
    default=CodeChannel.SCHOOL.value,
    show_default=True,
)
@click.option("--purpose", default="", help="What the batch is for, e.g. 'Klass 7B, Dalby skola'.")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "pdf"]), default="csv", show_default=True
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@with_appcontext
def issue(
    slug: str, count: int, area: str | None, channel: str, purpose: str, fmt: str, out: Path
) -> None:
    """Issue COUNT codes for the process SLUG into a CSV (code, link) or a PDF of cards."""
    printing: Any = None
    if fmt == "pdf":
        try:
            # Written on another branch; until it is merged, PDF output is refused.
            printing = importlib.import_module("pb.voting.printing")
        except ImportError as exc:
            raise click.ClickException(
                "PDF printing is not available yet; use --format csv."
            ) from exc
    base = str(current_app.config.get("BASE_URL") or "http://127.0.0.1:5000")
    with _domain():
        session = get_session()
        process = _process(slug)
        batch, chunks = services.issue_codes_iter(
            session, process, count=count, channel=CodeChannel(channel),
            purpose=purpose or f"{channel} ({count})", actor=None, area=area, now=utcnow(),
        )  # fmt: skip
        tmp = out.with_name(out.name + ".part")
        try:
            if fmt == "csv":
                bar: Any = click.progressbar(length=count, label="Issuing codes", file=sys.stderr)
                with tmp.open("w", newline="", encoding="utf-8") as fh, bar:
                    writer = csv.writer(fh)
                    writer.writerow(["code", "link"])
                    for chunk in chunks:
                        writer.writerows([c, ballot_link(base, slug, c)] for c in chunk)
                        bar.update(len(chunk))
            else:
                plain = [c for chunk in chunks for c in chunk]
                printing.write_cards(tmp, process, [(c, ballot_link(base, slug, c)) for c in plain])
            session.commit()
        except BaseException:
            session.rollback()
            tmp.unlink(missing_ok=True)
            raise
        tmp.replace(out)
    click.echo(f"Issued {count} codes in batch {batch.id} into {out}.")


@codes_command.command("revoke")
@click.argument("slug")
@click.option("--code", "code_texts", multiple=True, help="A code to revoke (repeatable).")
@click.option("--batch", "batch_id", type=int, default=None, help="Revoke a whole batch.")
@with_appcontext
def revoke(slug: str, code_texts: tuple[str, ...], batch_id: int | None) -> None:
    """Revoke unused codes, one by one (--code) or by batch (--batch)."""
    if not code_texts and batch_id is None:
        raise click.UsageError("give --code or --batch")
    with _domain():
        session = get_session()
        process = _process(slug)
        n = 0
        for text in code_texts:
            services.revoke_code(session, process, text, None)
            n += 1
        if batch_id is not None:
            n += services.revoke_batch(session, process, batch_id, None)
        session.commit()
    click.echo(f"Revoked {n} codes.")


@codes_command.command("batches")
@click.argument("slug")
@with_appcontext
def batches(slug: str) -> None:
    """List the batches of codes issued for a process (never the codes)."""
    with _domain():
        session = get_session()
        process = _process(slug)
        rows = session.scalars(
            sa.select(CodeBatch).where(CodeBatch.process_id == process.id).order_by(CodeBatch.id)
        )
        for b in rows:
            state = " (revoked)" if b.revoked else ""
            click.echo(
                f"{b.id}\t{b.issued_at:%Y-%m-%d}\t{b.channel.value}\t{b.count}\t{b.purpose}{state}"
            )


@codes_command.command("mix")
@click.argument("slug")
@with_appcontext
def mix(slug: str) -> None:
    """Move held ballots into the count: a full batch during voting, all once it closed."""
    with _domain():
        session = get_session()
        process = _process(slug)
        n = services.mix_due(session, process, utcnow())
        session.commit()
    click.echo(f"Moved {n} ballots into the count.")
