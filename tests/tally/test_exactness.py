"""The float fast path of equal shares agrees with the exact (Fraction) replay."""

from __future__ import annotations

from fractions import Fraction

import pytest

from pb.tally import Election
from pb.tally.rules import _Context

from .conftest import load_shared, needs_file


@pytest.mark.parametrize(
    "name",
    [
        "Poland_Wieliczka_2023_Green_Budget.pb",
        "Poland_Czestochowa_2024_Polnoc.pb",
        "Switzerland_Zurich_D10.pb",
        "US_Stanford_Dataset_Saratoga_NY_2022_vote_rankings.pb",
    ],
)
def test_exact_replay_of_every_round(name: str) -> None:
    needs_file(name)
    ctx = _Context(load_shared(name), "lexicographic", None)
    for k in (0, 7, 50):
        run = ctx.problem.run(Fraction(ctx.budget, ctx.n) + k * ctx.scale, verify=True)
        assert len(run.exact_rho) == len(run.rounds)
        for exact, rec in zip(run.exact_rho, run.rounds, strict=True):
            assert abs(float(exact) - rec.rho) <= 1e-9 * rec.rho


def test_exact_ties_after_partial_payments() -> None:
    """Prices equal only exactly (thirds), after rounds in which some voters paid all they had:
    the outcome follows the exact reference and the tie-break."""
    from .test_properties import reference_mes

    ballots = [["x", "a", "b"]] * 3 + [["x"]] * 2 + [["a"], ["b"], ["c"], ["c", "a"]]
    e = Election.build({"x": 35, "a": 20, "b": 20, "c": 10}, 90, ballots)
    for tie_break in ("lexicographic", "cheaper-first"):
        ctx = _Context(e, tie_break, None)
        rank = {pid: ctx.rank[j] for j, pid in enumerate(ctx.ids)}
        for k in range(0, 40):
            start = Fraction(ctx.budget, ctx.n) + k * ctx.scale
            got = [ctx.ids[j] for j in ctx.problem.run(start).funded]
            assert got == reference_mes(e, start, rank), (tie_break, k)
