"""The compiled add1 loop (pb/tally/_mesc.c) makes the decisions of the exact engine.

``MESProblem.run_cost`` runs the C loop and hands over to ``MESProblem.run`` (the float engine
whose every close decision is settled exactly) where the loop cannot decide alone. These tests
compare the C loop's cost with ``run(start).cost`` step by step on every shared file and on
random elections, and the whole ``equal-shares`` outcome with and without the C loop.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pb.tally import Election, mes, tally
from pb.tally.rules import _Context

from .conftest import SHARED, load_shared, needs_file
from .test_properties import FAST, elections

TOL = mes.TOL


def compiled_cost(problem: mes.MESProblem, start: Fraction) -> int:
    bf = float(start)
    assert problem.compiled is not None
    cost = problem.compiled.run_cost(bf, TOL * max(bf, 1.0))
    return cost


def test_the_compiled_loop_is_built() -> None:
    """`pip install -e .` builds it where a C compiler exists (every machine we run on); if
    this fails, equal shares still counts correctly, only slower."""
    assert mes._mesc is not None, "pb/tally/_mesc.c was not built: reinstall with a C compiler"


def _add1_steps(ctx: _Context) -> int:
    outcome = tally(ctx.election, "equal-shares-add1")
    return int(outcome.details.get("add1_steps") or 0)


@pytest.mark.parametrize("name", SHARED)
def test_compiled_cost_equals_exact_engine_at_add1_steps(name: str) -> None:
    """At the add1 steps that matter (the first ones, those around the last step kept and
    the first one over the budget), on every shared file: same cost as ``run``; on small files
    every step up to one past the last."""
    needs_file(name)
    election = load_shared(name)
    ctx = _Context(election, "lexicographic", None)
    problem = ctx.problem
    if problem.compiled is None:
        pytest.skip("compiled loop not built")
    last = _add1_steps(ctx)
    small = len(election.ballots) <= 5000 and last <= 1500
    steps = range(last + 2) if small else sorted({0, 1, 2, 3, max(0, last - 1), last, last + 1})
    b0 = Fraction(ctx.budget, ctx.n)
    handed = 0
    for k in steps:
        start = b0 + k * ctx.scale
        got = compiled_cost(problem, start)
        if got < 0:
            handed += 1
            continue
        assert got == problem.run(start).cost, (name, k)
    # The loop decides almost everything itself (else it would be no faster).
    assert handed <= max(1, len(steps) // 100), (name, handed, len(steps))


@FAST
@given(
    elections(),
    st.sampled_from(["lexicographic", "cheaper-first", "project-number"]),
    st.integers(0, 30),
)
def test_compiled_cost_equals_exact_engine_on_random_elections(
    election: Election, tie_break: str, k: int
) -> None:
    if not election.ballots:
        return
    ctx = _Context(election, tie_break, None)
    problem = ctx.problem
    assert problem.compiled is not None
    start = Fraction(ctx.budget, ctx.n) + k * ctx.scale
    got = compiled_cost(problem, start)
    expected = problem.run(start).cost
    assert got in (-1, expected)
    assert problem.run_cost(start) == expected


def test_exact_ties_are_settled_in_c_or_handed_over() -> None:
    """Prices equal only exactly (thirds) after partial payments (as in test_exactness): the
    C loop settles the tie by the tie-break order with integer arithmetic, or hands over."""
    ballots = [["x", "a", "b"]] * 3 + [["x"]] * 2 + [["a"], ["b"], ["c"], ["c", "a"]]
    e = Election.build({"x": 35, "a": 20, "b": 20, "c": 10}, 90, ballots)
    for tie_break in ("lexicographic", "cheaper-first"):
        ctx = _Context(e, tie_break, None)
        for k in range(40):
            start = Fraction(ctx.budget, ctx.n) + k * ctx.scale
            got = compiled_cost(ctx.problem, start)
            assert got in (-1, ctx.problem.run(start).cost), (tie_break, k)


def test_affordability_on_the_edge_is_handed_over() -> None:
    """Two voters with 5 each and a project costing exactly 10: whether they can afford it is
    too close for floats, so the C loop hands over and the exact engine funds it."""
    e = Election.build({"a": 10, "b": 3}, 10, [["a", "b"], ["a"]])
    ctx = _Context(e, "lexicographic", None)
    problem = ctx.problem
    start = Fraction(ctx.budget, ctx.n)
    assert compiled_cost(problem, start) == -1
    before = problem.handovers
    assert problem.run_cost(start) == problem.run(start).cost == 10 * ctx.scale
    assert problem.handovers == before + 1


@pytest.mark.parametrize(
    "name",
    [
        "Switzerland_Zurich_S5.pb",
        "Switzerland_Zurich_D10.pb",
        "Poland_Czestochowa_2024_Grabowka.pb",
        "Netherlands_Amsterdam_166.pb",
        "Poland_Wieliczka_2023_Green_Budget.pb",
    ],
)
def test_outcome_and_explanations_same_without_the_compiled_loop(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    needs_file(name)
    election = load_shared(name)
    with_c = tally(election, "equal-shares")
    monkeypatch.setattr(mes, "_mesc", None)
    without = tally(election, "equal-shares")
    assert with_c.selected == without.selected
    assert with_c.details == without.details
    assert [r.explanation for r in with_c.projects] == [r.explanation for r in without.projects]


def test_bad_arrays_are_refused() -> None:
    """The C type checks sizes and indices when built, before any run can read them."""
    if mes._mesc is None:
        pytest.skip("compiled loop not built")
    i64 = np.zeros(1, dtype=np.int64)
    f64 = np.zeros(1, dtype=np.float64)
    good = dict(
        groups=1,
        projects=1,
        supp_ptr=np.array([0, 1], dtype=np.int64),
        supp_idx=np.array([0], dtype=np.int64),
        ui=np.array([1], dtype=np.int64),
        uf=np.array([1.0]),
        wsf=np.array([1.0]),
        wuf=np.array([1.0]),
        weights=np.array([1], dtype=np.int64),
        costs=np.array([1], dtype=np.int64),
        utot=np.array([1], dtype=np.int64),
        rank=i64,
        costf=np.array([1.0]),
        utotf=np.array([1.0]),
        wsum=np.array([1.0]),
        ov_ptr=np.array([0, 1], dtype=np.int64),
        ov_idx=i64,
        heap0_key=np.array([1.0]),
        heap0_j=i64,
    )
    problem = mes._mesc.Problem(**good)
    assert problem.run_cost(2.0, 1e-9) == 1  # affordable
    assert problem.run_cost(1.0, 1e-9) == -1  # exactly the cost: the exact engine decides
    assert problem.run_cost(0.5, 1e-9) == 0  # unaffordable
    with pytest.raises(ValueError):
        problem.run_cost(float("nan"), 1e-9)
    with pytest.raises(ValueError):  # G beyond memory: its length overflows, refused
        mes._mesc.Problem(**{**good, "groups": 2**61})
    for key, bad in (
        ("supp_idx", np.array([5], dtype=np.int64)),  # no such group
        ("supp_ptr", np.array([0, 2], dtype=np.int64)),  # past the entries
        ("ov_idx", np.array([3], dtype=np.int64)),  # no such project
        ("uf", f64),  # zero utility
        ("uf", np.array([float("nan")])),  # not a number
        ("utotf", np.array([float("nan")])),
        ("costs", np.array([-1], dtype=np.int64)),  # negative cost
        ("weights", np.array([0], dtype=np.int64)),  # an empty group
        ("costs", np.zeros(2, dtype=np.int64)),  # wrong length
        ("supp_ptr", np.array([0, 2**61], dtype=np.int64)),  # a length that overflows
        ("heap0_key", np.array([1.0] * 8)),  # more heap entries than projects
    ):
        with pytest.raises(ValueError):
            mes._mesc.Problem(**{**good, key: bad})


def test_a_total_beyond_int64_is_handed_over() -> None:
    """Two projects of 2**62 minor units each, both funded: the total leaves int64, so the C
    loop hands over instead of wrapping round to a wrong (even positive) number."""
    if mes._mesc is None:
        pytest.skip("compiled loop not built")
    big = 2**62
    problem = mes._mesc.Problem(
        groups=1,
        projects=2,
        supp_ptr=np.array([0, 1, 2], dtype=np.int64),
        supp_idx=np.array([0, 0], dtype=np.int64),
        ui=np.array([big, big], dtype=np.int64),
        uf=np.array([float(big)] * 2),
        wsf=np.array([1.0, 1.0]),
        wuf=np.array([float(big)] * 2),
        weights=np.array([1], dtype=np.int64),
        costs=np.array([big, big], dtype=np.int64),
        utot=np.array([big, big], dtype=np.int64),
        rank=np.array([0, 1], dtype=np.int64),
        costf=np.array([float(big)] * 2),
        utotf=np.array([float(big)] * 2),
        wsum=np.array([1.0, 1.0]),
        ov_ptr=np.array([0, 2, 4], dtype=np.int64),
        ov_idx=np.array([0, 1, 0, 1], dtype=np.int64),
        heap0_key=np.array([1.0, 1.0]),
        heap0_j=np.array([0, 1], dtype=np.int64),
    )
    assert problem.run_cost(3.0 * big, 1e-9 * 3.0 * big) == -1
    assert problem.run_cost(1.5 * big, 1e-9 * 1.5 * big) == big  # one fits: no overflow


def test_amounts_too_large_for_exact_sums_are_refused_with_a_message() -> None:
    from pb.tally.rules import TallyError

    e = Election.build({"a": 4_700_000_000_000_000_000, "b": 1}, 5 * 10**18, [["a", "b"]])
    with pytest.raises(TallyError, match="too large"):
        tally(e, "equal-shares")
    assert tally(e, "greedy").selected == ("a", "b")  # greedy is plain integer arithmetic


def test_a_build_from_an_older_source_is_not_used() -> None:
    """A .so left from an older _mesc.c (its VERSION differs) is ignored with a warning, so
    the pure engine counts until pb is reinstalled."""
    import subprocess
    import sys

    code = (
        "import sys, types, warnings\n"
        "stale = types.ModuleType('pb.tally._mesc'); stale.VERSION = 1\n"
        "sys.modules['pb.tally._mesc'] = stale\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    import pb.tally.mes as mes\n"
        "assert mes._mesc is None\n"
        "assert any('older build' in str(w.message) for w in caught), caught\n"
        "import pb.tally\n"
        "e = pb.tally.Election.build({'a': 1, 'b': 2}, 2, [['a'], ['b'], ['a']])\n"
        "assert pb.tally.tally(e, 'equal-shares').selected == ('a',)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
