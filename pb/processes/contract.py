"""The upfront contract of a process as frozen rule objects.

``Contract.of(process)`` is what the process page renders, and the very same objects
check actions later: ``Eligibility.check`` when someone asks for a voting code,
``contract.ballot_rules(area)`` (a ``pb.tally.BallotRules``) when a ballot is cast, and
``contract.counting`` when the ballots are tallied. Nothing here touches the database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from pb.processes.models import (
    BallotType,
    CodeChannel,
    Connection,
    CountingRule,
    InfluenceLevel,
    PhaseKind,
    Process,
    TieBreak,
)
from pb.tally import BallotRules, seed_from_text


@dataclass(frozen=True)
class Violation:
    """A broken rule, language-neutral: a code and the numbers a message needs."""

    code: str
    params: tuple[tuple[str, object], ...] = ()

    def param(self, name: str) -> object:
        return dict(self.params)[name]


@dataclass(frozen=True)
class Eligibility:
    """Who may take part. Connections combine with OR; age is checked against the date of
    voting (or today)."""

    min_age: int
    connections: frozenset[Connection]
    other_connection_sv: str = ""
    other_connection_en: str = ""
    area_restricted: bool = False
    code_channels: frozenset[CodeChannel] = frozenset()

    def check(
        self,
        *,
        age: int | None,
        connections: set[Connection] | frozenset[Connection],
        area: str | None = None,
        areas: tuple[str, ...] = (),
    ) -> list[Violation]:
        problems = []
        if age is None or age < self.min_age:
            problems.append(Violation("too_young", (("min_age", self.min_age),)))
        if not (set(connections) & self.connections):
            problems.append(Violation("no_connection"))
        if self.area_restricted and areas and area not in areas:
            problems.append(Violation("no_area"))
        return problems


@dataclass(frozen=True)
class Counting:
    """How ballots are counted: a ``pb.tally`` rule name, its tie-break and lottery seed."""

    rule: CountingRule
    tie_break: TieBreak
    lottery_seed: str | None = None

    @property
    def seed(self) -> int | None:
        """The ``seed`` to pass to ``pb.tally.tally``: the published text seed through
        ``pb.tally.seed_from_text`` (the conversion ``pb tally --seed TEXT`` uses, so anyone
        can re-run the draw), or None without a seed."""
        return None if self.lottery_seed is None else seed_from_text(self.lottery_seed)


@dataclass(frozen=True)
class PhaseSpan:
    kind: PhaseKind
    starts_at: dt.datetime
    ends_at: dt.datetime


@dataclass(frozen=True)
class AreaBudget:
    """One area: its own election with its own budget (and its own ``BallotRules``).
    ``whole_municipality`` marks the area that covers the whole municipality, beside the
    districts (at most one): a voter votes there and in one district."""

    slug: str
    name: str
    budget: int
    id: int | None = None
    whole_municipality: bool = False


@dataclass(frozen=True)
class BallotSpec:
    """The ballot as the official set it; ``rules_for(budget)`` gives the tally's rules."""

    ballot_type: BallotType
    max_projects: int | None = None
    min_projects: int | None = None
    min_budget_share_pct: int | None = None
    points_total: int | None = None
    max_points_per_project: int | None = None

    def rules_for(self, budget: int) -> BallotRules:
        """The ``pb.tally`` rules that check a ballot in an election with this budget."""
        min_cost = None
        if self.min_budget_share_pct:
            # Whole SEK rounded up: "at least 50 % of 1 000 001 kr" is 500 001 kr.
            min_cost = Decimal(-(-budget * self.min_budget_share_pct // 100))
        if self.ballot_type == BallotType.CUMULATIVE:
            return BallotRules(
                ballot_type="cumulative",
                min_projects=self.min_projects,
                max_projects=self.max_projects,
                max_points=self.max_points_per_project or self.points_total,
                max_total_points=self.points_total,
            )
        return BallotRules(
            ballot_type="approval",
            min_projects=self.min_projects,
            max_projects=self.max_projects,
            max_total_cost=Decimal(budget)
            if self.ballot_type == BallotType.APPROVAL_BUDGET
            else None,
            min_total_cost=min_cost,
        )


@dataclass(frozen=True)
class Contract:
    influence: InfluenceLevel
    budget: int
    areas: tuple[AreaBudget, ...]
    phases: tuple[PhaseSpan, ...]
    eligibility: Eligibility
    ballot: BallotSpec
    counting: Counting
    decision_date: dt.date | None = None
    categories: tuple[str, ...] = field(default=())

    @classmethod
    def of(cls, process: Process) -> Contract:
        return cls(
            influence=process.influence_level,
            budget=process.budget,
            areas=tuple(
                AreaBudget(a.slug, a.name, a.budget, a.id, a.whole_municipality)
                for a in process.areas
            ),
            phases=tuple(
                PhaseSpan(p.kind, p.starts_at, p.ends_at)
                for p in sorted(process.phases, key=lambda p: p.kind.order)
            ),
            eligibility=Eligibility(
                min_age=process.min_age,
                connections=frozenset(Connection(c) for c in process.connections),
                other_connection_sv=process.other_connection_sv,
                other_connection_en=process.other_connection_en,
                area_restricted=process.area_restricted,
                code_channels=frozenset(CodeChannel(c) for c in process.code_channels),
            ),
            ballot=BallotSpec(
                ballot_type=process.ballot_type,
                max_projects=process.max_projects,
                min_projects=process.min_projects,
                min_budget_share_pct=process.min_budget_share_pct,
                points_total=process.points_total,
                max_points_per_project=process.max_points_per_project,
            ),
            counting=Counting(process.counting_rule, process.tie_break, process.lottery_seed),
            decision_date=process.decision_date,
            categories=tuple(c.key for c in process.categories),
        )

    def area(self, key: AreaBudget | int | str) -> AreaBudget:
        """An area by itself, its id or its slug; ``KeyError`` if the process has no such
        area."""
        for area in self.areas:
            if area == key or area.id == key or area.slug == key:
                return area
        raise KeyError(key)

    @property
    def whole_area(self) -> AreaBudget | None:
        """The area that covers the whole municipality, if there is one."""
        return next((a for a in self.areas if a.whole_municipality), None)

    @property
    def districts(self) -> tuple[AreaBudget, ...]:
        """The other areas; a voter votes in one of them (and in ``whole_area``)."""
        return tuple(a for a in self.areas if not a.whole_municipality)

    def budget_for(self, area: AreaBudget | int | str | None) -> int:
        """The budget of one election: an area's own, or the total when there are no areas."""
        if area is None:
            if self.areas:
                raise KeyError("this process has areas: each is its own election")
            return self.budget
        return self.area(area).budget

    def ballot_rules(self, area: AreaBudget | int | str | None = None) -> BallotRules:
        """The rules every ballot in this area is checked against: each area is its own
        election with its own budget. ``area`` (the area, its id or its slug) is required
        when the process has areas; without areas there is one election with the total
        budget."""
        return self.ballot.rules_for(self.budget_for(area))

    def elections(self) -> tuple[tuple[AreaBudget | None, BallotRules], ...]:
        """Every election of the process with its rules: one per area, or one in all."""
        if not self.areas:
            return ((None, self.ballot_rules()),)
        return tuple((a, self.ballot_rules(a)) for a in self.areas)
