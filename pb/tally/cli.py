"""``pb tally FILE.pb``: count a pabulib file from the command line.

Uses only click and pb.tally. The Flask ``pb`` command group registers :data:`tally_command`;
``python -m pb.tally`` runs the same command on its own.
"""

from __future__ import annotations

import atexit
import gc
import json
import sys
import time
from decimal import Decimal
from typing import Any

import click

from .model import Outcome
from .pabulib import PabulibError, load
from .rules import PABULIB_RULES, RULES, TIE_BREAKS, TallyError, rule_for, seed_from_text, tally


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def outcome_as_json(
    outcome: Outcome, lang: str = "en", seed_text: str | None = None
) -> dict[str, Any]:
    """The ``--json`` object: rule, tie_break, seed (the integer seed), seed_text (the published
    text it came from, or null), budget, spent, selected (in order of selection) and one entry
    per project with its explanation sentence and data."""
    return {
        "rule": outcome.rule,
        "tie_break": outcome.tie_break,
        "seed": outcome.seed,
        "seed_text": seed_text,
        "budget": _number(outcome.budget),
        "spent": _number(outcome.spent),
        "selected": list(outcome.selected),
        "projects": [
            {
                "id": result.id,
                "name": result.name,
                "cost": _number(result.cost),
                "score": result.score,
                "selected": result.selected,
                "explanation": result.explanation.text(lang),
                "explanation_data": result.explanation.as_dict(),
            }
            for result in outcome.projects
        ],
        "details": json.loads(json.dumps(outcome.details, default=str)),
    }


def _table(outcome: Outcome, lang: str) -> str:
    rows = sorted(outcome.projects, key=lambda r: r.rank)
    id_w = max([len("project"), *(len(r.id) for r in rows)])
    cost_w = max([len("cost"), *(len(f"{r.cost:,}") for r in rows)])
    score_w = max([len("score"), *(len(f"{r.score:,}") for r in rows)])
    lines = [
        f"{'project':<{id_w}}  {'cost':>{cost_w}}  {'score':>{score_w}}  sel  explanation",
        f"{'-' * id_w}  {'-' * cost_w}  {'-' * score_w}  ---  {'-' * 11}",
    ]
    for r in rows:
        mark = "yes" if r.selected else "no"
        lines.append(
            f"{r.id:<{id_w}}  {r.cost:>{cost_w},}  {r.score:>{score_w},}  {mark:<3}  "
            f"{r.explanation.text(lang)}"
        )
    return "\n".join(lines)


@click.command("tally")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--rule",
    default=None,
    help="Counting rule: "
    + ", ".join(RULES)
    + ". Default: the file's META rule when it is one of ours, else greedy.",
)
@click.option(
    "--tie-break",
    "tie_break",
    default="lexicographic",
    show_default=True,
    help="Tie-break: "
    + ", ".join(TIE_BREAKS)
    + ". lexicographic: the smaller project id as text wins ('10' before '2'; pabutools' "
    "default). project-number: ids of the digits 0-9 only compare as numbers, the lower wins "
    "('2' before '10'); other ids come after them, as text. cheaper-first: the cheaper "
    "project, then the smaller id. lottery: an order drawn from --seed.",
)
@click.option(
    "--seed",
    "seed_text",
    default=None,
    metavar="TEXT",
    help="The published seed of the lottery tie-break, as text. It becomes the lottery's "
    "number as the first 8 bytes of the SHA-256 of its UTF-8 bytes (pb.tally.seed_from_text); "
    "always so, even when it looks like a number ('42' is hashed too).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--lang",
    type=click.Choice(["en", "sv"]),
    default="en",
    show_default=True,
    help="Language of the explanations.",
)
def tally_command(
    file: str, rule: str | None, tie_break: str, seed_text: str | None, as_json: bool, lang: str
) -> None:
    """Count the pabulib file FILE and explain the outcome for every project."""
    # At exit, freeze what is left so the interpreter's last garbage collection need not walk
    # numpy's and the count's objects one by one: about 0.01 s of a short count's 0.15 s.
    # Exit handlers, module cleanup and flushing still run; only cycles that are garbage by
    # then are left to the operating system, which reclaims the memory anyway.
    atexit.unregister(gc.freeze)  # once, however often the command runs in one process
    atexit.register(gc.freeze)
    show = sys.stderr.isatty()
    started = time.monotonic()

    def note(message: str) -> None:
        if show:
            click.echo(f"\r\033[K{message}", err=True, nl=False)

    def progress(step: int, spent: int) -> None:
        note(f"equal shares: add1 step {step} ({time.monotonic() - started:.1f} s)")

    seed = seed_from_text(seed_text) if seed_text is not None else None
    try:
        note(f"reading {file} ...")
        election = load(file)
        chosen = rule or rule_for(election)
        note(f"counting {len(election.ballots):,} ballots with {chosen} ...")
        outcome = tally(election, chosen, tie_break, seed=seed, progress=progress)
    except (PabulibError, TallyError) as exc:
        note("")
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    note("")
    if show:
        click.echo("\r\033[K", err=True, nl=False)
    if as_json:
        click.echo(
            json.dumps(outcome_as_json(outcome, lang, seed_text), ensure_ascii=False, indent=1)
        )
        return
    meta_rule = election.meta_value("rule") or "-"
    click.echo(f"file:      {file}")
    click.echo(f"rule:      {outcome.rule} (META rule: {meta_rule})")
    tie = outcome.tie_break
    if outcome.seed is not None:
        tie += f" (seed {seed_text}, as a number {outcome.seed})"
    click.echo(f"tie-break: {tie}")
    click.echo(f"budget:    {outcome.budget:,}   spent: {outcome.spent:,}")
    click.echo(f"ballots:   {len(election.ballots):,}   projects: {len(election.projects)}")
    for key, value in outcome.details.items():
        if key != "start_per_voter_exact":
            click.echo(f"{key}: {value}")
    click.echo(f"selected ({len(outcome.selected)}): {', '.join(outcome.selected)}")
    click.echo("")
    click.echo(_table(outcome, lang))


__all__ = ["PABULIB_RULES", "outcome_as_json", "tally_command"]
