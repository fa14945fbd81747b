"""``pb codes``: issue voting codes (CSV or PDF), revoke them, list batches, mix held ballots.

Plain codes exist only in the file written by ``issue``: they are written chunk by chunk as
they are stored (bounded memory) and never kept anywhere else. The audit log records the
count, channel and purpose of each batch.
"""

from __future__ import annotations

import csv
import importlib
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from pb.db import get_session, utcnow
from pb.processes.cli import process_named, refusals_as_errors
from pb.processes.models import CodeChannel, Process
from pb.voting import services
from pb.voting.models import CodeBatch


def ballot_link(base_url: str, slug: str, code: str) -> str:
    """The link a QR code carries: the code in the URL fragment, which browsers never send
    to the server (so it stays out of access logs); the ballot page's script fills it in."""
    return f"{base_url.rstrip('/')}/p/{slug}/vote#{code}"


WEB_ADDRESS_HELP = (
    "The short address printed for typing the code in without the QR code, e.g. "
    "'lund.se/rosta' (it must redirect to the ballot). Default: BASE_URL/p/SLUG/vote."
)

# What may be printed as the address to type: a host name with a dot (and a port), then a
# path, with or without http(s)://. Not "javascript:…", not text with spaces.
_WEB_ADDRESS = re.compile(r"(https?://)?[a-z0-9-]+(\.[a-z0-9-]+)+(:\d{1,5})?(/[^\s<>\"']*)?",
                          re.IGNORECASE)  # fmt: skip


def is_web_address(text: str) -> bool:
    return _WEB_ADDRESS.fullmatch(text) is not None


def _web_address_option(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if value and not is_web_address(value):
        raise click.BadParameter("give a web address such as lund.se/rosta")
    return value


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
    help="How the codes are handed out: one the process's page states, or nothing is issued.",
)
@click.option("--purpose", default="", help="What the batch is for, e.g. 'Klass 7B, Dalby skola'.")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "pdf"]), default="csv", show_default=True
)
@click.option("--language", type=click.Choice(["sv", "en"]), default="sv", show_default=True,
              help="Language of the PDF cards.")  # fmt: skip
@click.option("--web-address", default="", help=WEB_ADDRESS_HELP, callback=_web_address_option)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@with_appcontext
def issue(
    slug: str,
    count: int,
    area: str | None,
    channel: str,
    purpose: str,
    fmt: str,
    language: str,
    web_address: str,
    out: Path,
) -> None:
    """Issue COUNT codes for the process SLUG into a CSV (code, link) or a PDF of cards."""
    printing: Any = _printing() if fmt == "pdf" else None
    base = str(current_app.config.get("BASE_URL") or "http://127.0.0.1:5000")
    with refusals_as_errors(ValueError):  # the printing and people modules refuse so
        session = get_session()
        process = process_named(slug)
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
                printing.cards(
                    tmp,
                    (c for chunk in chunks for c in chunk),
                    _vote_texts(printing, process, language, base, web_address=web_address),
                    batch.purpose,
                    lambda c: ballot_link(base, slug, c),
                    language=language,
                )
            session.commit()
        except BaseException:
            session.rollback()
            tmp.unlink(missing_ok=True)
            raise
        tmp.replace(out)
    click.echo(f"Issued {count} codes in batch {batch.id} into {out}.")


def _printing() -> Any:
    try:
        # pb/voting/printing.py (fpdf2, segno) draws the letters and cards.
        return importlib.import_module("pb.voting.printing")
    except ImportError as exc:
        raise click.ClickException("PDF printing is not available yet; use --format csv.") from exc


_CONNECTIONS = {
    "sv": {"lives": "bor", "studies": "studerar", "works": "arbetar",
           "business": "driver företag"},
    "en": {"lives": "live", "studies": "study", "works": "work", "business": "run a business"},
}  # fmt: skip


def _either(words: list[str], conjunction: str) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + f" {conjunction} " + words[-1]


def default_web_address(base: str, slug: str) -> str:
    """What letters and cards print for typing the code without the QR code when no short
    address is given: the ballot's own address without the scheme."""
    return base.split("://", 1)[-1].rstrip("/") + f"/p/{slug}/vote"


