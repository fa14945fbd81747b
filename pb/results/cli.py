"""``pb count``, ``pb publish``, ``pb export-pb`` and ``pb import-pb``.

``pb count SLUG --json`` prints, for each election, what ``pb tally --json`` prints for it:
the object itself for a process without areas, else one object per area slug.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from pb.db import get_session, utcnow
from pb.processes.cli import process_named, refusals_as_errors
from pb.results import services


@click.command("count")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="Print the pb tally --json objects.")
@with_appcontext
def count_command(slug: str, as_json: bool) -> None:
    """Count the process SLUG by its frozen rules (a preview; nothing is published)."""
    with refusals_as_errors():
        session = get_session()
        process = process_named(slug)
        counted = services.count(session, process, utcnow())
        session.commit()  # the held ballots mixed before counting
    if as_json:
        click.echo(json.dumps(counted.as_tally_json(), ensure_ascii=False, indent=1))
        return
    seed = f" (seed {counted.seed_text})" if counted.seed_text else ""
    click.echo(f"rule: {counted.rule}   tie-break: {counted.tie_break}{seed}")
    click.echo(f"ballots: {counted.ballots:,}")
    for e in counted.elections:
        head = e.name or slug
        click.echo(f"\n{head}: budget {e.outcome.budget:,}, spent {e.outcome.spent:,}")
        for r in sorted(e.outcome.projects, key=lambda r: r.rank):
            mark = "FUNDED" if r.selected else "      "
            click.echo(
                f"  {mark} {r.id:<8} {r.score:>8,} {r.cost:>12,}  {r.explanation.text('en')}"
            )


@click.command("publish")
@click.argument("slug")
@with_appcontext
def publish_command(slug: str) -> None:
    """Count the process SLUG and publish the result (once; it cannot change afterwards)."""
    with refusals_as_errors():
        session = get_session()
        snap = services.publish(session, process_named(slug), None, utcnow())
        session.commit()
        for key, hashes in snap.data["files"].items():
            click.echo(f"{key or slug}.pb  sha256 {hashes['pb']}")
    click.echo(f"Published the results of {slug}.")


@click.command("export-pb")
@click.argument("slug")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--area", default="", help="The area (slug) when the process has areas.")
@with_appcontext
def export_pb_command(slug: str, out: Path, area: str) -> None:
    """Write the published anonymous ballots of SLUG as a pabulib file (the page's download)."""
    with refusals_as_errors():
        session = get_session()
        process = process_named(slug)
        if process.areas and not area:
            names = ", ".join(a.slug for a in process.areas)
            raise click.ClickException(f"this process has areas; choose one with --area ({names})")
        row = services.published_file(session, process, area, "pb")
        out.write_text(row.content, encoding="utf-8", newline="")
    click.echo(f"{out}  sha256 {row.sha256}")


@click.command("import-pb")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--slug", default=None, help="The new process's slug (default: from the file name).")
@with_appcontext
def import_pb_command(file: Path, slug: str | None) -> None:
    """Create a closed, count-ready process from the pabulib FILE; print its slug."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{file}: not valid UTF-8") from exc
    with refusals_as_errors():
        session = get_session()
        process = services.import_pabulib(session, text, source=str(file), slug=slug, now=utcnow())
        session.commit()
        click.echo(process.slug)
    sys.stdout.flush()


results_commands = [count_command, publish_command, export_pb_command, import_pb_command]
