"""The Method of Equal Shares engine (internal; use :func:`pb.tally.tally`).

Definition (equalshares.net, "Method of Equal Shares"; Peters & Skowron 2020, Peters, Pierczyński
& Skowron 2021): every voter starts with the same budget ``b``. In each round, for every
project ``p`` that its supporters can still afford, find the smallest price ``rho`` per unit of
utility such that ``sum_i min(budget_i, rho * u_ip) = cost(p)`` (supporters who cannot pay their
share pay all they have). Fund the project with the smallest ``rho`` (ties: the tie-break
order), charge its supporters, and repeat until no project is affordable.

Exactness. The loop runs on float64 for speed, but no decision rests on a float comparison
that rounding could flip: two candidates whose prices are within a relative 1e-9, and an
affordability sum within 1e-9 of the cost, are decided with exact :class:`fractions.Fraction`
arithmetic. The exact state (each funded project's exact ``rho`` and the exact set of voters
who paid all they had) is rebuilt on demand from the round records, using integer sums over
voter groups. Identical ballots are merged into weighted groups; this is exact because voters
with equal ballots and equal start budgets stay identical.

Laziness. A project's price can only rise from one round to the next (budgets only shrink), so
a price computed in an earlier round is a lower bound; projects are kept in a heap by that bound
and recomputed only when they could win (as pabutools does). A price is also kept as it is
while none of the project's supporters has paid for anything since it was computed (then it is
still exact).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import numpy.typing as npt

TOL = 1e-9

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass
class _Eval:
    rho: float
    budgets: FloatArray  # budgets of the supporters (in supp order)


@dataclass
class _Round:
    project: int
    rho: float
    budgets: FloatArray  # the supporters' budgets before paying (supp order)
    payments: FloatArray | None = None  # per supporter group, per voter (record mode)
    sets: tuple[IntArray, IntArray] | None = None  # (sure poor, ambiguous), computed lazily


@dataclass
class MESRun:
    """One run of MES at start budget ``start`` (per voter, minor units)."""

    start: Fraction
    funded: list[int]
    cost: int
    rounds: list[_Round]
    budgets: FloatArray  # per group, per voter, at the end
    exact_rho: list[Fraction] = field(default_factory=list)


class MESProblem:
    """Precomputed data for repeated MES runs on one election.

    ``utilities`` is a (groups x projects) integer matrix, ``weights`` the number of voters in
    each group, ``costs`` the project costs in minor units and ``rank`` the tie-break order
    (lower wins).
    """

    def __init__(
        self,
        utilities: IntArray,
        weights: IntArray,
        costs: Sequence[int],
        rank: Sequence[int],
    ) -> None:
        self.U = utilities
        self.w = weights
        self.wf = weights.astype(np.float64)
        self.costs = list(costs)
        self.rank = list(rank)
        self.m = len(costs)
        self.G = len(weights)
        self.supp: list[IntArray] = []
        self.u_int: list[IntArray] = []
        self.uf: list[FloatArray] = []
        self.wsf: list[FloatArray] = []
        self.wuf: list[FloatArray] = []
        self.utot: list[int] = []
        for j in range(self.m):
            s = np.nonzero(utilities[:, j])[0].astype(np.int64)
            u = utilities[s, j].astype(np.int64)
            self.supp.append(s)
            self.u_int.append(u)
            self.uf.append(u.astype(np.float64))
            self.wsf.append(self.wf[s])
            self.wuf.append(self.wf[s] * u.astype(np.float64))
            self.utot.append(int(np.dot(weights[s], u)))
        self.costf = [float(c) for c in self.costs]
        self.utotf = [float(u) for u in self.utot]
        self.wsum = [float(w.sum()) for w in self.wsf]
        # overlap[p, q]: some voter supports both p and q (funding q can change p's price).
        support = (utilities > 0).astype(np.float32)
        self.overlap = (support.T @ support) > 0

    # ------------------------------------------------------------------ float evaluation
    def _eval(self, j: int, bud: FloatArray, eps_b: float) -> _Eval | bool | None:
        """Float price of project j; None if surely unaffordable, False if too close to call."""
        s = self.supp[j]
        budgets = bud[s]
        w = self.wsf[j]
        c = self.costf[j]
        total = float(np.dot(w, budgets))
        margin = TOL * c + eps_b * self.wsum[j]
        if total < c - margin:
            return None
        if total <= c + margin:
            return False
        ratio = budgets / self.uf[j]
        utot = self.utotf[j]
        level = c / utot
        if level <= float(ratio.min()):
            return _Eval(level, budgets)
        wb = w * budgets
        wu = self.wuf[j]
        # Poor/rich iteration. The level only rises and the set of supporters
        # paying all they have only grows, both bounded by the true solution (any set S gives
        # a lower bound (c - sum_S wB) / (U - sum_S wu)); stop when the set is stable.
        poor = ratio < level
        count = int(poor.sum())
        while True:
            rich_u = utot - float(wu[poor].sum())
            if rich_u <= 0:
                return _Eval(float(ratio.max()), budgets)
            level = (c - float(wb[poor].sum())) / rich_u
            poor |= ratio < level  # only grows: guarantees termination under rounding
            new_count = int(poor.sum())
            if new_count == count:
                return _Eval(level, budgets)
            count = new_count

    def _classify(self, j: int, ev: _Eval, eps_b: float) -> tuple[IntArray, IntArray]:
        s = self.supp[j]
        share = ev.rho * self.uf[j]
        d = ev.budgets - share
        m = TOL * share + eps_b
        return s[d < -m], s[np.abs(d) <= m]

    # ------------------------------------------------------------------ exact state
    class _Exact:
        def __init__(self, problem: MESProblem, start: Fraction) -> None:
            self.p = problem
            self.start = start
            self.rho: list[Fraction] = []
            self.projects: list[int] = []
            self.zero = np.zeros(problem.G, dtype=bool)

        def sum_budgets(self, groups: IntArray) -> Fraction:
            """Exact total budget of the given groups (zeroed groups excluded by caller)."""
            if len(groups) == 0:
                return Fraction(0)
            w = self.p.w[groups]
            total = self.start * int(w.sum())
            if self.projects:
                columns = np.asarray(self.projects, dtype=np.int64)
                a = np.dot(w, self.p.U[np.ix_(groups, columns)])
                for rho, coef in zip(self.rho, a.tolist(), strict=True):
                    if coef:
                        total -= rho * coef
            return total

        def budget(self, g: int) -> Fraction:
            if self.zero[g]:
                return Fraction(0)
            total = self.start
            row = self.p.U[g]
            for rho, q in zip(self.rho, self.projects, strict=True):
                if row[q]:
                    total -= rho * int(row[q])
            return total

        def affordable(self, j: int) -> bool:
            s = self.p.supp[j]
            alive = s[~self.zero[s]]
            return self.sum_budgets(alive) >= self.p.costs[j]

        def level(
            self, j: int, sure_poor: IntArray, ambiguous: IntArray, rho_f: float
        ) -> tuple[Fraction, IntArray]:
            """Exact price of project j and its exact set of supporters who pay all they have,
            given the float classification (checked; full exact computation if it fails)."""
            p = self.p
            c = p.costs[j]
            if len(sure_poor) == 0 and len(ambiguous) == 0:
                # Nobody is near the point of paying all they have: everyone pays the equal
                # share, so the price is cost / total utility, whatever the history.
                return Fraction(c, p.utot[j]), sure_poor
            col = p.U[:, j]
            alive = sure_poor[~self.zero[sure_poor]]
            poor_sum = self.sum_budgets(alive)
            urich = p.utot[j] - int(np.dot(p.w[sure_poor], col[sure_poor]))
            amb = sorted(
                ((self.budget(int(g)) / int(col[g]), int(g)) for g in ambiguous.tolist()),
                key=lambda item: item[0],
            )
            poor_extra: list[int] = []
            level: Fraction | None = None
            for ratio, g in amb:
                level = Fraction(c) - poor_sum
                level /= urich
                if level <= ratio:
                    break
                poor_sum += self.budget(g) * int(p.w[g])
                urich -= int(p.w[g]) * int(col[g])
                poor_extra.append(g)
                level = None
            if level is None:
                level = (Fraction(c) - poor_sum) / urich if urich > 0 else None
            if level is None or abs(float(level) - rho_f) > rho_f * TOL / 4:
                return self.full_level(j)
            poor = np.concatenate([sure_poor, np.array(poor_extra, dtype=np.int64)])
            return level, poor

        def full_level(self, j: int) -> tuple[Fraction, IntArray]:
            """Exact water-filling over every supporter (slow; a safety net)."""
            p = self.p
            s = p.supp[j].tolist()
            col = p.U[:, j]
            items = sorted(((self.budget(g) / int(col[g]), g) for g in s), key=lambda item: item[0])
            poor_sum = Fraction(0)
            urich = p.utot[j]
            poor: list[int] = []
            level = Fraction(0)
            for ratio, g in items:
                level = (Fraction(p.costs[j]) - poor_sum) / urich
                if level <= ratio:
                    break
                poor_sum += self.budget(g) * int(p.w[g])
                urich -= int(p.w[g]) * int(col[g])
                poor.append(g)
            return level, np.array(poor, dtype=np.int64)

        def push(self, j: int, rho: Fraction, poor: IntArray) -> None:
            self.rho.append(rho)
            self.projects.append(j)
            self.zero[poor] = True

    # ------------------------------------------------------------------ a run
    def run(self, start: Fraction, record: bool = False, verify: bool = False) -> MESRun:
        """MES with every voter starting with ``start`` (minor units, exact)."""
        bf = float(start)
        eps_b = TOL * max(bf, 1.0)
        bud = np.full(self.G, bf)
        heap: list[tuple[float, int, int]] = []
        for j in range(self.m):
            if self.utot[j] > 0:
                heap.append((self.costs[j] / self.utot[j], self.rank[j], j))
        heapq.heapify(heap)
        rounds: list[_Round] = []
        funded: list[int] = []
        exact: MESProblem._Exact | None = None  # built on first need
        sure_zero: npt.NDArray[np.bool_] | None = None  # surely paid all they had: exactly 0

        def sets(rec: _Round) -> tuple[IntArray, IntArray]:
            if rec.sets is None:
                rec.sets = self._classify(rec.project, _Eval(rec.rho, rec.budgets), eps_b)
            return rec.sets

        zero_upto = 0

        def surely_zero() -> npt.NDArray[np.bool_]:
            nonlocal zero_upto, sure_zero
            if sure_zero is None:
                sure_zero = np.zeros(self.G, dtype=bool)
            while zero_upto < len(rounds):
                sure_zero[sets(rounds[zero_upto])[0]] = True
                zero_upto += 1
            return sure_zero

        def catch_up() -> MESProblem._Exact:
            nonlocal exact
            if exact is None:
                exact = MESProblem._Exact(self, start)
            while len(exact.rho) < len(rounds):
                rec = rounds[len(exact.rho)]
                sure, amb = sets(rec)
                rho, poor = exact.level(rec.project, sure, amb, rec.rho)
                exact.push(rec.project, rho, poor)
            return exact

        # A price stays exact until a supporter pays for something: cache it until then.
        dirty = np.ones(self.m, dtype=bool)
        cache: list[_Eval | None] = [None] * self.m
        while heap:
            fresh: dict[int, _Eval] = {}
            best = float("inf")
            while heap and (not fresh or heap[0][0] <= best * (1 + TOL)):
                _, _, j = heapq.heappop(heap)
                cached = cache[j]
                if cached is not None and not dirty[j]:
                    fresh[j] = cached
                    best = min(best, cached.rho)
                    continue
                ev = self._eval(j, bud, eps_b)
                dirty[j] = False
                cache[j] = ev if isinstance(ev, _Eval) else None
                if ev is False:
                    if not catch_up().affordable(j):
                        continue
                    ev = self._eval_affordable(j, bud)
                if ev is None or ev is True:
                    continue
                fresh[j] = ev
                best = min(best, ev.rho)
            if not fresh:
                break
            near = [j for j, ev in fresh.items() if ev.rho <= best * (1 + TOL)]
            winner = near[0]
            if len(near) > 1:
                exact_prices = []
                for j in near:
                    sure, amb = self._classify(j, fresh[j], eps_b)
                    price = self._quick_price(j, sure, amb, surely_zero())
                    if price is None:
                        price = catch_up().level(j, sure, amb, fresh[j].rho)[0]
                    exact_prices.append((price, self.rank[j], j))
                winner = min(exact_prices)[2]
            for j, ev in fresh.items():
                if j != winner:
                    heapq.heappush(heap, (ev.rho, self.rank[j], j))
            ev = fresh[winner]
            s = self.supp[winner]
            pay = np.minimum(ev.budgets, ev.rho * self.uf[winner])
            bud[s] = ev.budgets - pay  # exactly 0.0 for those who paid all they had
            dirty |= self.overlap[winner]
            rounds.append(_Round(winner, ev.rho, ev.budgets, pay if record else None))
            funded.append(winner)
        result = MESRun(start, funded, sum(self.costs[j] for j in funded), rounds, bud)
        if verify:
            result.exact_rho = list(catch_up().rho)
        return result

    def _quick_price(
        self, j: int, sure: IntArray, amb: IntArray, sure_zero: npt.NDArray[np.bool_]
    ) -> Fraction | None:
        """The exact price without the exact history, when every supporter who pays less than
        the equal share surely has exactly nothing left (else None)."""
        if len(amb) or not bool(sure_zero[sure].all()):
            return None
        rich = self.utot[j] - int(np.dot(self.w[sure], self.U[sure, j]))
        return Fraction(self.costs[j], rich)

    def _eval_affordable(self, j: int, bud: FloatArray) -> _Eval:
        """Float price of a project known (exactly) to be affordable, total ~= cost."""
        s = self.supp[j]
        budgets = bud[s]
        ratio = budgets / self.uf[j]
        return _Eval(float(ratio.max()), budgets)


def add1(
    problem: MESProblem,
    budget: int,
    voters: int,
    unit: int,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[MESRun, int, bool]:
    """The add1 completion as cities use it (pabulib ``equalshares/add1``).

    Run MES with each voter's start ``budget/voters + k*unit`` for k = 0, 1, 2, ... as long as
    the outcome stays within ``budget``; return the last run that does, its ``k``, and whether
    every supported project fits in the budget (then every k is within budget and the limit,
    reached once a voter alone could pay for everything, funds them all).

    Every step is computed: nothing assumes that the cost grows with k (it need not).
    """
    b0 = Fraction(budget, voters)
    supported = [j for j in range(problem.m) if problem.utot[j] > 0]
    all_cost = sum(problem.costs[j] for j in supported)
    if all_cost <= budget:
        k = max(0, -(-(all_cost - b0) // unit)) if all_cost > b0 else 0
        k = int(k)
        return problem.run(b0 + k * unit), k, True
    last = problem.run(b0)
    k = 0
    while True:
        if progress is not None:
            progress(k, last.cost)
        candidate = problem.run(b0 + (k + 1) * unit)
        if candidate.cost > budget:
            return last, k, False
        last, k = candidate, k + 1
