"""Property tests (hypothesis) on small random elections, plus an exact reference MES."""

from __future__ import annotations

import random
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pb.tally import RULES, Ballot, Election, Project, tally
from pb.tally.rules import _Context


@st.composite
def elections(draw: st.DrawFn, kind: str | None = None) -> Election:
    m = draw(st.integers(1, 6))
    decimals = draw(st.sampled_from(["", ".5", ".25"]))
    costs = {
        f"p{i}" if draw(st.booleans()) else str(i): draw(st.sampled_from([1, 2, 3, 5, 8, 13]))
        for i in range(m)
    }
    projects = tuple(Project(pid, cost) for pid, cost in costs.items())  # type: ignore[arg-type]
    projects = tuple(Project(p.id, p.cost * 2 if decimals else p.cost) for p in projects)
    if decimals:
        projects = tuple(
            Project(p.id, p.cost + __import__("decimal").Decimal("0" + decimals)) for p in projects
        )
    total = sum(p.cost for p in projects)
    budget = draw(st.integers(1, int(total) + 1))
    ballot_type = kind or draw(st.sampled_from(["approval", "cumulative", "ordinal"]))
    ids = [p.id for p in projects]
    ballots = []
    for v in range(draw(st.integers(0, 9))):
        chosen = draw(st.lists(st.sampled_from(ids), unique=True, max_size=m))
        points = (
            tuple(draw(st.integers(1, 4)) for _ in chosen) if ballot_type == "cumulative" else None
        )
        ballots.append(Ballot(tuple(chosen), points, str(v)))
    return Election(
        projects=projects,
        budget=budget,
        ballots=tuple(ballots),  # type: ignore[arg-type]
        rules=__import__("pb.tally", fromlist=["BallotRules"]).BallotRules(ballot_type),
    )  # type: ignore[arg-type]


FAST = settings(
    max_examples=int(__import__("os").environ.get("PB_HYPOTHESIS_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@FAST
@given(elections(), st.sampled_from(["lexicographic", "cheaper-first", "lottery"]))
def test_budget_never_exceeded_and_exhaustive(election: Election, tie_break: str) -> None:
    for rule in RULES:
        out = tally(election, rule, tie_break, seed=3)
        assert out.spent <= election.budget
        assert len(set(out.selected)) == len(out.selected)
        if rule in ("greedy", "equal-shares"):
            left = election.budget - out.spent
            for p in election.projects:
                assert p.id in out.selected_set or p.cost > left, (rule, p)


@FAST
@given(elections())
def test_add1_one_more_unit_would_exceed(election: Election) -> None:
    out = tally(election, "equal-shares-add1")
    if not election.ballots or out.details["add1_all_supported_funded"]:
        return
    ctx = _Context(election, "lexicographic", None)
    start = Fraction(ctx.budget, ctx.n) + (out.details["add1_steps"] + 1) * ctx.scale
    assert ctx.problem.run(start).cost > ctx.budget
    again = ctx.problem.run(start - ctx.scale)
    assert [ctx.ids[j] for j in again.funded] == list(out.selected)


@FAST
@given(elections(), st.randoms(use_true_random=False))
def test_outcome_does_not_depend_on_ballot_order(election: Election, rnd: random.Random) -> None:
    ballots = list(election.ballots)
    rnd.shuffle(ballots)
    shuffled = Election(election.projects, election.budget, tuple(ballots), election.rules)
    for rule in RULES:
        assert tally(election, rule).selected == tally(shuffled, rule).selected


@FAST
@given(elections(), st.sampled_from(["greedy", "greedy-no-skip"]))
def test_extra_votes_needed_really_funds_the_loser(election: Election, rule: str) -> None:
    out = tally(election, rule)
    for result in out.projects:
        if result.selected:
            continue
        extra = result.explanation.data["extra_needed"]
        if extra is None:
            continue

        def with_extra(x: int, pid: str = result.id) -> Election:
            if election.ballot_type == "cumulative":
                added = [Ballot((pid,), (x,), "extra")] if x else []
            elif election.ballot_type == "ordinal":
                # positional points: a one-project ranking gives 1 point
                added = [Ballot((pid,), None, f"extra{i}") for i in range(x)]
            else:
                added = [Ballot((pid,), None, f"extra{i}") for i in range(x)]
            return Election(
                election.projects, election.budget, election.ballots + tuple(added), election.rules
            )

        assert result.id in tally(with_extra(extra), rule).selected_set
        if extra > 0:
            assert result.id not in tally(with_extra(extra - 1), rule).selected_set


@FAST
@given(elections())
def test_explanations_consistent(election: Election) -> None:
    for rule in ("greedy", "equal-shares-plain", "equal-shares"):
        out = tally(election, rule)
        for r in out.projects:
            e = r.explanation
            assert "{" not in e.text("en") + e.text("sv")
            if e.code == "greedy_not_funded":
                assert e.data["remaining"] < e.data["cost"]
            if e.code == "greedy_funded":
                assert e.data["remaining"] >= e.data["cost"]
            if e.code in ("mes_not_funded", "mes_not_funded_points"):
                assert e.data["left"] <= e.data["cost"]
            if e.code == "mes_funded":
                assert e.data["full"] + e.data.get("partial", 0) == e.data["supporters"]


def reference_mes(election: Election, start: Fraction, rank: dict[str, int]) -> list[str]:
    """Textbook exact MES (Fractions, one voter at a time, every project every round)."""
    kind = election.ballot_type
    scale = election.amount_scale()
    cost = {p.id: int(p.cost * scale) for p in election.projects}
    utils = [b.utilities(kind) for b in election.ballots]
    if kind in ("approval", "choose-1"):
        utils = [{pid: cost[pid] for pid in u} for u in utils]
    money = [start] * len(utils)
    chosen: list[str] = []
    while True:
        best: tuple[Fraction, int, str] | None = None
        for pid in cost:
            if pid in chosen:
                continue
            supp = [
                (money[i], utils[i][pid]) for i in range(len(utils)) if utils[i].get(pid, 0) > 0
            ]
            if not supp or sum(m for m, _ in supp) < cost[pid]:
                continue
            supp.sort(key=lambda mu: mu[0] / mu[1])
            paid, rest_u = Fraction(0), sum(u for _, u in supp)
            for m_i, u_i in supp:
                rho = (cost[pid] - paid) / rest_u
                if rho * u_i <= m_i:
                    break
                paid += m_i
                rest_u -= u_i
            key = (rho, rank[pid], pid)
            if best is None or key < best:
                best = key
        if best is None:
            return chosen
        rho, _, pid = best
        chosen.append(pid)
        for i in range(len(utils)):
            if pid in utils[i]:
                money[i] -= min(money[i], rho * utils[i][pid])


@FAST
@given(elections(), st.sampled_from(["lexicographic", "cheaper-first"]))
def test_equal_shares_matches_exact_reference(election: Election, tie_break: str) -> None:
    if not election.ballots:
        return
    ctx = _Context(election, tie_break, None)
    rank = {pid: ctx.rank[j] for j, pid in enumerate(ctx.ids)}
    start = Fraction(ctx.budget, ctx.n)
    assert list(tally(election, "equal-shares-plain", tie_break).selected) == reference_mes(
        election, start, rank
    )
    out = tally(election, "equal-shares-add1", tie_break)
    if not out.details["add1_all_supported_funded"]:
        k = out.details["add1_steps"]
        assert list(out.selected) == reference_mes(election, start + k * ctx.scale, rank)
