"""Operators' commands: ``pb audit verify`` (the audit log's hash chain, docs/audit.md),
``pb backup FILE`` and ``pb restore FILE`` (docs/operations.md)."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import click
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pb import audit
from pb.cli import with_app

# -- the command -------------------------------------------------------------------------


@click.group("audit")
def audit_command() -> None:
    """The audit log."""


@audit_command.command("verify")
@click.option("--head", "heads", multiple=True, metavar="SHA256",
              help="A head noted earlier (from a process page or a published result); "
                   "it must still be the hash of an intact entry. May be repeated.")  # fmt: skip
@with_app
def verify_command(heads: tuple[str, ...]) -> None:
    """Recompute the audit log's hash chain and say where it breaks (exit status 1)."""
    from pb.db import get_session

    verdict = audit.verify(get_session(), tuple(h.strip().lower() for h in heads))
    seq, sha = verdict.head
    if verdict.ok:
        click.echo(f"The audit log is intact: {verdict.entries} entries; head: entry {seq}, "
                   f"SHA-256 {sha}.")  # fmt: skip
        return
    click.echo(f"The audit log is BROKEN ({verdict.entries} entries read):", err=True)
    for brk in verdict.breaks:
        click.echo(f"  {brk}", err=True)
    raise SystemExit(1)


# -- backups -----------------------------------------------------------------------------

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"  # pg_dump's custom format


class BackupError(click.ClickException):
    pass


def _sqlite_path(engine: Engine) -> Path:
    name = engine.url.database
    if not name or name == ":memory:":
        raise BackupError("this SQLite database is in memory: there is no file to back up")
    return Path(name)


def _libpq(engine: Engine) -> tuple[str, dict[str, str]]:
    """A libpq URI for pg_dump and pg_restore, and an environment with the password (kept
    off their command line, where any user could read it)."""
    url = engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return url.set(drivername="postgresql", password=None).render_as_string(False), env


def _major(version_text: str) -> int:
    match = re.search(r"(\d+)(?:\.\d+)*", version_text)
    if not match:
        raise BackupError(f"cannot read a version number from {version_text!r}")
    return int(match.group(1))


def _pg_tool(engine: Engine, tool: str) -> str:
    """The path of pg_dump or pg_restore, refused unless its major version is the server's."""
    exe = shutil.which(tool)
    if exe is None:
        raise BackupError(f"{tool} is not installed (Debian: apt-get install postgresql-client)")
    version = [exe, "--version"]
    out = subprocess.run(version, capture_output=True, text=True, check=True).stdout  # noqa: S603
    with engine.connect() as conn:
        server = str(conn.execute(sa.text("SHOW server_version")).scalar())
    if _major(out) != _major(server):
        raise BackupError(f"{tool} is version {_major(out)} but the server runs PostgreSQL "
                          f"{server}; use the {tool} of the server's major version")  # fmt: skip
    return exe


def backup(engine: Engine, target: Path) -> None:
    """A consistent copy of the whole database in ``target`` (written aside, then renamed),
    while the app keeps serving: SQLite's online backup API (one step, so one snapshot), or
    ``pg_dump`` in its custom format (one transaction, so one snapshot)."""
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        if engine.dialect.name == "sqlite":
            source = sqlite3.connect(_sqlite_path(engine), timeout=30)
            try:
                with closing(sqlite3.connect(partial)) as copy:
                    source.backup(copy)  # all pages in one step: one consistent snapshot
                    copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            finally:
                source.close()
        elif engine.dialect.name == "postgresql":
            uri, env = _libpq(engine)
            run = subprocess.run(  # noqa: S603 - our arguments; the URL is the operator's
                [_pg_tool(engine, "pg_dump"), "--format=custom", "--no-owner",
                 f"--file={partial}", f"--dbname={uri}"],
                env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            if run.returncode != 0:
                raise BackupError(f"pg_dump failed: {run.stderr.strip()}")
        else:
            raise BackupError(f"no backup for {engine.dialect.name} databases")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _has_data(engine: Engine) -> bool:
    tables = set(sa.inspect(engine).get_table_names())
    return bool(tables - {"alembic_version"})


def restore(engine: Engine, source: Path, overwrite: bool) -> None:
    """Bring ``source`` (made by :func:`backup` on the same engine) back as the whole
    database. Refuses a database that holds anything unless ``overwrite``."""
    with source.open("rb") as fh:
        head = fh.read(16)
    kind = "sqlite" if head == SQLITE_MAGIC else "postgresql" if head[:5] == PGDUMP_MAGIC else ""
    if not kind:
        raise BackupError(f"{source} is not a pb backup (neither SQLite nor pg_dump's format)")
    if kind != engine.dialect.name:
        raise BackupError(f"{source} is a {kind} backup; this database is "
                          f"{engine.dialect.name}")  # fmt: skip
    if _has_data(engine) and not overwrite:
        raise BackupError("the database is not empty; restoring replaces everything in it. "
                          "Stop the app, then run again with --overwrite.")  # fmt: skip
    engine.dispose()  # no pooled connection of ours keeps the old database open
    if kind == "sqlite":
        with closing(sqlite3.connect(source)) as backup_db:
            if backup_db.execute("PRAGMA integrity_check").fetchone() != ("ok",):
                raise BackupError(f"{source} fails SQLite's integrity check")
            with closing(sqlite3.connect(_sqlite_path(engine), timeout=30)) as live:
                backup_db.backup(live)  # replaces every page, in one step
                live.execute("PRAGMA journal_mode=WAL")
        return
    uri, env = _libpq(engine)
    # A session still open on the database would make the restore wait for ever: give up
    # after 30 s instead (nothing is changed: it is one transaction).
    env["PGOPTIONS"] = f"{env.get('PGOPTIONS', '')} -c lock_timeout=30000".strip()
    run = subprocess.run(  # noqa: S603 - our arguments; the URL is the operator's
        [_pg_tool(engine, "pg_restore"), "--clean", "--if-exists", "--no-owner",
         "--single-transaction", "--exit-on-error", f"--dbname={uri}", str(source)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if run.returncode != 0:
        raise BackupError(f"pg_restore failed (nothing was changed): {run.stderr.strip()}")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@with_app
def backup_command(file: Path) -> None:
    """Write a consistent copy of the database to FILE while the app keeps serving."""
    from pb.db import get_engine

    backup(get_engine(), file)
    click.echo(f"Backed up the database to {file} ({file.stat().st_size} bytes).")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--overwrite", is_flag=True,
              help="Replace a database that is not empty (stop the app first).")  # fmt: skip
@with_app
def restore_command(file: Path, overwrite: bool) -> None:
    """Bring back the database from FILE (made by pb backup), then check the audit log."""
    from sqlalchemy.orm import Session

    from pb.db import get_engine

    engine = get_engine()
    restore(engine, file, overwrite)
    click.echo(f"Restored the database from {file}.")
    with Session(engine) as session:
        verdict = audit.verify(session)
    if not verdict.ok:
        click.echo("The restored audit log is BROKEN:", err=True)
        for brk in verdict.breaks:
            click.echo(f"  {brk}", err=True)
        raise SystemExit(1)
    seq, sha = verdict.head
    click.echo(f"The audit log is intact: head entry {seq}, SHA-256 {sha}.")
