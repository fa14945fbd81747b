"""The data of a count: projects, ballots, ballot rules, elections and outcomes.

Everything here is a frozen dataclass. Amounts (costs, budgets) are :class:`decimal.Decimal`
values parsed exactly from their text, so ``921012.06`` is exactly 921012.06; the rules work on
integers in minor units (see :func:`Election.amount_scale`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, Literal

BallotType = Literal["approval", "choose-1", "cumulative", "ordinal"]
BALLOT_TYPES: tuple[BallotType, ...] = ("approval", "choose-1", "cumulative", "ordinal")

Amount = Decimal | int | str | float
"""What the constructors accept for an amount. Floats are converted through ``repr`` so that
``0.1`` means 0.1; prefer strings or Decimals."""


def to_decimal(value: Amount) -> Decimal:
    """Convert an amount to an exact, finite :class:`Decimal` (``ValueError`` otherwise)."""
    if isinstance(value, bool):
        raise ValueError(f"not an amount: {value!r}")
    try:
        result = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, ValueError, TypeError):
        raise ValueError(f"not an amount: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    return result


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


@dataclass(frozen=True)
class Project:
    """A project on the ballot. ``id`` is a string and is compared as a string."""

    id: str
    cost: Decimal
    name: str = ""
    extra: tuple[tuple[str, str], ...] = ()
    """Other PROJECTS columns as (column, text) pairs, in file order (e.g. ``selected``)."""

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise ValueError(f"project id must be a non-empty string: {self.id!r}")
        object.__setattr__(self, "cost", to_decimal(self.cost))
        if self.cost < 0:
            raise ValueError(f"project {self.id}: negative cost {self.cost}")

    def get(self, column: str, default: str | None = None) -> str | None:
        """The text of an extra column, or ``default``."""
        for key, value in self.extra:
            if key == column:
                return value
        return default


def ballot_utilities(
    projects: tuple[str, ...], points: tuple[int, ...] | None, ballot_type: BallotType
) -> dict[str, int]:
    """:meth:`Ballot.utilities` of a ballot given by its fields."""
    result: dict[str, int] = {}
    if ballot_type == "cumulative":
        points = points if points is not None else (1,) * len(projects)
        for pid, pts in zip(projects, points, strict=True):
            if pid not in result and pts > 0:
                result[pid] = pts
    elif ballot_type == "ordinal":
        k = len(dict.fromkeys(projects))
        for pid in projects:
            if pid not in result:
                result[pid] = k - len(result)
    else:
        for pid in projects:
            result[pid] = 1
    return result


@dataclass(frozen=True)
class Ballot:
    """One voter's ballot.

    ``projects`` lists project ids: for approval the approved projects (order irrelevant), for
    ordinal the ranking (most preferred first), for cumulative the projects given points.
    ``points`` is given for cumulative ballots only, in the same order as ``projects``.
    """

    projects: tuple[str, ...]
    points: tuple[int, ...] | None = None
    voter_id: str = ""
    extra: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if type(self.projects) is not tuple:
            object.__setattr__(self, "projects", tuple(self.projects))
        if self.points is not None:
            if type(self.points) is not tuple:
                object.__setattr__(self, "points", tuple(self.points))
            if len(self.points) != len(self.projects):
                raise ValueError("a ballot needs as many points as projects")

    def utilities(self, ballot_type: BallotType) -> dict[str, int]:
        """Project id -> points given by this ballot: 1 per approval, the points of a cumulative
        ballot, positional points ``k, k-1, ..., 1`` for an ordinal ballot of length ``k``
        (Kraków's 3/2/1). A repeated project counts once (its first occurrence)."""
        return ballot_utilities(self.projects, self.points, ballot_type)


Violation = tuple[str, dict[str, Any]]
"""A language-neutral ballot-rule violation: a code and its numbers, e.g.
``("over_budget", {"total": Decimal("120"), "limit": Decimal("100")})``."""


@dataclass(frozen=True)
class BallotRules:
    """What a valid ballot looks like (META ``vote_type``, ``min_length``, ``max_length``,
    ``min_sum_cost``, ``max_sum_cost``, ``min_points``, ``max_points``, ``min_sum_points``,
    ``max_sum_points``). ``None`` means no limit. Frozen and hashable."""

    ballot_type: BallotType = "approval"
    min_projects: int | None = None
    max_projects: int | None = None
    min_total_cost: Decimal | None = None
    max_total_cost: Decimal | None = None
    min_points: int | None = None
    max_points: int | None = None
    min_total_points: int | None = None
    max_total_points: int | None = None

    def __post_init__(self) -> None:
        if self.ballot_type not in BALLOT_TYPES:
            raise ValueError(f"unknown ballot type {self.ballot_type!r}")
        for name in ("min_total_cost", "max_total_cost"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, to_decimal(value))

    @property
    def effective_max_projects(self) -> int | None:
        return 1 if self.ballot_type == "choose-1" else self.max_projects

    def check(
        self, ballot: Ballot, projects: Mapping[str, Project] | Iterable[Project]
    ) -> list[Violation]:
        """Every way ``ballot`` breaks these rules, as ``(code, numbers)`` pairs; empty if valid.

        Codes: ``unknown_project``, ``duplicate_project``, ``too_few_projects``,
        ``too_many_projects``, ``under_min_cost``, ``over_budget``, ``points_missing``,
        ``points_not_positive``, ``too_few_points``, ``too_many_points``,
        ``too_few_total_points``, ``too_many_total_points``.
        """
        by_id = (
            dict(projects)
            if isinstance(projects, Mapping)
            else {project.id: project for project in projects}
        )
        found: list[Violation] = []
        seen: set[str] = set()
        for pid in ballot.projects:
            if pid in seen:
                found.append(("duplicate_project", {"project": pid}))
            seen.add(pid)
            if pid not in by_id:
                found.append(("unknown_project", {"project": pid}))
        count = len(seen)
        if self.min_projects is not None and count < self.min_projects:
            found.append(("too_few_projects", {"count": count, "min": self.min_projects}))
        max_projects = self.effective_max_projects
        if max_projects is not None and count > max_projects:
            found.append(("too_many_projects", {"count": count, "max": max_projects}))
        total = sum((by_id[pid].cost for pid in seen if pid in by_id), Decimal(0))
        if self.min_total_cost is not None and total < self.min_total_cost:
            found.append(("under_min_cost", {"total": total, "min": self.min_total_cost}))
        if self.max_total_cost is not None and total > self.max_total_cost:
            found.append(("over_budget", {"total": total, "limit": self.max_total_cost}))
        if self.ballot_type == "cumulative":
            if ballot.points is None:
                found.append(("points_missing", {}))
            else:
                for pid, pts in zip(ballot.projects, ballot.points, strict=True):
                    if pts <= 0:
                        found.append(("points_not_positive", {"project": pid, "points": pts}))
                    if self.min_points is not None and pts < self.min_points:
                        found.append(
                            (
                                "too_few_points",
                                {"project": pid, "points": pts, "min": self.min_points},
                            )
                        )
                    if self.max_points is not None and pts > self.max_points:
                        found.append(
                            (
                                "too_many_points",
                                {"project": pid, "points": pts, "max": self.max_points},
                            )
                        )
                points_total = sum(ballot.points)
                if self.min_total_points is not None and points_total < self.min_total_points:
                    found.append(
                        (
                            "too_few_total_points",
                            {"total": points_total, "min": self.min_total_points},
                        )
                    )
                if self.max_total_points is not None and points_total > self.max_total_points:
                    found.append(
                        (
                            "too_many_total_points",
                            {"total": points_total, "max": self.max_total_points},
                        )
                    )
        return found

    def describe(self) -> dict[str, Any]:
        """The rules as plain data for a page to render (``None`` = no limit)."""
        return {
            "ballot_type": self.ballot_type,
            "min_projects": self.min_projects,
            "max_projects": self.effective_max_projects,
            "min_total_cost": self.min_total_cost,
            "max_total_cost": self.max_total_cost,
            "min_points": self.min_points,
            "max_points": self.max_points,
            "min_total_points": self.min_total_points,
            "max_total_points": self.max_total_points,
            "ranked": self.ballot_type == "ordinal",
            "uses_points": self.ballot_type == "cumulative",
        }


@dataclass(frozen=True)
class Election:
    """A count's input: projects, budget, ballots and the ballot rules.

    ``min_project_score`` is pabulib's ``min_project_score_threshold``: a project with a lower
    score cannot win under the greedy rules. ``meta`` keeps every META row of a file (as text,
    in order) so that writing a file back loses nothing.
    """

    projects: tuple[Project, ...]
    budget: Decimal
    ballots: tuple[Ballot, ...] = ()
    rules: BallotRules = field(default_factory=BallotRules)
    min_project_score: Decimal | None = None
    meta: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "projects", tuple(self.projects))
        object.__setattr__(self, "ballots", tuple(self.ballots))
        object.__setattr__(self, "budget", to_decimal(self.budget))
        if self.budget < 0:
            raise ValueError("negative budget")
        if self.min_project_score is not None:
            object.__setattr__(self, "min_project_score", to_decimal(self.min_project_score))
        ids = [project.id for project in self.projects]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate project ids")

    @classmethod
    def build(
        cls,
        projects: Mapping[str, Amount] | Sequence[Project],
        budget: Amount,
        ballots: Iterable[Sequence[str] | Mapping[str, int] | Ballot] = (),
        ballot_type: BallotType = "approval",
        **rules: Any,
    ) -> Election:
        """Convenience constructor for code and tests.

        ``projects`` is ``{id: cost}`` or a list of :class:`Project`; each ballot is a list of
        ids (approval, choose-1, ordinal), a ``{id: points}`` mapping (cumulative) or a
        :class:`Ballot`. Extra keyword arguments go to :class:`BallotRules`, except
        ``min_project_score``.
        """
        if isinstance(projects, Mapping):
            project_list = tuple(
                Project(str(pid), to_decimal(cost)) for pid, cost in projects.items()
            )
        else:
            project_list = tuple(projects)
        ballot_list: list[Ballot] = []
        for index, raw in enumerate(ballots):
            if isinstance(raw, Ballot):
                ballot_list.append(raw)
            elif isinstance(raw, Mapping):
                ballot_list.append(
                    Ballot(tuple(raw), tuple(int(v) for v in raw.values()), voter_id=str(index + 1))
                )
            else:
                ballot_list.append(Ballot(tuple(raw), voter_id=str(index + 1)))
        threshold = rules.pop("min_project_score", None)
        return cls(
            projects=project_list,
            budget=to_decimal(budget),
            ballots=tuple(ballot_list),
            rules=BallotRules(ballot_type=ballot_type, **rules),
            min_project_score=threshold,
        )

    @property
    def ballot_type(self) -> BallotType:
        return self.rules.ballot_type

    def project(self, project_id: str) -> Project:
        for project in self.projects:
            if project.id == project_id:
                return project
        raise KeyError(project_id)

    def meta_value(self, key: str) -> str | None:
        for k, v in self.meta:
            if k == key:
                return v
        return None

    def amount_scale(self) -> int:
        """The power of ten that makes every cost and the budget an integer (1 for whole
        currency units, 100 for cents). Rules compute in these minor units."""
        digits = max([_decimals(p.cost) for p in self.projects] + [_decimals(self.budget), 0])
        return int(10**digits)

    def scores(self) -> dict[str, int]:
        """Project id -> score: approvals, points (cumulative) or positional points (ordinal)."""
        result = {project.id: 0 for project in self.projects}
        for ballot in self.ballots:
            for pid, value in ballot.utilities(self.ballot_type).items():
                if pid in result:
                    result[pid] += value
        return result

    def votes(self) -> dict[str, int]:
        """Project id -> number of ballots that list it (pabulib's ``votes`` column)."""
        result = {project.id: 0 for project in self.projects}
        for ballot in self.ballots:
            for pid in set(ballot.projects):
                if pid in result:
                    result[pid] += 1
        return result


def fraction(value: Decimal) -> Fraction:
    """The exact fraction of a Decimal."""
    return Fraction(value)


@dataclass(frozen=True)
class ProjectResult:
    """One project's line in an outcome. ``explanation`` is an
    :class:`pb.tally.explain.Explanation` (structured, with sv/en sentences)."""

    id: str
    cost: Decimal
    score: int
    selected: bool
    rank: int
    explanation: Any = None
    name: str = ""


@dataclass(frozen=True)
class Outcome:
    """The result of a count.

    ``selected`` lists the funded ids in order of selection; ``projects`` has a
    :class:`ProjectResult` for every project, in the order of the election. ``details`` holds
    rule-specific numbers (e.g. the add1 step and each voter's start budget; the comparison
    counts), as plain data.
    """

    rule: str
    tie_break: str
    budget: Decimal
    spent: Decimal
    selected: tuple[str, ...]
    projects: tuple[ProjectResult, ...]
    seed: int | None = None
    details: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def result(self, project_id: str) -> ProjectResult:
        for result in self.projects:
            if result.id == project_id:
                return result
        raise KeyError(project_id)

    @property
    def selected_set(self) -> frozenset[str]:
        return frozenset(self.selected)
