"""Counting rules: greedy, greedy without skipping and the Method of Equal Shares family.

Use :func:`tally`; :data:`RULES` maps each rule name to its function. Every rule takes a
:class:`_Context` (the election prepared in integer minor units with a tie-break order) and
returns an :class:`~pb.tally.model.Outcome` with an explanation for every project.

Tie-breaking (:data:`TIE_BREAKS`), used whenever two projects have the same score (greedy) or
the same price per unit of utility (equal shares):

- ``lexicographic``: the smaller project id, compared as a string, wins (pabutools' default:
  ``"10"`` comes before ``"2"``);
- ``cheaper-first``: the cheaper project wins, then the smaller id;
- ``lottery``: a random order drawn with :class:`random.Random` seeded by the published
  ``seed`` over the ids sorted as strings; the same seed always gives the same order. A process
  publishes its seed as text; :func:`seed_from_text` is the one conversion to the integer seed
  (``pb tally --seed TEXT`` and the web app both use it);
- ``project-number``: ids made only of the digits 0-9 are compared as numbers, the lower
  number wins (``"2"`` before ``"10"`` before ``"11"``; ``"02"`` and ``"2"``, equal as numbers,
  by the id as a string); every other id comes after them, in the order of the ids as strings
  (``"11"`` before ``"A1"``). See :func:`project_number_key`.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from itertools import chain
from operator import attrgetter
from typing import Any

import numpy as np

from .explain import Explanation
from .mes import IntArray, MESProblem, MESRun, add1
from .model import Election, Outcome, ProjectResult, ballot_utilities

TIE_BREAKS = ("lexicographic", "cheaper-first", "lottery", "project-number")

Progress = Callable[[int, int], None]
"""``progress(step, spent)``: called during long counts (each add1 step)."""


class TallyError(ValueError):
    """An unknown rule or tie-break, or a missing seed."""


def seed_from_text(text: str) -> int:
    """The lottery seed of a published text seed: the first 8 bytes of the SHA-256 digest of
    the text's UTF-8 encoding, read as a big-endian unsigned integer (0 <= seed < 2**64).

    The text is taken exactly as published: no trimming, no case or Unicode normalisation, and
    a text that looks like a number is hashed like any other (``"42"`` is not the seed 42). So
    anyone can re-run a published seed: ``pb tally FILE --tie-break lottery --seed TEXT``.

    >>> seed_from_text("dalby-2026-ungdom")
    13981506466136106779
    """
    import hashlib  # here: loading OpenSSL costs a short count ~2 ms

    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def project_number_key(pid: str) -> tuple[int, int, str]:
    """The sort key of the ``project-number`` tie-break: ids of the digits 0-9 only, as
    numbers, first; then every other id, as a string.

    >>> sorted(["A1", "11", "10", "2"], key=project_number_key)
    ['2', '10', '11', 'A1']
    """
    if pid.isascii() and pid.isdigit():
        return (0, int(pid), pid)
    return (1, 0, pid)


def tie_break_order(election: Election, tie_break: str, seed: int | None = None) -> dict[str, int]:
    """Project id -> position in the tie-break order (0 wins every tie)."""
    ids = sorted(project.id for project in election.projects)
    if tie_break == "lexicographic":
        order = ids
    elif tie_break == "cheaper-first":
        costs = {project.id: project.cost for project in election.projects}
        order = sorted(ids, key=lambda pid: (costs[pid], pid))
    elif tie_break == "lottery":
        if seed is None:
            raise TallyError("the lottery tie-break needs a published seed")
        order = list(ids)
        random.Random(seed).shuffle(order)
    elif tie_break == "project-number":
        order = sorted(ids, key=project_number_key)
    else:
        raise TallyError(f"unknown tie-break {tie_break!r}; choose from {', '.join(TIE_BREAKS)}")
    return {pid: position for position, pid in enumerate(order)}


_PROJECTS = attrgetter("projects")
_PROJECTS_POINTS = attrgetter("projects", "points")


class _Context:
    """An election in integer minor units, with scores, tie-break ranks and voter groups."""

    def __init__(self, election: Election, tie_break: str, seed: int | None) -> None:
        self.election = election
        self.tie_break = tie_break
        self.seed = seed
        self.ids = [project.id for project in election.projects]
        self.index = {pid: j for j, pid in enumerate(self.ids)}
        self.scale = election.amount_scale()
        self.costs = [int(project.cost * self.scale) for project in election.projects]
        self.budget = int(election.budget * self.scale)
        order = tie_break_order(election, tie_break, seed)
        self.rank = [order[pid] for pid in self.ids]
        self.m = len(self.ids)
        self.n = len(election.ballots)
        kind = election.ballot_type
        # Identical ballots first (cheap), then the same utilities in any order.
        index = self.index
        if kind in ("cumulative", "ordinal"):
            raw = Counter(map(_PROJECTS_POINTS, election.ballots))
            groups: Counter[tuple[tuple[int, int], ...]] = Counter()
            for (projects, points), count in raw.items():
                utilities = ballot_utilities(projects, points, kind)
                key = sorted(
                    zip(map(index.__getitem__, utilities), utilities.values(), strict=True)
                )
                groups[tuple(key)] += count
            self.groups: list[tuple[Any, ...]] = list(groups)
            counts = list(groups.values())
            # Every nonzero entry (group, project, points) of the groups' ballots, as arrays.
            flat = np.fromiter(chain.from_iterable(chain.from_iterable(groups)), dtype=np.int64)
            self._cols = flat[0::2]
            self._points = flat[1::2]
        else:  # 1 per approved project (as Ballot.utilities): a group is a set of projects
            approvals: Counter[tuple[int, ...]] = Counter()
            for projects, count in Counter(map(_PROJECTS, election.ballots)).items():
                approvals[tuple(sorted(set(map(index.__getitem__, projects))))] += count
            self.groups = list(approvals)
            counts = list(approvals.values())
            self._cols = np.fromiter(chain.from_iterable(approvals), dtype=np.int64)
            self._points = np.ones(len(self._cols), dtype=np.int64)
        self.weights = np.array(counts, dtype=np.int64)
        sizes = np.fromiter(map(len, self.groups), dtype=np.int64, count=len(self.groups))
        self._rows = np.repeat(np.arange(len(self.groups), dtype=np.int64), sizes)
        totals = np.zeros(self.m, dtype=np.int64)
        np.add.at(totals, self._cols, self._points * self.weights[self._rows])
        self.scores: list[int] = totals.tolist()
        self._problem: MESProblem | None = None
        self._support: np.ndarray[Any, np.dtype[np.bool_]] | None = None

    def money(self, minor: float | int | Fraction) -> Decimal:
        """Minor units -> currency units, rounded to 2 decimals for display."""
        value = Decimal(minor) if not isinstance(minor, Fraction) else Decimal(float(minor))
        return (value / self.scale).quantize(Decimal("0.01"))

    def exact_money(self, minor: int) -> Decimal:
        return Decimal(minor) / self.scale

    def _entries(self) -> tuple[IntArray, IntArray, IntArray]:
        """(group, project, points) of every nonzero entry of the groups' ballots."""
        return self._rows, self._cols, self._points

    @property
    def support(self) -> np.ndarray[Any, np.dtype[np.bool_]]:
        if self._support is None:
            rows, cols, _ = self._entries()
            support = np.zeros((len(self.groups), self.m), dtype=bool)
            support[rows, cols] = True
            self._support = support
        return self._support

    @property
    def problem(self) -> MESProblem:
        """MES data: utilities are costs for approval ballots (cost utilities), points for
        cumulative ballots and positional points for ordinal ballots."""
        if self._problem is None:
            rows, cols, points = self._entries()
            approval = self.election.ballot_type in ("approval", "choose-1")
            # Utility sums are int64 (numpy): refuse amounts that could overflow them, with a
            # clear message, rather than count wrongly. (10 million voters and a project of
            # 100 billion in minor units are still far inside.)
            top = max(self.costs, default=0) if approval else int(points.max(initial=0))
            if top * self.n >= 2**62:
                raise TallyError(
                    "the amounts are too large to count equal shares exactly: voters x the "
                    "largest utility (costs in minor units) must stay below 2**62"
                )
            utilities = np.zeros((len(self.groups), self.m), dtype=np.int64)
            if approval:
                utilities[rows, cols] = np.asarray(self.costs, dtype=np.int64)[cols]
            else:
                utilities[rows, cols] = points
            self._problem = MESProblem(utilities, self.weights, self.costs, self.rank)
        return self._problem

    @property
    def points_word(self) -> str:
        return (
            "extra_votes"
            if self.election.ballot_type in ("approval", "choose-1")
            else ("extra_points")
        )

    def greedy_order(self) -> list[int]:
        return sorted(range(self.m), key=lambda j: (-self.scores[j], self.rank[j]))

    def threshold_ok(self, j: int, use_threshold: bool) -> bool:
        threshold = self.election.min_project_score
        return not use_threshold or threshold is None or self.scores[j] >= threshold

    def outcome(
        self,
        rule: str,
        selected: list[int],
        explanations: dict[int, Explanation],
        details: dict[str, Any],
    ) -> Outcome:
        chosen = set(selected)
        order = self.greedy_order()
        position = {j: i + 1 for i, j in enumerate(order)}
        results = tuple(
            ProjectResult(
                id=self.ids[j],
                cost=self.election.projects[j].cost,
                score=self.scores[j],
                selected=j in chosen,
                rank=position[j],
                explanation=explanations[j],
                name=self.election.projects[j].name,
            )
            for j in range(self.m)
        )
        spent = sum(self.costs[j] for j in selected)
        assert spent <= self.budget, "a rule exceeded the budget"
        return Outcome(
            rule=rule,
            tie_break=self.tie_break,
            budget=self.election.budget,
            spent=self.exact_money(spent),
            selected=tuple(self.ids[j] for j in selected),
            projects=results,
            seed=self.seed,
            details=details,
        )