def _vote_texts(
    printing: Any, process: Process, language: str, base: str, organisation: str = "",
    contact: str = "", return_address: str = "", web_address: str = "",
) -> Any:  # fmt: skip
    """What letters and cards say about this vote, in one language, from the process."""
    from zoneinfo import ZoneInfo

    from pb.processes.contract import Contract
    from pb.processes.models import PhaseKind

    contract = Contract.of(process)
    el = contract.eligibility
    words = [_CONNECTIONS[language][c.value] for c in sorted(el.connections) if c.value != "other"]
    other = process.text("other_connection", language) if any(
        c.value == "other" for c in el.connections) else ""  # fmt: skip
    if language == "sv":
        eligibility = f"Du som är minst {el.min_age} år och {_either(words, 'eller')} i kommunen"
        eligibility += f", eller: {other}." if other else "."
    else:
        eligibility = f"You may vote if you are at least {el.min_age} and "
        eligibility += f"{_either(words, 'or')} in the municipality"
        eligibility += f", or: {other}." if other else "."
    voting = process.phase(PhaseKind.VOTING)
    if voting is None:
        raise click.ClickException("this process has no voting phase")
    tz = ZoneInfo(str(current_app.config["TIMEZONE"]))
    decides = process.text("decision_text", language).split("\n\n")[0].strip()
    address = web_address or default_web_address(base, process.slug)
    return printing.Vote(
        organisation=organisation or process.text("decision_body", language),
        title=process.text("title", language), eligibility=eligibility, decides=decides,
        web_address=address, opens=voting.starts_at.astimezone(tz),
        closes=voting.ends_at.astimezone(tz), contact=contact, return_address=return_address,
    )  # fmt: skip


@codes_command.command("letters")
@click.argument("slug")
@click.option("--people", "people_file", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV of the people to write to (read, never stored).")  # fmt: skip
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The PDF; with --per-file, a name holding {part}.")  # fmt: skip
@click.option("--per-file", type=click.IntRange(1), default=None,
              help="Letters per PDF file, for bounded memory.")  # fmt: skip
@click.option("--purpose", default="Brev / letters")
@click.option("--organisation", default="", help="The sender; default: the deciding body.")
@click.option("--contact", default="", help="A line for questions, e.g. a phone number.")
@click.option("--return-address", default="")
@click.option("--web-address", default="", help=WEB_ADDRESS_HELP, callback=_web_address_option)
@with_appcontext
def letters(
    slug: str, people_file: Path, out: Path, per_file: int | None, purpose: str,
    organisation: str, contact: str, return_address: str, web_address: str,
) -> None:  # fmt: skip
    """One letter per person in the CSV, with a code bound to their district and its QR link.
    A file with bad rows issues nothing and says which lines are wrong."""
    printing = _printing()
    people_module = importlib.import_module("pb.voting.people")
    base = str(current_app.config.get("BASE_URL") or "http://127.0.0.1:5000")
    with refusals_as_errors(ValueError):  # the printing and people modules refuse so
        session = get_session()
        process = process_named(slug)
        services.check_channel(process, CodeChannel.LETTER)  # before the file is read
        try:
            people = people_module.read_people(
                people_file, areas=[a.name for a in process.areas], default_language="sv",
                unprintable=printing.unprintable,
            )  # fmt: skip
        except people_module.PeopleFileError as exc:
            raise click.ClickException(
                "nothing was issued; the people's file has problems:\n  "
                + "\n  ".join(exc.messages("en"))
            ) from exc
        votes = {
            lang: _vote_texts(printing, process, lang, base, organisation, contact,
                              return_address, web_address)
            for lang in sorted(people.languages)
        }  # fmt: skip
        issuer = services.CodeIssuer(
            session, process, channel=CodeChannel.LETTER, purpose=purpose, actor=None,
            now=utcnow(),
        )  # fmt: skip
        target = out if per_file else out.with_name(out.name + ".part")
        bar: Any = click.progressbar(length=people.count, label="Letters", file=sys.stderr)
        try:
            with bar:

                def pairs() -> Iterator[tuple[Any, str]]:
                    for person in people:
                        bar.update(1)
                        yield person, issuer.code(person.area)

                count = printing.letters(
                    str(target), pairs(), votes, lambda c: ballot_link(base, slug, c),
                    per_file=per_file,
                )  # fmt: skip
            issuer.finish()
            session.commit()
        except BaseException:
            session.rollback()
            if per_file:  # parts already written hold codes that were never stored
                for part in out.parent.glob(out.name.replace("{part}", "*")):
                    part.unlink(missing_ok=True)
            else:
                target.unlink(missing_ok=True)
            raise
        if not per_file:
            target.replace(out)
    click.echo(f"Wrote {count} letters to {out}.")


@codes_command.command("revoke")
@click.argument("slug")
@click.option("--code", "code_texts", multiple=True, help="A code to revoke (repeatable).")
@click.option("--batch", "batch_id", type=int, default=None, help="Revoke a whole batch.")
@with_appcontext
def revoke(slug: str, code_texts: tuple[str, ...], batch_id: int | None) -> None:
    """Revoke unused codes, one by one (--code) or by batch (--batch)."""
    if not code_texts and batch_id is None:
        raise click.UsageError("give --code or --batch")
    with refusals_as_errors(ValueError):  # the printing and people modules refuse so
        session = get_session()
        process = process_named(slug)
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
    with refusals_as_errors(ValueError):  # the printing and people modules refuse so
        session = get_session()
        process = process_named(slug)
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
    with refusals_as_errors(ValueError):  # the printing and people modules refuse so
        session = get_session()
        process = process_named(slug)
        n = services.mix_due(session, process, utcnow())
        session.commit()
        if n:
            services.forget_held(session.get_bind().engine)
    click.echo(f"Moved {n} ballots into the count.")
