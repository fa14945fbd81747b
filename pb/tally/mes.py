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
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from operator import mul, truediv
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from . import _mesc as _mesc_types

# The compiled add1 loop (pb/tally/_mesc.c): optional, same decisions. Its VERSION must be
# this one; a build left over from an older _mesc.c is not used (reinstall to rebuild it).
_MESC_VERSION = 5
_mesc: ModuleType | None
try:
    from . import _mesc
except ImportError:  # pragma: no cover - built by `pip install`, absent without a compiler
    _mesc = None
if _mesc is not None and getattr(_mesc, "VERSION", None) != _MESC_VERSION:  # pragma: no cover
    warnings.warn(
        "pb.tally: the compiled add1 loop is from an older build of pb/tally/_mesc.c and is "
        "not used; reinstall pb (pip install -e .) to rebuild it",
        RuntimeWarning,
        stacklevel=1,
    )
    _mesc = None

TOL = 1e-9
# add1 tries to pass over steps (see add1) once its steps have taken this many CPU seconds,
# or from the start where each voter's start budget is at least TINY_UNIT currency units, and
# only after UNCHANGED steps in a row with the same winners (or cost); 0: right after a change
SKIP_AFTER = 0.5
TINY_UNIT = 10_000
UNCHANGED = 0
# run_cost uses its lean loop on Python lists when every project has at most SMALL_SUPPORTERS
# supporter groups (then Python's per-element cost is below numpy's per-call cost).
SMALL_GROUPS = 2000
SMALL_SUPPORTERS = 40

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
        # From bit-packed support rows OR-ed over each project's supporters: exact, and no
        # BLAS call (whose idle threads spin and bill CPU time after a large matmul).
        nbytes = (self.m + 7) // 8
        packed = np.packbits(utilities > 0, axis=1, bitorder="little").reshape(self.G, nbytes)
        rows = np.zeros((self.m, nbytes), dtype=np.uint8)
        for j, s in enumerate(self.supp):
            if len(s):
                rows[j] = np.bitwise_or.reduce(packed[s], axis=0)
        self.overlap = np.unpackbits(rows, axis=1, count=self.m, bitorder="little").astype(bool)
        # Initial heap (price bound = equal share), sorted (so also a heap, and still one after
        # filtering), filtered by every run.
        self.heap0 = sorted(
            (self.costs[j] / self.utot[j], self.rank[j], j)
            for j in range(self.m)
            if self.utot[j] > 0
        )
        self.overlap_l: list[list[int]] = [np.nonzero(row)[0].tolist() for row in self.overlap]
        # Small elections: an add1 step is mostly numpy per-call overhead, so run_cost uses
        # plain Python lists (same formulas, margins and decisions as run).
        # (Built when first needed: with the compiled loop they never are.)
        self.small = self.G <= SMALL_GROUPS and all(len(x) <= SMALL_SUPPORTERS for x in self.supp)
        self.handovers = 0  # run_cost steps the compiled loop handed to run (for tests)
        self.skipped = 0  # add1 steps the last add1 passed over (for tests and benchmarks)
        self._lists = False

    def _build_lists(self) -> None:
        if not self._lists:
            self._lists = True
            self.w_l: list[int] = self.w.tolist()
            self.ui_l: list[list[int]] = [u.tolist() for u in self.u_int]
            self.supp_l = [s.tolist() for s in self.supp]
            self.uf_l = [u.tolist() for u in self.uf]
            self.wsf_l = [w.tolist() for w in self.wsf]
            self.wuf_l = [w.tolist() for w in self.wuf]

    @cached_property
    def compiled(self) -> _mesc_types.Problem | None:
        """The compiled twin of :meth:`run_cost` (pb/tally/_mesc.c), on flat arrays; built on
        first use (only add1 needs it), None without the module."""
        if _mesc is None:
            return None
        sizes = np.array([len(s) for s in self.supp], dtype=np.int64)
        supp_ptr = np.zeros(self.m + 1, dtype=np.int64)
        np.cumsum(sizes, out=supp_ptr[1:])
        ov_sizes = np.array([len(q) for q in self.overlap_l], dtype=np.int64)
        ov_ptr = np.zeros(self.m + 1, dtype=np.int64)
        np.cumsum(ov_sizes, out=ov_ptr[1:])

        def ints(parts: Sequence[IntArray]) -> IntArray:
            return np.concatenate([np.zeros(0, np.int64), *parts]).astype(np.int64)

        def floats(parts: Sequence[FloatArray]) -> FloatArray:
            return np.concatenate([np.zeros(0, np.float64), *parts]).astype(np.float64)

        from ._mesc import Problem

        return Problem(
            groups=self.G,
            projects=self.m,
            supp_ptr=supp_ptr,
            supp_idx=ints(self.supp),
            ui=ints(self.u_int),
            uf=floats(self.uf),
            wsf=floats(self.wsf),
            wuf=floats(self.wuf),
            weights=np.ascontiguousarray(self.w, dtype=np.int64),
            costs=np.array(self.costs, dtype=np.int64),
            utot=np.array(self.utot, dtype=np.int64),
            rank=np.array(self.rank, dtype=np.int64),
            costf=np.array(self.costf, dtype=np.float64),
            utotf=np.array(self.utotf, dtype=np.float64),
            wsum=np.array(self.wsum, dtype=np.float64),
            ov_ptr=ov_ptr,
            ov_idx=np.array([q for row in self.overlap_l for q in row], dtype=np.int64),
            heap0_key=np.array([item[0] for item in self.heap0], dtype=np.float64),
            heap0_j=np.array([item[2] for item in self.heap0], dtype=np.int64),
        )

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
        if level <= float(np.minimum.reduce(ratio)):
            return _Eval(level, budgets)
        wb = w * budgets
        wu = self.wuf[j]
        # Poor/rich iteration. The level only rises and the set of supporters
        # paying all they have only grows, both bounded by the true solution (any set S gives
        # a lower bound (c - sum_S wB) / (U - sum_S wu)); stop when the set is stable. The set
        # is stable iff its utility sum is: every wu is a positive integer and such sums are
        # exact in float64 (below 2**53), so one dot product also tests stability.
        poor = ratio < level
        poor_u = -1.0
        while True:
            new_u = float(np.dot(wu, poor))
            if new_u == poor_u:
                return _Eval(level, budgets)
            poor_u = new_u
            rich_u = utot - poor_u
            if rich_u <= 0:
                return _Eval(float(np.maximum.reduce(ratio)), budgets)
            level = (c - float(np.dot(wb, poor))) / rich_u
            poor |= ratio < level  # only grows: guarantees termination under rounding

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
        heap = self._start_heap(bf, eps_b)
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
        dirty = [True] * self.m
        overlap = self.overlap_l
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
            for q in overlap[winner]:
                dirty[q] = True
            rounds.append(_Round(winner, ev.rho, ev.budgets, pay if record else None))
            funded.append(winner)
        result = MESRun(start, funded, sum(self.costs[j] for j in funded), rounds, bud)
        if verify:
            result.exact_rho = list(catch_up().rho)
        return result

    def _start_heap(self, bf: float, eps_b: float) -> list[tuple[float, int, int]]:
        """The initial heap without the projects that are surely unaffordable from the start.

        At the start every supporter has ``bf``, so a project's supporters have ``bf * wsum``
        (to a relative 1e-15). A project short of its cost by twice :meth:`_eval`'s margin
        surely has exactly less than its cost, from the start and hence for the whole run
        (budgets only shrink); :meth:`run` would drop it whenever popped (found surely
        unaffordable, or confirmed so exactly), and such a pop changes nothing else. Dropping
        it at once saves those evaluations.
        """
        costf, wsum = self.costf, self.wsum
        return [
            item
            for item in self.heap0
            if bf * wsum[item[2]]
            >= costf[item[2]] - 2 * (TOL * costf[item[2]] + eps_b * wsum[item[2]])
        ]

    def run_cost(self, start: Fraction) -> int:
        """The total cost of :meth:`run` (``run(start).cost``), faster on small elections.

        A lean float loop on Python lists for elections where every project has few supporter
        groups (add1 runs it once per step, and there numpy's per-call cost would dominate).
        It computes the float prices as :meth:`_eval` does, with the same margins, and decides
        as :meth:`run` does: near ties are settled exactly when :meth:`_quick_price` applies
        (the "surely paid all they had" sets are the same); at any decision that needs the
        exact history (an affordability sum near the cost, a near tie with a supporter near the
        boundary) it gives up and returns ``run(start).cost``.

        With the compiled module (``pb/tally/_mesc.c``, the same loop in C, built by
        ``pip install``) it runs for elections of every size; it hands over to
        ``run(start).cost`` at the same points.
        """
        return self.cost_at(start.numerator, start.denominator)

    def cost_at(self, numerator: int, denominator: int) -> int:
        """:meth:`run_cost` at ``start = numerator / denominator``, building the Fraction only
        if the exact engine is needed (``numerator / denominator`` is ``float(start)``: both
        are the correctly rounded quotient)."""
        if self.compiled is not None:
            bf = numerator / denominator
            cost = self.compiled.run_cost(bf, TOL * max(bf, 1.0))
            if cost >= 0:
                return cost
            self.handovers += 1
            return self.run(Fraction(numerator, denominator)).cost
        return self.run_cost_python(Fraction(numerator, denominator))

    def run_cost_python(self, start: Fraction) -> int:
        """:meth:`run_cost` without the compiled module."""
        if not self.small:
            return self.run(start).cost
        self._build_lists()
        bf = float(start)
        eps_b = TOL * max(bf, 1.0)
        bud = [bf] * self.G
        heap = self._start_heap(bf, eps_b)
        m = self.m
        dirty = [True] * m
        cache = [0.0] * m
        supp, uf, wsf, wuf = self.supp_l, self.uf_l, self.wsf_l, self.wuf_l
        costf, utotf, wsum, rank = self.costf, self.utotf, self.wsum, self.rank
        overlap = self.overlap_l
        heappop, heappush = heapq.heappop, heapq.heappush
        inf = float("inf")
        close = 1 + TOL
        sure_zero = [False] * self.G
        w_l, ui_l = self.w_l, self.ui_l
        cost = 0
        while heap:
            fresh: list[tuple[float, int]] = []
            best = inf
            while heap and (not fresh or heap[0][0] <= best * close):
                j = heappop(heap)[2]
                if dirty[j]:
                    dirty[j] = False
                    # float price, as _eval
                    budgets = [bud[g] for g in supp[j]]
                    w = wsf[j]
                    c = costf[j]
                    total = sum(map(mul, w, budgets))
                    margin = TOL * c + eps_b * wsum[j]
                    if total < c - margin:
                        continue  # unaffordable now, hence for the rest of the run
                    if total <= c + margin:
                        return self.run(start).cost  # run decides this one exactly
                    ratio = list(map(truediv, budgets, uf[j]))
                    utot = utotf[j]
                    level = c / utot
                    if level > min(ratio):
                        wu = wuf[j]
                        n = len(ratio)
                        poor = [i for i in range(n) if ratio[i] < level]
                        in_poor = [False] * n
                        for i in poor:
                            in_poor[i] = True
                        while True:
                            rich_u = utot - sum([wu[i] for i in poor])
                            if rich_u <= 0:
                                level = max(ratio)
                                break
                            level = (c - sum([w[i] * budgets[i] for i in poor])) / rich_u
                            added = False
                            for i in range(n):
                                if not in_poor[i] and ratio[i] < level:
                                    in_poor[i] = True
                                    poor.append(i)
                                    added = True
                            if not added:
                                break
                    cache[j] = level
                rho = cache[j]
                fresh.append((rho, j))
                if rho < best:
                    best = rho
            if not fresh:
                break
            limit = best * close
            near = [j for rho, j in fresh if rho <= limit]
            winner = near[0]
            if len(near) > 1:
                # A near tie: as run's _quick_price, or give up when run needs the history.
                prices = []
                for j in near:
                    rho = cache[j]
                    paying = 0
                    for g, u, ui in zip(supp[j], uf[j], ui_l[j], strict=True):
                        share = rho * u
                        d = bud[g] - share
                        m_g = TOL * share + eps_b
                        if d < -m_g:
                            if not sure_zero[g]:
                                return self.run(start).cost
                            paying += w_l[g] * ui
                        elif -m_g <= d <= m_g:
                            return self.run(start).cost
                    prices.append((Fraction(self.costs[j], self.utot[j] - paying), rank[j], j))
                winner = min(prices)[2]
            for rho, j in fresh:
                if j != winner:
                    heappush(heap, (rho, rank[j], j))
            rho = cache[winner]
            for g, u in zip(supp[winner], uf[winner], strict=True):
                share = rho * u
                b = bud[g]
                if share < b:
                    bud[g] = b - share
                else:
                    bud[g] = 0.0
                    if b - share < -(TOL * share + eps_b):
                        sure_zero[g] = True  # surely paid all they had (as run's _classify)
            for q in overlap[winner]:
                dirty[q] = True
            cost += self.costs[winner]
        return cost

    def winners_at(self, numerator: int, denominator: int) -> list[int]:
        """The projects :meth:`run` funds at ``start = numerator / denominator``, in order
        (with the compiled module as its ``run_cost`` decides, handing over where it does)."""
        if self.compiled is not None:
            bf = numerator / denominator
            got = self.compiled.winners(bf, TOL * max(bf, 1.0))
            if isinstance(got, list):
                return got
            self.handovers += 1
        return self.run(Fraction(numerator, denominator)).funded

    def cost_of(self, funded: Sequence[int] | None) -> int:
        return sum(self.costs[j] for j in funded or ())

    def neighbours(self, j: int) -> tuple[IntArray, IntArray]:
        """For add1 skipping: the projects supported by each supporter group of ``j``, flat,
        and how many each group supports (cached per project)."""
        cache: dict[int, tuple[IntArray, IntArray]] = self.__dict__.setdefault("_neighbours", {})
        found = cache.get(j)
        if found is None:
            rows = self.U[self.supp[j]] > 0
            found = (np.nonzero(rows)[1].astype(np.int64), rows.sum(axis=1).astype(np.int64))
            cache[j] = found
        return found

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
    record: bool = False,
    skip: bool = True,
) -> tuple[MESRun, int, bool]:
    """The add1 completion as cities use it (pabulib ``equalshares/add1``).

    Run MES with each voter's start ``budget/voters + k*unit`` for k = 0, 1, 2, ... as long as
    the outcome stays within ``budget``; return the last run that does, its ``k``, and whether
    every supported project fits in the budget (then every k is within budget and the limit,
    reached once a voter alone could pay for everything, funds them all). ``record`` keeps the
    payments of the run returned (:meth:`MESProblem.run`).

    Every step's outcome is known: nothing assumes that the cost grows with k (it need not).
    Steps are computed one by one, except that a stretch of steps may be passed over when it is
    proved that every run in it funds the same projects as the run at its start, so costs the
    same, within budget (:func:`_replay` with ``lo``). That is tried once the steps have taken
    :data:`SKIP_AFTER` CPU seconds (then a try is cheap beside them), or from the start where
    the unit is tiny (each voter's start is at least :data:`TINY_UNIT` units: decided from the
    data, so the steps computed do not depend on the machine), and the winners (without the
    compiled module: the cost) have not changed for :data:`UNCHANGED` steps; ``skip=False``
    computes every step.
    """
    b0 = Fraction(budget, voters)
    supported = [j for j in range(problem.m) if problem.utot[j] > 0]
    all_cost = sum(problem.costs[j] for j in supported)
    if all_cost <= budget:
        k = max(0, -(-(all_cost - b0) // unit)) if all_cost > b0 else 0
        k = int(k)
        return problem.run(b0 + k * unit, record=record), k, True
    # Only the cost of each step is needed (run_cost makes run's decisions), then the run kept.
    # Step k starts every voter with (budget + k * unit * voters) / voters.
    step = unit * voters
    # With the compiled loop each step also gives its winners (at no extra cost), so a change
    # of winners is seen where it happens, not only where the cost changes.
    track = skip and problem.compiled is not None
    last_winners = problem.winners_at(budget, voters) if track else None
    last_cost = problem.cost_of(last_winners) if track else problem.cost_at(budget, voters)
    k = 0
    skipper = _Skipper(problem, budget, step, voters)
    problem.skipped = 0
    # A tiny unit (each voter's start is TINY_UNIT units or more): tens of thousands of steps
    # are coming, so skipping is tried from the start. Decided from the data alone, so the
    # steps computed, and the time taken, do not depend on the machine's speed.
    eager = budget >= TINY_UNIT * step
    began = time.process_time()
    unchanged = 0  # steps in a row with the same cost
    changed_at = 0  # the last step whose cost differs from the step before
    while True:
        if progress is not None:
            progress(k, last_cost)
        if (
            skip
            and unchanged >= UNCHANGED
            and (eager or time.process_time() - began >= SKIP_AFTER)
            and skipper.due(k, changed_at)
        ):
            k, funded = skipper.skip(k, last_winners)
            last_winners = funded if track else None
            problem.skipped = skipper.skipped
        if track:
            winners = problem.winners_at(budget + (k + 1) * step, voters)
            cost = problem.cost_of(winners)
            same = winners == last_winners
            last_winners = winners
        else:
            cost = problem.cost_at(budget + (k + 1) * step, voters)
            same = cost == last_cost
        if cost > budget:
            return problem.run(b0 + k * unit, record=record), k, False
        if same:
            unchanged += 1
        else:
            unchanged, changed_at = 0, k + 1
        last_cost, k = cost, k + 1


# ---------------------------------------------------------------------- add1 step skipping
#
# Where the currency unit is tiny beside the budget (forints, or cents of a large budget),
# thousands of consecutive add1 steps fund the same projects. A stretch of steps may be passed
# over when it is proved that every run in it funds what the run at its start funds (then each
# costs the same, within budget, and add1 would have gone on). The proof (``_replay`` with ``lo``):
#
# Fix the sequence of winners. Then every voter's budget after each round is nondecreasing in
# the start budget b, and each winner's price nonincreasing: by induction over the rounds,
# larger budgets give a pointwise larger payment function Phi(rho) = sum_i w_i min(B_i, rho u_i),
# hence a lower or equal price, and max(0, B_i - rho u_i) grows with B_i and falls with rho.
# So, for every b in [lo, up] and every round r (the winners of rounds 1..r-1 being the same, by
# induction): the winner w is still affordable (its supporters have at least what they had at
# lo, where it was funded); any other project q would be paid at most
# Fbar_q = sum_i w_i min(B_i(up), rho_w(lo) u_iq) at w's price, and if that is below its cost,
# q is unaffordable or strictly dearer than w; a q with an exact tie is allowed when both prices
# are provably the equal share cost/utility on the whole interval (every supporter keeps at
# least that share at lo, so at every b >= lo): then the tie-break rank decides, as at lo; and
# after the last round every project left has at most sum_i w_i B_i(up), below its cost.
#
# The coupled bound (``_coupled``). Fbar takes the budgets at up and the price at lo together,
# though budgets rise only as prices fall: where q's price falls beside w's, a hair above it,
# Fbar reaches q's cost within a few steps while q stays dearer for hundreds. So where Fbar
# fails, q's payment at w's price, Phi_q(b) = sum_i w_i min(B_i(b), rho(b) u_iq), is also
# bounded by slopes. Write B' and P for the budgets and w's price at lo, dB_i = B_i(b) - B'_i
# >= 0 and dP = P - rho(b) >= 0, for b in [lo, up] and db = b - lo. Term by term,
# min(B_i(b), rho(b) u) - min(B'_i, P u) is at most dB_i, and at most -dP u where B'_i >= P u
# (i rich at lo; then also at b). So
#   (1) Phi_q(b) <= Phi_q(lo) + sum_{i not rich at lo} w_i dB_i - dP U_q(rich at lo);
# the same for w, whose payment is its cost at both ends, gives
#   (2) dP <= sum_{i not rich at lo} w_i dB_i / U_w(rich at lo);
# and a supporter poor at up (B_i(up) <= rho(up) u, hence poor at every b) pays all it has, so
# min(B_i(b), rho(b) u) - min(B'_i, P u) >= dB_i for it and >= -dP u for every other one:
#   (3) dP >= sum_{i poor at up} w_i dB_i / U_w(not poor at up).
# By induction over the rounds, with alpha_i db <= dB_i <= beta_i db (both 1 in round 1):
# (3) and (2) bound dP between pi_lo db and pi_hi db, and after w is paid, a supporter rich at
# lo has dB_i + dP u (alpha_i + pi_lo u and beta_i + pi_hi u), one poor at up has 0 (it
# has nothing left at either end), and any other one between 0 and beta_i + pi_hi u (as
# max(0, .) is monotone and 1-Lipschitz). Then (1) gives
#   Phi_q(b) <= Phi_q(lo) + db max(0, sum_{i not rich at lo} w_i beta_i - pi_lo U_q(rich)),
# and if that stays below q's cost at db = up - lo, q is dearer than w at every b. Only sure
# classes are used (rich at lo and poor at up with a margin; any voter may be counted as
# neither, which only weakens the bound), the price at lo is the raised one (a larger P only
# loosens (1)), and the slopes are widened by 1e-9. The error of this bound grows with the
# square of the stretch (it comes from the voters whose class changes inside it), so near a
# change of winners it proves nearly to the change. Where it fails, it tells the length it
# would prove: the next try aims there (``_Skipper``).
#
# The budgets and prices at lo and up are replayed in float with the winners fixed
# (``_replay``, which checks the proof round by round as it replays up, with the budgets at lo
# that the replay at lo kept); every comparison keeps a margin of 1e-6 of the cost plus the
# supporters' start budgets (a thousand times the engine's own 1e-9), and the price at lo is
# raised by a bound on its rounding error, so no rounding can decide a proof. A failed proof
# only means the steps are computed one by one, as always.


@dataclass
class _Replay:
    """MES at one start budget with the winners fixed, in float: each round's price, raised by
    a bound on its rounding error, and the budgets of each round's winner's supporters after
    they paid (round by round, in supporter order)."""

    start: float
    rho: list[float]
    after: FloatArray


@dataclass
class _Failed:
    """A proof that failed: the length (in start units from lo) that the coupled bound of the
    rival that failed would prove (-1.0 where it tells nothing), and the distance from lo
    after which it would hold (where that rival is within the margin of its cost at lo and
    falls behind: a near tie at lo, resolved a little later)."""

    length: float
    later: float = 0.0


_NOTHING = _Failed(-1.0)
_MARGIN = 1e-6
_CLASS_TOL = 1e-12  # relative margin of "surely rich at lo", "surely poor at up"
_SLOPE_TOL = 1e-9  # the price's slopes are widened by this much


def _replay(
    problem: MESProblem,
    funded: Sequence[int],
    start: Fraction,
    lo: _Replay | None = None,
    first: float = 0.0,
) -> _Replay | None:
    """MES at ``start`` with the winners ``funded`` (in that order), in float; None if a price
    is too close to call in float. With ``lo`` (a replay at a smaller start where MES funds
    ``funded``) it is also the proof that MES funds ``funded`` at every start in
    ``[lo, start]`` (see above), checked round by round: None as soon as it fails. With
    ``first`` (add1's step, in start units), only starts from ``lo + first`` on need the
    proof (add1 knows what MES funds at lo, and between lo and lo + first there is no step):
    the coupled bound may then leave out a near tie at lo that is resolved a step later."""
    got = _prove(problem, funded, start, lo, first)
    return got if isinstance(got, _Replay) else None


def _prove(
    problem: MESProblem,
    funded: Sequence[int],
    start: Fraction,
    lo: _Replay | None = None,
    first: float = 0.0,
) -> _Replay | _Failed:
    """:func:`_replay`, but where it would give None, what the coupled bound tells
    (:class:`_Failed`).

    With the compiled module this is ``Problem.replay`` in ``_mesc.c``: the same replay and
    checks (with :func:`_tie_lost`) in C."""
    compiled = problem.compiled
    if compiled is not None:
        x = float(start)
        order = np.asarray(funded, dtype=np.int64)
        after = np.empty(sum(len(problem.supp[w]) for w in funded), dtype=np.float64)
        got = compiled.replay(
            x,
            order,
            lo.start if lo is not None else 0.0,
            first,
            np.asarray(lo.rho, dtype=np.float64) if lo is not None else None,
            lo.after if lo is not None else None,
            after,
        )
        return _Replay(x, got, after) if isinstance(got, list) else _Failed(*got)
    return _prove_python(problem, funded, start, lo, first)


def _replay_python(
    problem: MESProblem,
    funded: Sequence[int],
    start: Fraction,
    lo: _Replay | None = None,
    first: float = 0.0,
) -> _Replay | None:
    """:func:`_replay` without the compiled module."""
    got = _prove_python(problem, funded, start, lo, first)
    return got if isinstance(got, _Replay) else None


def _prove_python(
    problem: MESProblem,
    funded: Sequence[int],
    start: Fraction,
    lo: _Replay | None = None,
    first: float = 0.0,
) -> _Replay | _Failed:
    """:func:`_prove` without the compiled module."""
    x = float(start)
    eps = TOL * max(x, 1.0)
    bud = np.full(problem.G, x)
    wsum = np.asarray(problem.wsum)
    cost = np.asarray(problem.costf)
    utot = np.asarray(problem.utotf)
    margin = _MARGIN * (cost + x * wsum)
    alive = utot > 0
    totals = x * wsum  # every project's supporters' total budget
    rho_out: list[float] = []
    after: list[FloatArray] = []
    if lo is not None and not x >= lo.start:
        return _NOTHING
    span = x - lo.start if lo is not None else 0.0
    bud_lo = np.full(problem.G, lo.start if lo is not None else x)
    alpha = np.ones(problem.G)
    beta = np.ones(problem.G)
    slopes = lo is not None
    offset = 0
    for r, w in enumerate(funded):
        alive[w] = False
        s, u, ws = problem.supp[w], problem.uf[w], problem.wsf[w]
        ev = problem._eval(w, bud, eps)
        if not isinstance(ev, _Eval):
            return _NOTHING
        old = ev.budgets
        rich_u = float(np.dot(problem.wuf[w], old >= ev.rho * u))
        if rich_u <= 0:
            return _NOTHING
        # Rounding bound: the price is (cost - what the poor pay) / rich utility.
        bound = 1e-9 * (problem.costf[w] + x * problem.wsum[w]) / rich_u
        rho_out.append(ev.rho * (1 + 1e-8) + bound)
        pi_lo = pi_hi = 0.0
        rich_lo = poor_up = np.zeros(len(s), dtype=bool)
        if lo is not None:
            rho = lo.rho[r]
            if slopes:
                poor_up = old <= (ev.rho * (1 - 1e-8) - bound) * u * (1 - _CLASS_TOL) - eps
                rich_lo = bud_lo[s] >= rho * u * (1 + _CLASS_TOL) + eps
                rich_lo_u = float(np.dot(problem.wuf[w], rich_lo))
                if rich_lo_u > 0:
                    num_hi = float(np.dot(ws[~rich_lo], beta[s][~rich_lo]))
                    pi_hi = num_hi / rich_lo_u * (1 + _SLOPE_TOL)
                    not_poor_u = float(np.dot(problem.wuf[w], ~poor_up))
                    num_lo = float(np.dot(ws[poor_up], alpha[s][poor_up]))
                    pi_lo = num_lo / not_poor_u * (1 - _SLOPE_TOL) if not_poor_u > 0 else 0.0
                else:
                    slopes = False  # no bound on how fast the price falls: one-sided from here
            # Every other project that could match w's price at some start in [lo, start]:
            # not dearer at the equal share, not surely short with the budgets at `start`.
            near = np.nonzero(alive & (rho * utot >= cost - margin) & (totals >= cost - margin))
            for q in near[0].tolist():
                sq = problem.supp[q]
                need = cost[q] - margin[q]
                fbar = float(np.dot(problem.wsf[q], np.minimum(bud[sq], rho * problem.uf[q])))
                if fbar < need:
                    continue
                told = _NOTHING
                if slopes:
                    coupled = _coupled(problem, q, bud_lo, beta, rho, pi_lo, span, first, need, eps)
                    if coupled is None:
                        continue
                    told = coupled
                if not _tie_lost(problem, funded, q, r, lo):
                    return told
        new = np.maximum(old - ev.rho * u, 0.0)
        bud[s] = new
        after.append(new)
        projects, lens = problem.neighbours(w)
        delta = np.repeat((new - old) * ws, lens)
        totals = totals + np.bincount(projects, weights=delta, minlength=problem.m)
        if lo is not None:
            bud_lo[s] = lo.after[offset : offset + len(s)]
            if slopes:
                alpha[s] = np.where(rich_lo & ~poor_up, alpha[s] + pi_lo * u, 0.0)
                beta[s] = np.where(poor_up, 0.0, beta[s] + pi_hi * u)
        offset += len(s)
    if lo is not None:
        for q in np.nonzero(alive)[0].tolist():  # sums afresh, not the running totals
            sq, need = problem.supp[q], cost[q] - margin[q]
            if not float(np.dot(problem.wsf[q], bud[sq])) < need:
                if not slopes:
                    return _NOTHING
                # Where the slopes would let q's supporters reach its cost: aim there.
                at_lo = float(np.dot(problem.wsf[q], bud_lo[sq]))
                slope = float(np.dot(problem.wsf[q], beta[sq]))
                return _Failed((need - at_lo) / slope if slope > 0 and at_lo < need else 0.0)
    return _Replay(x, rho_out, np.concatenate([np.zeros(0), *after]))


def _coupled(
    problem: MESProblem,
    q: int,
    bud_lo: FloatArray,
    beta: FloatArray,
    rho: float,
    pi_lo: float,
    span: float,
    first: float,
    need: float,
    eps: float,
) -> _Failed | None:
    """The coupled bound (above) for rival ``q`` at the winner's raised price ``rho`` at lo:
    None if q's payment stays below ``need`` at every start from ``lo + first`` to
    ``lo + span``; else what the bound tells."""
    sq = problem.supp[q]
    b = bud_lo[sq]
    share = rho * problem.uf[q]
    phi = float(np.dot(problem.wsf[q], np.minimum(b, share)))
    rich = b >= share * (1 + _CLASS_TOL) + eps
    sigma = float(np.dot(problem.wsf[q][~rich], beta[sq][~rich]))
    sigma -= pi_lo * float(np.dot(problem.wuf[q], rich))
    if phi + (span if sigma > 0 else min(first, span)) * sigma < need:
        return None
    return _Failed(
        (need - phi) / sigma if sigma > 0 and phi < need else 0.0,
        (phi - need) / -sigma if sigma < 0 else 0.0,
    )


def _pay(
    problem: MESProblem, w: int, bud: FloatArray, x: float
) -> tuple[float, FloatArray, FloatArray] | None:
    """Fund ``w`` at budgets ``bud`` (changed in place) in MES started at ``x``: its price,
    raised by a bound on its rounding error, and its supporters' budgets before and after
    (None if the price is too close to call in float)."""
    ev = problem._eval(w, bud, TOL * max(x, 1.0))
    if not isinstance(ev, _Eval):
        return None
    share = ev.rho * problem.uf[w]
    old = ev.budgets
    rich_u = float(np.dot(problem.wuf[w], old >= share))
    if rich_u <= 0:
        return None
    new = np.maximum(old - share, 0.0)
    bud[problem.supp[w]] = new
    # Rounding bound: the price is (cost - what the poor pay) / rich utility.
    bound = 1e-9 * (problem.costf[w] + x * problem.wsum[w]) / rich_u
    return ev.rho * (1 + 1e-8) + bound, old, new


def _tie_lost(problem: MESProblem, funded: Sequence[int], q: int, r: int, lo: _Replay) -> bool:
    """Whether ``q`` loses round ``r`` to its winner at every start from ``lo`` on, both keeping
    the equal share: every supporter of each has, before the round, at least that share at
    ``lo`` (so at every larger start), so both prices are exactly cost/utility; compare them
    exactly, then the tie-break rank. (Rare: the budgets at ``lo`` are replayed again.)"""
    w = funded[r]
    before = np.full(problem.G, lo.start)
    for earlier in funded[:r]:
        if _pay(problem, earlier, before, lo.start) is None:
            return False
    for j in (q, w):
        share = (problem.costf[j] / problem.utotf[j]) * problem.uf[j]
        if not bool(np.all(before[problem.supp[j]] >= share * (1 + _MARGIN) + TOL * lo.start)):
            return False
    mine = (problem.costs[q] * problem.utot[w], problem.rank[q])
    theirs = (problem.costs[w] * problem.utot[q], problem.rank[w])
    return mine > theirs


class _Skipper:
    """Passes over add1 steps whose runs provably fund what the current step's run funds.

    From step k it takes the winners at k (from the step, or a run of MES), replays them at k,
    then proves stretches ``gap`` steps ahead, starting with :data:`FIRST_GAP` steps and
    doubling ``gap`` after each proof, each proof starting where the last one ended. A proof
    that fails tells, where the coupled bound failed, the length that bound would prove from
    where it started: the next stretch is that long (rounded down), or half as long when it
    does not tell; under one step the try ends, and the next steps are computed one by one
    (the winners are about to change) until it tries again. Near a change of winners the
    coupled bound proves nearly up to the change, so a try mostly ends a step or two before it.

    When to try again is decided by counting, never by timing: a replay costs about what a
    step costs, a run of MES with records about :data:`RUN_COST` steps. A try that passed over
    more steps than it cost is followed by another soon; one that did not waits longer. And
    since a try ends where the proofs stop, the next one waits for the winners to change (or,
    without the compiled module, the cost: the sign that the winners did) or for :data:`RETRY`
    steps, whichever comes first: trying again with the same winners just before their change
    mostly fails.
    """

    RUN_COST = 3
    WAIT_OK = 1
    WAIT_AFTER_GAIN = 4
    RETRY = 12
    FIRST_GAP = 128

    def __init__(self, problem: MESProblem, budget: int, step: int, voters: int) -> None:
        self.problem = problem
        self.budget = budget
        self.step = step
        self.voters = voters
        self.unit = step / voters  # one step, in start units
        self.wait = 4  # steps computed one by one before the next try
        self.next_try = 0
        self.ended = -1  # where the last try ended
        self.resume = -1  # where a near tie at the end of the last try is resolved
        self.skipped = 0  # steps passed over (for tests and benchmarks)
        self.replays = 0  # replays made (for tests and benchmarks)
        self.gain = 0  # steps passed over less what the tries cost, in steps, so far

    def start(self, k: int) -> Fraction:
        return Fraction(self.budget + k * self.step, self.voters)

    def due(self, k: int, changed_at: int) -> bool:
        """Whether to try at step ``k``; ``changed_at`` is the last step whose winners (or
        cost) differ from the step before it."""
        if k < self.next_try:
            return False
        return (
            self.ended < 0
            or changed_at > self.ended
            or k >= self.ended + self.RETRY
            or 0 <= self.resume <= k
        )

    def skip(self, k: int, funded: list[int] | None = None) -> tuple[int, list[int]]:
        """The last step of a proved stretch from ``k`` (``k`` itself when none is), and the
        winners at ``k`` (``funded`` if given: those of step k)."""
        problem = self.problem
        runs = 0
        if funded is None:
            funded = problem.run(self.start(k)).funded
            runs = 1
        got = _prove(problem, funded, self.start(k))  # add1 computed step k, or ran MES there
        replays = 1
        position, gap = k, self.FIRST_GAP
        lo = got if isinstance(got, _Replay) else None
        self.resume = -1
        while lo is not None and gap >= 2:
            got = _prove(problem, funded, self.start(position + gap), lo, self.unit * (1 - 1e-9))
            replays += 1
            if isinstance(got, _Replay):
                position, lo = position + gap, got
                gap *= 2
                continue
            # Aim at the length the bound would prove; halve where it tells nothing.
            aim = int(got.length / self.unit) if got.length >= 0 else gap
            gap = aim if aim < gap else gap // 2
            if gap < 2 and got.later > 0:
                # A near tie at lo that the bound would prove resolved a little later: try
                # again from there (the steps before it are computed one by one).
                self.resume = position + 1 + int(got.later / self.unit)
        skipped = position - k
        self.skipped += skipped
        self.replays += replays
        # Worth it (the steps passed over outnumber what the try cost, in steps): try again
        # soon. Little or nothing gained: wait longer, much longer when the try cost more
        # than it saved (a unit not small enough for the bound).
        saved = skipped - replays - self.RUN_COST * runs
        self.gain += saved
        if saved <= 0 and self.gain > 0:
            # Nothing gained this time, but much so far (near a change of winners, where the
            # try ended within a step or two of it): a short wait.
            self.wait = min(2 * self.wait, self.WAIT_AFTER_GAIN)
        elif saved <= 0:
            self.wait = min(4 * self.wait, 1024)
        elif skipped >= 32:
            self.wait = self.WAIT_OK
        else:
            self.wait = min(2 * self.wait, 32)
        self.next_try = position + self.wait
        self.ended = position
        return position, funded
