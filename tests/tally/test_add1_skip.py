"""add1 passes over stretches of steps only where it is proved that every run in them funds
what the run at their start funds: outcomes are those of stepping one unit at a time.

Where the currency unit is tiny beside the budget (forints), add1 runs tens of thousands of
steps; these tests build look-alikes (costs and budget in small units) and compare add1 with
skipping (forced from the first step) against plain 1-unit stepping, step for step.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pb.tally import Election, Project, mes, tally
from pb.tally.rules import _Context

from .conftest import load_shared, needs_file
from .test_properties import FAST, elections


def look_alike(seed: int, voters: int, projects: int, scale: int) -> Election:
    """An approval election like a city's, with costs and budget in units ``scale`` times
    smaller (so add1 needs about ``scale`` times more steps)."""
    rng = random.Random(seed)
    ids = [str(100 + i) for i in range(projects)]
    costs = {pid: rng.randrange(20, 400) * scale for pid in ids}
    popularity = [rng.random() ** 2 + 0.01 for _ in ids]
    ballots = []
    for _ in range(voters):
        size = rng.choice([1, 1, 2, 3, 3, 4, 5, 6])
        ballots.append(sorted(set(rng.choices(ids, weights=popularity, k=size))))
    budget = sum(costs.values()) * rng.choice([25, 35, 50]) // 100
    return Election.build(costs, budget, ballots)


def add1_both(election: Election, tie_break: str = "lexicographic") -> tuple[int, int]:
    """(steps, skipped) after checking that add1 with skipping equals plain stepping."""
    ctx = _Context(election, tie_break, None)
    plain_run, plain_k, plain_all = mes.add1(ctx.problem, ctx.budget, ctx.n, ctx.scale, skip=False)
    fast = _Context(election, tie_break, None)
    run, k, everything = mes.add1(fast.problem, fast.budget, fast.n, fast.scale, record=True)
    assert (k, everything) == (plain_k, plain_all)
    assert run.funded == plain_run.funded and run.start == plain_run.start
    return k, fast.problem.skipped


@pytest.fixture
def skip_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mes, "SKIP_AFTER", 0.0)


@pytest.mark.parametrize("seed", range(12))
def test_skipping_equals_plain_stepping_on_look_alikes(seed: int, skip_at_once: None) -> None:
    election = look_alike(seed, voters=300 + 40 * seed, projects=8 + seed, scale=1000)
    steps, skipped = add1_both(election, "lexicographic" if seed % 2 else "cheaper-first")
    assert steps > 100
    assert 0 <= skipped <= steps


def test_skipping_passes_over_most_steps_when_the_unit_is_tiny(skip_at_once: None) -> None:
    election = look_alike(7, voters=800, projects=20, scale=10_000)
    steps, skipped = add1_both(election)
    assert steps > 5_000
    assert skipped > steps // 2, (skipped, steps)


def test_a_stretch_is_proved_only_where_every_step_funds_the_same() -> None:
    """Whenever a stretch is proved, every run inside it (computed one by one) funds the same
    projects in the same order; and proofs are not vacuous."""
    proved = 0
    for seed in range(6):
        election = look_alike(100 + seed, voters=150, projects=7, scale=200)
        ctx = _Context(election, "lexicographic", None)
        problem, step = ctx.problem, ctx.scale * ctx.n

        def start(k: int, ctx: _Context = ctx, step: int = step) -> Fraction:
            return Fraction(ctx.budget + k * step, ctx.n)

        for k in range(0, 600, 37):
            funded = problem.run(start(k)).funded
            lo = mes._replay(problem, funded, start(k))
            assert lo is not None
            for gap in (1, 3, 9, 27):
                if mes._replay(problem, funded, start(k + gap), lo) is None:
                    continue
                proved += 1
                for inside in range(k, k + gap + 1):
                    assert problem.run(start(inside)).funded == funded, (seed, k, gap, inside)
    assert proved > 50


def tie_election() -> Election:
    """Projects with the same cost and supporters: they tie exactly at every start."""
    rng = random.Random(5)
    ids = ["a", "b", "c", "d", "e", "f"]
    costs = {"a": 300_000, "b": 300_000, "c": 200_000, "d": 200_000, "e": 450_000, "f": 90_000}
    ballots = []
    for _ in range(60):
        ballots += [["a", "c"], ["b", "d"], ["e"], ["a", "b", "f"]]
        ballots.append(rng.sample(ids, 2))
    return Election.build(costs, 800_000, ballots)


def twin_election() -> Election:
    """x and y cost the same and are mostly approved together: y loses the exact tie to x
    while every supporter keeps the equal share (``_tie_lost`` holds), then wins."""
    rng = random.Random(3)
    ids = ["x", "y", "z", "v", "u"]
    costs = {"x": 100_000, "y": 100_000, "z": 260_000, "v": 180_000, "u": 70_000}
    ballots = []
    for _ in range(40):
        ballots += [["x", "y"], ["z"], ["v", "x", "y"], ["u", "z"]]
        ballots.append(rng.sample(ids, 2))
    return Election.build(costs, 520_000, ballots)


@pytest.mark.parametrize("compiled", [True, False])
def test_the_compiled_replay_proves_what_the_python_replay_proves(
    compiled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The replay in C (``_mesc.c``, used when built) and in Python give the same prices (to
    rounding) and the same verdicts, on look-alikes and on exact ties (where a rival loses
    the tie at every start, ``_tie_lost``); and each proved stretch, in either, funds the same
    projects at every step inside it."""
    if mes._mesc is None:
        pytest.skip("compiled loop not built")
    proved = 0
    elections = [look_alike(200 + seed, voters=200, projects=9, scale=300) for seed in range(4)]
    lost_ties = 0
    tie_lost = mes._tie_lost

    def counting(*args: object) -> bool:
        nonlocal lost_ties
        lost = tie_lost(*args)  # type: ignore[arg-type]
        lost_ties += lost
        return lost

    monkeypatch.setattr(mes, "_tie_lost", counting)
    for election in [*elections, tie_election(), twin_election()]:
        ctx = _Context(election, "lexicographic", None)
        problem, step = ctx.problem, ctx.scale * ctx.n
        assert problem.compiled is not None

        def start(k: int, ctx: _Context = ctx, step: int = step) -> Fraction:
            return Fraction(ctx.budget + k * step, ctx.n)

        replay = mes._replay if compiled else mes._replay_python
        for k in range(0, 400, 41):
            funded = problem.run(start(k)).funded
            lo, lo_py = (
                mes._replay(problem, funded, start(k)),
                mes._replay_python(problem, funded, start(k)),
            )
            assert lo is not None and lo_py is not None
            assert lo.rho == pytest.approx(lo_py.rho, rel=1e-12)
            for gap in (1, 4, 16, 64):
                up = replay(problem, funded, start(k + gap), lo)
                other = (mes._replay_python if compiled else mes._replay)(
                    problem, funded, start(k + gap), lo
                )
                assert (up is None) == (other is None), (k, gap)
                if up is None or other is None:
                    continue
                assert up.rho == pytest.approx(other.rho, rel=1e-12)
                proved += 1
                for inside in range(k, k + gap + 1, max(1, gap // 8)):
                    assert problem.run(start(inside)).funded == funded, (k, gap, inside)
    assert proved > 40
    assert lost_ties > 5  # the Python replay proved stretches through exact ties


def test_exact_ties_of_equal_shares_do_not_stop_skipping(skip_at_once: None) -> None:
    """Projects with the same cost and supporters tie exactly at every start (the tie-break
    decides): a tie that provably holds over a stretch is passed over like any decision."""
    election = tie_election()
    for tie_break in ("lexicographic", "cheaper-first"):
        steps, skipped = add1_both(election, tie_break)
        assert steps > 1000 and skipped > 0


@pytest.mark.parametrize(
    "name",
    [
        "Poland_Warszawa_2022_Wilanow.pb",
        "Poland_Czestochowa_2024_Grabowka.pb",
        "Switzerland_Zurich_D10.pb",
        "US_Stanford_Dataset_PB_Rochester_NY_2019_vote_rankings.pb",
        "Poland_Wieliczka_2023_Green_Budget.pb",
    ],
)
def test_shared_files_same_outcome_and_explanations_with_skipping_forced(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    needs_file(name)
    election = load_shared(name)
    monkeypatch.setattr(mes, "SKIP_AFTER", float("inf"))
    plain = tally(election, "equal-shares")
    monkeypatch.setattr(mes, "SKIP_AFTER", 0.0)
    forced = tally(election, "equal-shares")
    assert forced.selected == plain.selected
    assert forced.details == plain.details
    assert [r.explanation for r in forced.projects] == [r.explanation for r in plain.projects]


@FAST
@given(elections(), st.sampled_from(["lexicographic", "cheaper-first"]), st.integers(1, 3))
def test_skipping_equals_plain_stepping_on_random_elections(
    election: Election, tie_break: str, power: int
) -> None:
    """Random approval, cumulative and ordinal elections with many ties, their amounts in
    units 10, 100 or 1,000 times smaller: add1 with skipping forced from the first step funds
    what plain stepping funds, at the same step."""
    if not election.ballots:
        return
    factor = 10**power
    small = Election(
        projects=tuple(Project(p.id, p.cost * factor) for p in election.projects),
        budget=election.budget * factor,
        ballots=election.ballots,
        rules=election.rules,
    )
    previous = mes.SKIP_AFTER
    mes.SKIP_AFTER = 0.0
    try:
        add1_both(small, tie_break)
    finally:
        mes.SKIP_AFTER = previous


@pytest.mark.parametrize("seed", range(4))
def test_a_tiny_unit_skips_from_the_start_with_the_outcome_of_plain_stepping(seed: int) -> None:
    # Each voter starts with over mes.TINY_UNIT units: skipping is tried from the first steps,
    # whatever the time taken (no SKIP_AFTER patched here), and must not change the outcome.
    election = look_alike(300 + seed, voters=150 + 30 * seed, projects=7 + seed, scale=40_000)
    ctx = _Context(election, "cheaper-first" if seed % 2 else "lexicographic", None)
    assert ctx.budget >= mes.TINY_UNIT * ctx.scale * ctx.n
    steps, skipped = add1_both(election, ctx.tie_break)
    assert steps > 10_000
    assert skipped > steps // 2


def test_which_steps_are_computed_does_not_depend_on_timing() -> None:
    # Where the unit is tiny the schedule of tries is decided by counting: two counts of the
    # same election pass over exactly the same steps with the same replays.
    election = look_alike(310, voters=180, projects=9, scale=40_000)
    seen = []
    for _ in range(2):
        ctx = _Context(election, "lexicographic", None)
        counted: list[int] = []
        original = ctx.problem.cost_at
        original_winners = ctx.problem.winners_at

        def cost_at(
            numerator: int,
            denominator: int,
            original: Callable[[int, int], int] = original,
            counted: list[int] = counted,
        ) -> int:
            counted.append(numerator)
            return original(numerator, denominator)

        def winners_at(
            numerator: int,
            denominator: int,
            original: Callable[[int, int], list[int]] = original_winners,
            counted: list[int] = counted,
        ) -> list[int]:
            counted.append(numerator)
            return original(numerator, denominator)

        ctx.problem.cost_at = cost_at  # type: ignore[method-assign]
        ctx.problem.winners_at = winners_at  # type: ignore[method-assign]
        run, k, _ = mes.add1(ctx.problem, ctx.budget, ctx.n, ctx.scale)
        seen.append((k, run.funded, ctx.problem.skipped, counted))
    assert seen[0] == seen[1]
    assert seen[0][2] > 0 and seen[0][3]


@pytest.mark.parametrize("compiled", [True, False])
def test_the_coupled_bound_proves_past_the_one_sided_bound_and_only_what_holds(
    compiled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The coupled bound (budgets and prices moving together, ``mes._coupled``) proves
    stretches the one-sided bound alone cannot; every step inside each of them funds the
    same projects in the same order; where it fails, C and Python tell the same length."""
    if compiled and mes._mesc is None:
        pytest.skip("compiled loop not built")
    prove = mes._prove if compiled else mes._prove_python
    beyond = told = 0
    for seed in range(3):
        election = look_alike(400 + seed, voters=600, projects=12, scale=2_000)
        ctx = _Context(election, "lexicographic", None)
        problem, step = ctx.problem, ctx.scale * ctx.n
        unit = ctx.scale  # one step, in start units

        def start(k: int, ctx: _Context = ctx, step: int = step) -> Fraction:
            return Fraction(ctx.budget + k * step, ctx.n)

        for k in range(0, 3000, 211):
            funded = problem.run(start(k)).funded
            lo = prove(problem, funded, start(k))
            assert isinstance(lo, mes._Replay)
            for gap in (8, 64, 512):
                up = prove(problem, funded, start(k + gap), lo, unit * (1 - 1e-9))
                if isinstance(up, mes._Failed):
                    if compiled and up.length >= 0:
                        other = mes._prove_python(
                            problem, funded, start(k + gap), lo, unit * (1 - 1e-9)
                        )
                        assert isinstance(other, mes._Failed)
                        assert other.length == pytest.approx(up.length, rel=1e-6, abs=1e-6)
                        told += 1
                    continue
                with monkeypatch.context() as patch:
                    patch.setattr(mes, "_coupled", lambda *args: mes._NOTHING)
                    if mes._replay_python(problem, funded, start(k + gap), lo, unit) is None:
                        beyond += 1  # the one-sided bound alone does not prove it
                for inside in range(k + 1, k + gap + 1, max(1, gap // 16)):
                    assert problem.run(start(inside)).funded == funded, (seed, k, gap, inside)
                assert problem.run(start(k + gap)).funded == funded
    assert beyond > 3
    assert told > 3 or not compiled