# ---------------------------------------------------------------------------- greedy


@dataclass
class _GreedyRun:
    selected: list[int]
    remaining_at: dict[int, int]  # remaining budget when the project's turn came
    stopped_at: int | None  # position where no-skip stopped
    order: list[int]


def _greedy_run(
    ctx: _Context,
    no_skip: bool,
    use_threshold: bool,
    budget: int | None = None,
    exclude: frozenset[int] = frozenset(),
) -> _GreedyRun:
    remaining = ctx.budget if budget is None else budget
    selected: list[int] = []
    remaining_at: dict[int, int] = {}
    stopped: int | None = None
    order = [j for j in ctx.greedy_order() if j not in exclude]
    for position, j in enumerate(order):
        if not ctx.threshold_ok(j, use_threshold) or stopped is not None:
            continue
        remaining_at[j] = remaining
        if ctx.costs[j] <= remaining:
            selected.append(j)
            remaining -= ctx.costs[j]
        elif no_skip:
            stopped = position
    return _GreedyRun(selected, remaining_at, stopped, order)


def extra_score_needed(ctx: _Context, j: int, no_skip: bool, use_threshold: bool) -> int | None:
    """The fewest extra approvals (points, for points ballots) that would make greedy fund
    project ``j``, everything else unchanged; ``None`` if no number would.

    Exact: with the other projects in greedy order, the budget left before position ``i`` can
    only fall as ``i`` grows, so ``j`` is funded at position ``i`` iff it fits there (and, with
    no skipping, nothing before it failed to fit). Take the last such position and the score
    that puts ``j`` just ahead of the project now there.
    """
    others = [k for k in ctx.greedy_order() if k != j and ctx.threshold_ok(k, use_threshold)]
    remaining = ctx.budget
    best: int | None = None
    stopped = False
    for i in range(len(others) + 1):
        if not stopped and ctx.costs[j] <= remaining:
            best = i
        if i == len(others):
            break
        k = others[i]
        if not stopped:
            if ctx.costs[k] <= remaining:
                remaining -= ctx.costs[k]
            elif no_skip:
                stopped = True
    if best is None:
        return None
    need = 0
    if best < len(others):
        k = others[best]
        need = ctx.scores[k] - ctx.scores[j] + (0 if ctx.rank[j] < ctx.rank[k] else 1)
    threshold = ctx.election.min_project_score
    if use_threshold and threshold is not None:
        need = max(need, int(-(-(threshold - ctx.scores[j]) // 1)))
    return max(need, 0)


def _greedy_explanations(
    ctx: _Context, run: _GreedyRun, no_skip: bool, use_threshold: bool
) -> dict[int, Explanation]:
    position = {j: i + 1 for i, j in enumerate(ctx.greedy_order())}
    chosen = set(run.selected)
    out: dict[int, Explanation] = {}
    for j in range(ctx.m):
        base: dict[str, Any] = {
            "rank": position[j],
            "score": ctx.scores[j],
            "cost": ctx.exact_money(ctx.costs[j]),
        }
        if j in chosen:
            base["remaining"] = ctx.exact_money(run.remaining_at[j])
            out[j] = Explanation("greedy_funded", base)
            continue
        extra = extra_score_needed(ctx, j, no_skip, use_threshold)
        base["extra_needed"] = extra
        parts: tuple[tuple[str, dict[str, Any]], ...] = (
            ((ctx.points_word, {"votes": extra}),)
            if extra is not None
            else (("never_fundable", {}),)
        )
        if not ctx.threshold_ok(j, use_threshold):
            base["threshold"] = ctx.election.min_project_score
            out[j] = Explanation("below_threshold", base, parts)
        elif j in run.remaining_at:
            base["remaining"] = ctx.exact_money(run.remaining_at[j])
            out[j] = Explanation("greedy_not_funded", base, parts)
        else:
            out[j] = Explanation("greedy_stopped", base, parts)
    return out


def greedy(ctx: _Context) -> Outcome:
    """Greedy by score ("utilitarian greedy"; pabulib ``greedy``; Faliszewski et al.,
    IJCAI-2023, and the rule of most Polish cities): rank projects by score (approvals, points,
    or positional points for ranked ballots) and fund each project that still fits in what is
    left of the budget, skipping those that do not. Projects scoring below the election's
    ``min_project_score`` (pabulib ``min_project_score_threshold``) are not funded.
    Ties in score are broken by the tie-break order."""
    run = _greedy_run(ctx, no_skip=False, use_threshold=True)
    return ctx.outcome("greedy", run.selected, _greedy_explanations(ctx, run, False, True), {})


def greedy_no_skip(ctx: _Context) -> Outcome:
    """Greedy without skipping (pabulib ``greedy-no-skip``; Gdynia's rule): like
    :func:`greedy`, but counting stops at the first project that does not fit. The threshold
    applies as in greedy. Ties in score are broken by the tie-break order."""
    run = _greedy_run(ctx, no_skip=True, use_threshold=True)
    details = {
        "stopped_at": ctx.ids[run.order[run.stopped_at]] if run.stopped_at is not None else None
    }
    return ctx.outcome(
        "greedy-no-skip", run.selected, _greedy_explanations(ctx, run, True, True), details
    )


# ---------------------------------------------------------------------------- equal shares


def _mes_explanations(ctx: _Context, run: MESRun) -> dict[int, Explanation]:
    problem = ctx.problem
    approval = ctx.election.ballot_type in ("approval", "choose-1")
    out: dict[int, Explanation] = {}
    funded_round = {rec.project: i for i, rec in enumerate(run.rounds)}
    pay_matrix = np.zeros((len(run.rounds), len(ctx.groups)))
    for i, rec in enumerate(run.rounds):
        assert rec.payments is not None
        pay_matrix[i, problem.supp[rec.project]] = rec.payments * problem.wsf[rec.project]
    # rounds x projects: what each round took from each project's supporters. Plain sums per
    # project, not a BLAS matmul (whose idle threads spin and bill CPU time afterwards).
    spent_on = np.zeros((len(run.rounds), ctx.m))
    if len(run.rounds):
        for j in range(ctx.m):
            if len(problem.supp[j]) and j not in funded_round:
                spent_on[:, j] = np.add.reduce(pay_matrix[:, problem.supp[j]], axis=1)
    left = run.budgets * problem.wf
    for j in range(ctx.m):
        s = problem.supp[j]
        supporters = int(problem.w[s].sum())
        if j in funded_round:
            i = funded_round[j]
            rec = run.rounds[i]
            assert rec.payments is not None
            share = rec.rho * problem.uf[j]
            full = rec.payments >= share * (1 - 1e-9)
            data: dict[str, Any] = {
                "round": i + 1,
                "supporters": supporters,
                "cost": ctx.exact_money(ctx.costs[j]),
                "full": int(problem.w[s][full].sum()),
                "share": ctx.money(float(share[0])) if approval else ctx.money(rec.rho),
                "price_per_point": None if approval else ctx.money(rec.rho),
            }
            partial = int(problem.w[s][~full].sum())
            parts: tuple[tuple[str, dict[str, Any]], ...] = ()
            if partial:
                amount = float(np.dot(rec.payments[~full], problem.wsf[j][~full]))
                data["partial"] = partial
                data["partial_paid"] = ctx.money(amount)
                parts = (("mes_funded_partial", {"count": partial, "amount": ctx.money(amount)}),)
            out[j] = Explanation("mes_funded" if approval else "mes_funded_points", data, parts)
            continue
        if supporters == 0:
            out[j] = Explanation("mes_no_supporters", {"cost": ctx.exact_money(ctx.costs[j])})
            continue
        total_left = float(left[s].sum())
        units = supporters if approval else int(np.dot(problem.w[s], problem.u_int[j]))
        used = [
            (float(spent_on[i, j]), run.rounds[i].project)
            for i in range(len(run.rounds))
            if spent_on[i, j] > 0
        ]
        used.sort(key=lambda item: (-item[0], ctx.rank[item[1]]))
        out[j] = Explanation(
            "mes_not_funded" if approval else "mes_not_funded_points",
            {
                "cost": ctx.exact_money(ctx.costs[j]),
                "supporters": supporters,
                "left": ctx.money(total_left),
                "needed": ctx.money(ctx.costs[j] / units),
                "used_by": [
                    {"project": ctx.ids[q], "amount": ctx.money(amount)} for amount, q in used[:3]
                ],
            },
        )
    return out


def _start_details(ctx: _Context, run: MESRun, steps: int | None) -> dict[str, Any]:
    details: dict[str, Any] = {
        "start_per_voter": ctx.money(run.start),
        "start_per_voter_exact": str(run.start / ctx.scale),
        "rounds": len(run.rounds),
    }
    if steps is not None:
        details["add1_steps"] = steps
    return details


def equal_shares_plain(ctx: _Context, progress: Progress | None = None) -> Outcome:
    """The Method of Equal Shares as defined on equalshares.net (Peters & Skowron, 2020): every
    voter starts with budget/n; utilities are costs for approval ballots ("cost utilities"),
    points for cumulative ballots and positional points for ranked ballots; each round funds the
    affordable project with the lowest price per unit of utility, supporters paying equal
    shares of utility or all they have left. Ties in price are broken by the tie-break order.
    No completion: the outcome may leave money unspent."""
    if ctx.n == 0:
        return ctx.outcome("equal-shares-plain", [], _mes_explanations_empty(ctx), {})
    run = ctx.problem.run(Fraction(ctx.budget, ctx.n), record=True)
    return ctx.outcome(
        "equal-shares-plain",
        run.funded,
        _mes_explanations(ctx, run),
        _start_details(ctx, run, None),
    )


def _mes_explanations_empty(ctx: _Context) -> dict[int, Explanation]:
    return {
        j: Explanation("mes_no_supporters", {"cost": ctx.exact_money(ctx.costs[j])})
        for j in range(ctx.m)
    }


def _add1_run(ctx: _Context, progress: Progress | None) -> tuple[MESRun, int, bool]:
    unit = ctx.scale  # one currency unit, in minor units
    return add1(ctx.problem, ctx.budget, ctx.n, unit, progress, record=True)


def equal_shares_add1(ctx: _Context, progress: Progress | None = None) -> Outcome:
    """Equal shares with the add1 completion, as cities use it (pabulib ``equalshares/add1``;
    Wieliczka 2023, Świecie 2023, Assen 2024): rerun :func:`equal_shares_plain` with each
    voter's start raised by one currency unit at a time (budget/n + 1, + 2, ...) as long as the
    outcome stays within the budget, and keep the last outcome that does. Every step counts
    (computed, or inside a stretch proved to fund the same projects: see ``mes.add1``).
    (pabutools 1.2.3 instead stops at the first exhaustive outcome.) If every
    supported project fits in the budget, all of them are funded. Ties: the tie-break order."""
    if ctx.n == 0:
        return ctx.outcome("equal-shares-add1", [], _mes_explanations_empty(ctx), {})
    run, steps, everything = _add1_run(ctx, progress)
    details = {**_start_details(ctx, run, steps), "add1_all_supported_funded": everything}
    return ctx.outcome("equal-shares-add1", run.funded, _mes_explanations(ctx, run), details)


def compare_with_greedy(
    ctx: _Context, mes_selected: list[int], greedy_selected: list[int]
) -> dict[str, int]:
    """Wieliczka's comparison: for every voter, the number of their approved (supported)
    projects funded under each outcome; returns weighted voter counts."""
    support = ctx.support
    a = np.zeros(ctx.m, dtype=np.int64)
    a[mes_selected] = 1
    g = np.zeros(ctx.m, dtype=np.int64)
    g[greedy_selected] = 1
    under_mes = support @ a
    under_greedy = support @ g
    w = ctx.weights
    return {
        "better_equal_shares": int(w[under_mes > under_greedy].sum()),
        "better_greedy": int(w[under_greedy > under_mes].sum()),
        "equal": int(w[under_greedy == under_mes].sum()),
    }


def equal_shares_comparison(ctx: _Context, progress: Progress | None = None) -> Outcome:
    """:func:`equal_shares_add1` followed by Wieliczka's comparison step (pabulib
    ``equalshares/add1-comparison``): count, for every voter, their approved winners under it
    and under :func:`greedy`; greedy replaces it only if strictly more voters are better off
    under greedy. Ties inside each rule: the tie-break order."""
    mes_outcome = equal_shares_add1(ctx, progress)
    greedy_run = _greedy_run(ctx, no_skip=False, use_threshold=True)
    mes_selected = [ctx.index[pid] for pid in mes_outcome.selected]
    counts = compare_with_greedy(ctx, mes_selected, greedy_run.selected)
    details = {**mes_outcome.details, "comparison": counts}
    if counts["better_greedy"] > counts["better_equal_shares"]:
        explanations = _greedy_explanations(ctx, greedy_run, False, True)
        note = (
            "comparison_greedy",
            {"greedy": counts["better_greedy"], "mes": counts["better_equal_shares"]},
        )
        explanations = {
            j: Explanation(e.code, e.data, (*e.parts, note)) for j, e in explanations.items()
        }
        details["winner"] = "greedy"
        return ctx.outcome("equal-shares-comparison", greedy_run.selected, explanations, details)
    details["winner"] = "equal-shares"
    by_id = {r.id: r.explanation for r in mes_outcome.projects}
    return ctx.outcome(
        "equal-shares-comparison",
        mes_selected,
        {j: by_id[ctx.ids[j]] for j in range(ctx.m)},
        details,
    )


def equal_shares(ctx: _Context, progress: Progress | None = None) -> Outcome:
    """pb's recommended default: :func:`equal_shares_add1`, then what is left of the budget is
    filled greedily by score (each remaining project that fits, in score order; ties by the
    tie-break order). The outcome is exhaustive: no unfunded project fits in what is left.
    This is equalshares.net's "completion by utilitarian greedy" after add1."""
    mes_outcome = equal_shares_add1(ctx, progress)
    mes_selected = [ctx.index[pid] for pid in mes_outcome.selected]
    spent = sum(ctx.costs[j] for j in mes_selected)
    fill = _greedy_run(
        ctx,
        no_skip=False,
        use_threshold=False,
        budget=ctx.budget - spent,
        exclude=frozenset(mes_selected),
    )
    explanations = {ctx.index[r.id]: r.explanation for r in mes_outcome.projects}
    position = {j: i + 1 for i, j in enumerate(ctx.greedy_order())}
    filled = set(fill.selected)
    for j in range(ctx.m):
        if j in filled:
            explanations[j] = Explanation(
                "completion_funded",
                {
                    "rank": position[j],
                    "score": ctx.scores[j],
                    "remaining": ctx.exact_money(fill.remaining_at[j]),
                    "cost": ctx.exact_money(ctx.costs[j]),
                },
            )
        elif j not in mes_selected and j in fill.remaining_at:
            e = explanations[j]
            explanations[j] = Explanation(
                e.code,
                {**e.data, "completion_remaining": ctx.exact_money(fill.remaining_at[j])},
                (
                    *e.parts,
                    (
                        "completion_not_funded",
                        {"remaining": ctx.exact_money(fill.remaining_at[j])},
                    ),
                ),
            )
    details = {**mes_outcome.details, "completion": [ctx.ids[j] for j in fill.selected]}
    return ctx.outcome("equal-shares", mes_selected + fill.selected, explanations, details)


def _greedy_rule(ctx: _Context, progress: Progress | None = None) -> Outcome:
    return greedy(ctx)


def _greedy_no_skip_rule(ctx: _Context, progress: Progress | None = None) -> Outcome:
    return greedy_no_skip(ctx)


_greedy_rule.__doc__ = greedy.__doc__
_greedy_no_skip_rule.__doc__ = greedy_no_skip.__doc__

RULES: dict[str, Callable[[_Context, Progress | None], Outcome]] = {
    "greedy": _greedy_rule,
    "greedy-no-skip": _greedy_no_skip_rule,
    "equal-shares-plain": equal_shares_plain,
    "equal-shares-add1": equal_shares_add1,
    "equal-shares-comparison": equal_shares_comparison,
    "equal-shares": equal_shares,
}
"""Rule name -> rule. Each rule's docstring cites its definition and states its tie-breaking."""

PABULIB_RULES = {
    "greedy": "greedy",
    "greedy-threshold": "greedy",
    "greedy-no-skip": "greedy-no-skip",
    "equalshares/add1": "equal-shares-add1",
    "equalshares/add1-comparison": "equal-shares-comparison",
}
"""pabulib META ``rule`` values that are ours -> our rule name."""


def rule_for(election: Election) -> str:
    """The rule to use for an election when none is given: the META rule when it is one of
    ours (:data:`PABULIB_RULES`), else ``greedy``."""
    return PABULIB_RULES.get((election.meta_value("rule") or "").strip(), "greedy")


def tally(
    election: Election,
    rule: str = "greedy",
    tie_break: str = "lexicographic",
    seed: int | None = None,
    progress: Progress | None = None,
) -> Outcome:
    """Count ``election`` with ``rule`` (a key of :data:`RULES`) and ``tie_break`` (one of
    :data:`TIE_BREAKS`; ``lottery`` needs ``seed``). ``progress(step, spent)`` is called during
    long counts. Raises :class:`TallyError` for an unknown rule or tie-break."""
    if rule not in RULES:
        raise TallyError(f"unknown rule {rule!r}; choose from {', '.join(RULES)}")
    ctx = _Context(election, tie_break, seed)
    return RULES[rule](ctx, progress)
