"""One lottery seed: a published text seed becomes the lottery's number in one way
(:func:`pb.tally.seed_from_text`), used by ``pb tally --seed TEXT`` and by the web app."""

from __future__ import annotations

import json
import random
from pathlib import Path

from click.testing import CliRunner

from pb.processes.contract import Counting
from pb.processes.models import CountingRule, TieBreak
from pb.tally import Election, dump, seed_from_text, tally, tie_break_order
from pb.tally.cli import tally_command

# `printf %s dalby-2026-ungdom | sha256sum` starts c2084a0dc2dea71b: the first 8 bytes.
DALBY = 0xC2084A0DC2DEA71B


def tied_election() -> Election:
    """Eight projects with the same cost and one vote each: the lottery decides who fits."""
    ids = [f"p{i}" for i in range(8)]
    return Election.build({pid: 10 for pid in ids}, 30, [[pid] for pid in ids])


def test_seed_is_the_first_8_bytes_of_the_sha256_of_the_utf8_text() -> None:
    assert seed_from_text("dalby-2026-ungdom") == DALBY
    # Exactly as written: a number-looking text is hashed too, nothing is trimmed.
    assert seed_from_text("42") == int("73475cb40a568e8d", 16)
    assert seed_from_text("42") != 42
    assert seed_from_text(" 42") != seed_from_text("42")
    assert seed_from_text("Dalby") != seed_from_text("dalby")
    assert 0 <= seed_from_text("å") < 2**64


def test_command_takes_the_published_text_seed(tmp_path: Path) -> None:
    election = tied_election()
    path = tmp_path / "tied.pb"
    dump(election, path)
    runner = CliRunner()
    args = [str(path), "--tie-break", "lottery", "--seed", "dalby-2026-ungdom", "--json"]
    result = runner.invoke(tally_command, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    expected = tally(election, "greedy", "lottery", seed=DALBY)
    assert data["seed"] == DALBY and data["seed_text"] == "dalby-2026-ungdom"
    assert data["selected"] == list(expected.selected)
    # The order is random.Random(the number) over the sorted ids, so anyone can redo it.
    order = sorted(project.id for project in election.projects)
    random.Random(DALBY).shuffle(order)
    assert data["selected"] == order[:3]
    table = runner.invoke(tally_command, args[:-1])
    assert f"lottery (seed dalby-2026-ungdom, as a number {DALBY})" in table.output


def test_number_looking_seed_is_hashed_as_text(tmp_path: Path) -> None:
    path = tmp_path / "tied.pb"
    dump(tied_election(), path)
    result = CliRunner().invoke(
        tally_command, [str(path), "--tie-break", "lottery", "--seed", "42", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["seed"] == seed_from_text("42") and data["seed_text"] == "42"
    assert data["selected"] == list(
        tally(tied_election(), "greedy", "lottery", seed=seed_from_text("42")).selected
    )


def test_process_counting_uses_the_same_conversion() -> None:
    counting = Counting(CountingRule.GREEDY, TieBreak.LOTTERY, "dalby-2026-ungdom")
    assert counting.seed == DALBY
    assert Counting(CountingRule.GREEDY, TieBreak.LEXICOGRAPHIC).seed is None
    election = tied_election()
    assert tie_break_order(election, "lottery", counting.seed) == tie_break_order(
        election, "lottery", seed_from_text("dalby-2026-ungdom")
    )
