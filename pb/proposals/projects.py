"""The ballot's projects: the one module that adds, removes, orders and moves them.

A project is a proposal accepted onto the ballot (``review`` in ``pb.moderation`` calls
``add_from_proposal``; a withdrawal calls ``remove``). Nothing else writes ``projects`` rows.

Rules kept here:

- Once the process is frozen (voting has opened, or an admin froze the rules) the ballot
  does not change: every function refuses with ``BallotFrozen``.
- When the process has areas, every project belongs to exactly one of them: each area is
  its own election with its own budget. A proposal without an area goes to the area that
  covers the whole municipality, if the process has one; otherwise it is refused
  (``ProjectNeedsArea``). A project's area is never silently lost: the process edit asks
  ``guard_areas`` (below) before it removes an area, and the database refuses to delete an
  area that projects or proposals still belong to.
- A project never costs more than the budget it competes for (its area's, or the process's
  where there are no areas): no ballot type lets a voter choose it within that budget and
  no counting rule can fund it, so ``add_from_proposal`` and ``move`` refuse it
  (``CostAboveBudget``) whatever the ballot type (docs/proposals.md).
- ``position`` is the ballot order within the process, unique per process (a constraint).
  A new project takes ``max(position) + 1``, computed inside its own INSERT while the
  process row is locked (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite has one writer at a
  time), so two officials accepting at the same moment get different positions and the
  unique constraint is the backstop, never the arbiter. A removal leaves a gap; ``reorder``
  writes positions in two passes so no intermediate state breaks the constraint.

Functions take the session, flush and raise ``pb.errors`` kinds (``Conflict``, ``Invalid``);
the caller commits once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from pb.audit import AuditAction, record
from pb.errors import Conflict, Invalid
from pb.i18n import sek
from pb.processes import services as process_services
from pb.processes.models import Area, Process
from pb.proposals.models import Project, Proposal


class BallotFrozen(Conflict):
    message = _l("Voting has opened, so the ballot can no longer change. Nothing was saved.")


class AlreadyOnBallot(Conflict):
    message = _l("This proposal is already on the ballot.")


class ProjectNeedsArea(Invalid):
    message = _l(
        "This process has areas and none for the whole municipality, so every project on "
        "the ballot belongs to one of them. Choose this one's area (on its own review page). "
        "Nothing was saved."
    )


class UnknownArea(Invalid):
    message = _l("Choose one of this process's areas. Nothing was saved.")


class CostAboveBudget(Invalid):
    """The official cost is more than the budget the project would compete for."""

    def __init__(self, cost: int, budget: int, area: str | None) -> None:
        super().__init__(LazyString(self._text, cost, budget, area))
        self.cost, self.budget, self.area = cost, budget, area

    @staticmethod
    def _text(cost: int, budget: int, area: str | None) -> str:
        if area:
            return str(_(
                "The official cost (%(cost)s) is more than the budget of %(area)s "
                "(%(budget)s): nobody could choose the project within the budget, and no "
                "counting rule could fund it. Check the cost, or the area on the proposal's "
                "own review page. Nothing was saved.", cost=sek(cost), budget=sek(budget),
                area=area,
            ))  # fmt: skip
        return str(_(
            "The official cost (%(cost)s) is more than the whole budget of the process "
            "(%(budget)s): nobody could choose the project within the budget, and no counting "
            "rule could fund it. Check the cost. Nothing was saved.",
            cost=sek(cost), budget=sek(budget),
        ))  # fmt: skip


def check_cost(process: Process, area: Area | None, cost: int) -> None:
    """Refuse (``CostAboveBudget``) a project whose ``cost`` is more than the budget of its
    ``area`` (None: the process has no areas, so the process's budget)."""
    budget = area.budget if area is not None else process.budget
    if budget is not None and cost > budget:
        raise CostAboveBudget(cost, budget, area.name if area is not None else None)


class BadOrder(Invalid):
    message = _l("The new order must list projects of this ballot, each once. Nothing was saved.")


def _lock(session: Session, process: Process) -> None:
    """Serialise changes to one process's ballot (a row lock; a no-op on SQLite, whose
    writers take turns anyway)."""
    session.execute(sa.select(Process.id).where(Process.id == process.id).with_for_update())


def _check_open(process: Process, now: dt.datetime) -> None:
    if process.is_frozen(now):
        raise BallotFrozen()


def _check_project(process: Process, project: Project) -> None:
    if project.process_id != process.id:
        raise BadOrder()


def area_for(process: Process, area_id: int | None) -> Area | None:
    """The area a project with ``area_id`` (None: none given) belongs to, by the rules above.
    Raises ``UnknownArea`` and ``ProjectNeedsArea``."""
    if not process.areas:
        if area_id is not None:
            raise UnknownArea()
        return None
    if area_id is None:
        whole = process.whole_area
        if whole is None:
            raise ProjectNeedsArea()
        return whole
    area = next((a for a in process.areas if a.id == area_id), None)
    if area is None:
        raise UnknownArea()
    return area


def ballot(session: Session, process: Process, area: Area | None = None) -> list[Project]:
    """The process's projects in ballot order; only those of ``area`` if given."""
    query = sa.select(Project).where(Project.process_id == process.id)
    if area is not None:
        query = query.where(Project.area_id == area.id)
    return list(session.scalars(query.order_by(Project.position, Project.id)))


def set_texts(session: Session, process: Process, project: Project, *, title_en: str,
              easy_sv: str, easy_en: str, actor: Any, now: dt.datetime) -> bool:  # fmt: skip
    """Set a project's English title and its easy-to-read summaries: presentation, not rules
    (the official ``title`` stays what the rules fingerprint and the pabulib file name), but
    like the summaries the English title is kept as it is once the ballot freezes, since
    voters may already have read it. A changed English title is audited as
    ``project.title-en``, changed summaries as ``project.easy``, each with every changed text
    before and after; a save that changes nothing records nothing. Returns whether anything
    changed. Raises ``BallotFrozen``."""
    _check_open(process, now)
    _check_project(process, project)
    changed = False
    for action, after in (
        (AuditAction.PROJECT_TITLE_EN, {"title_en": title_en.strip()}),
        (AuditAction.PROJECT_EASY, {"easy_sv": easy_sv.strip(), "easy_en": easy_en.strip()}),
    ):
        diff = {k: [getattr(project, k), v] for k, v in after.items() if getattr(project, k) != v}
        if not diff:
            continue
        for key, value in after.items():
            setattr(project, key, value)
        record(
            session, action, actor=actor, subject=project, process_id=process.id,
            data={"project": project.code, **diff},
        )  # fmt: skip
        changed = True
    if changed:
        session.flush()
    return changed


def add_from_proposal(
    session: Session,
    process: Process,
    proposal: Proposal,
    *,
    cost: int,
    now: dt.datetime,
    area_id: int | None = None,
) -> Project:
    """Put an accepted proposal on the ballot at the end, with the official ``cost``, in
    ``area_id`` or else the proposal's own area (see ``area_for``). The caller records the
    decision in the audit log. Raises ``BallotFrozen``, ``AlreadyOnBallot``,
    ``UnknownArea``, ``ProjectNeedsArea`` and ``CostAboveBudget``."""
    _check_open(process, now)
    area = area_for(process, area_id if area_id is not None else proposal.area_id)
    check_cost(process, area, cost)
    _lock(session, process)
    exists = session.scalar(sa.select(Project.id).where(Project.proposal_id == proposal.id))
    if exists is not None:
        raise AlreadyOnBallot()
    next_position = (
        sa.select(sa.func.coalesce(sa.func.max(Project.position), -1) + 1)
        .where(Project.process_id == process.id)
        .scalar_subquery()
    )
    project = Project(
        process_id=process.id, area_id=area.id if area else None, proposal_id=proposal.id,
        code=str(proposal.id), title=proposal.title, cost=cost, created_at=now,
    )  # fmt: skip
    project.position = next_position  # computed by the INSERT
    session.add(project)
    session.flush()
    return project


def remove(session: Session, process: Process, project: Project, now: dt.datetime) -> str:
    """Take a project off the ballot (its proposal was withdrawn). Returns its code for the
    caller's audit entry. Raises ``BallotFrozen``."""
    _check_open(process, now)
    _check_project(process, project)
    _lock(session, process)
    code = project.code
    session.delete(project)
    session.flush()
    return code


def reorder(
    session: Session, process: Process, project_ids: Sequence[int], actor: Any, now: dt.datetime
) -> None:
    """Put the listed projects in this order, in the positions they held between them (so
    one area's projects can be ordered without touching the others'). Audited. Raises
    ``BallotFrozen`` and ``BadOrder``."""
    _check_open(process, now)
    _lock(session, process)
    ids = list(project_ids)
    if not ids or len(set(ids)) != len(ids):
        raise BadOrder()
    rows = {
        p.id: p
        for p in session.scalars(
            sa.select(Project).where(Project.process_id == process.id, Project.id.in_(ids))
        )
    }
    if len(rows) != len(ids):
        raise BadOrder()
    slots = sorted(p.position for p in rows.values())
    before = [p.code for p in sorted(rows.values(), key=lambda p: p.position)]
    after = [rows[i].code for i in ids]
    if before == after:
        return
    for n, project in enumerate(rows.values()):  # out of the way of the unique constraint
        project.position = -1 - n
    session.flush()
    for pid, slot in zip(ids, slots, strict=True):
        rows[pid].position = slot
    record(
        session, AuditAction.PROJECT_REORDER, actor=actor, subject_type="processes",
        subject_id=process.id, process_id=process.id, data={"before": before, "after": after},
    )  # fmt: skip
    session.flush()


def move(
    session: Session,
    process: Process,
    project: Project,
    area_id: int,
    actor: Any,
    now: dt.datetime,
) -> None:
    """Move a project (and its proposal) to another area of the process. Audited. Raises
    ``BallotFrozen``, ``UnknownArea`` and ``CostAboveBudget``."""
    _check_open(process, now)
    _check_project(process, project)
    area = area_for(process, area_id)
    if area is None or area.id == project.area_id:
        return
    check_cost(process, area, project.cost)
    _lock(session, process)
    before = project.area.name if project.area else None
    project.area_id = area.id
    if project.proposal is not None:
        project.proposal.area_id = area.id
    record(
        session, AuditAction.PROJECT_MOVE, actor=actor, subject=project, process_id=process.id,
        data={"project": project.code, "area": [before, area.name]},
    )  # fmt: skip
    session.flush()


# -- what the process edit asks before it changes areas -----------------------------------


@process_services.area_guard
def guard_areas(session: Session, process: Process, removed: Sequence[Area],
                first_areas: bool) -> None:  # fmt: skip
    """Refuse to remove an area that projects or proposals belong to, and to give areas to
    a process whose ballot already has projects without one."""
    for area in removed:
        projects = _count(session, Project, Project.area_id == area.id)
        proposals = _count(session, Proposal, Proposal.area_id == area.id)
        if projects or proposals:
            raise process_services.AreaInUse(
                _l(
                    "The area %(name)s cannot be removed while projects on the ballot or "
                    "proposals belong to it (projects: %(projects)s, proposals: "
                    "%(proposals)s). Move them to another area first. Nothing was saved.",
                    name=area.name, projects=projects, proposals=proposals,
                )
            )  # fmt: skip
    if first_areas and process.id is not None:
        unplaced = _count(
            session, Project, Project.process_id == process.id, Project.area_id.is_(None)
        )
        if unplaced:
            raise process_services.AreaInUse(
                _l(
                    "Projects on this ballot have no area (%(n)s). When a process has areas "
                    "every project belongs to exactly one, so areas cannot be added now. "
                    "Nothing was saved.",
                    n=unplaced,
                )
            )


@process_services.budget_guard
def guard_budgets(session: Session, process: Process) -> None:
    """Refuse an edit that would leave a project on the ballot costing more than its area's
    budget (or, without areas, the process's): nobody could choose it, no rule fund it
    (the same rule as ``check_cost`` when the project is reviewed)."""
    if process.id is None:
        return
    areas = {a.id: a for a in process.areas if a.id is not None}
    rows = session.execute(
        sa.select(Project.code, Project.cost, Project.area_id)
        .where(Project.process_id == process.id)
        .order_by(Project.cost.desc())
    )
    for code, cost, area_id in rows:
        area = areas.get(area_id) if area_id is not None else None
        budget = area.budget if area is not None else process.budget
        if budget is None or cost is None or cost <= budget:
            continue
        if area is not None:
            raise process_services.BudgetBelowBallot(
                _l(
                    "The budget of %(area)s (%(budget)s) would be less than the cost of "
                    "project %(code)s on its ballot (%(cost)s): nobody could choose it within "
                    "the budget. Keep the budget at least %(cost)s, or change the project's "
                    "cost on its review page first. Nothing was saved.",
                    area=area.name, budget=sek(budget), code=code, cost=sek(cost),
                ),
                area.name,
            )  # fmt: skip
        raise process_services.BudgetBelowBallot(
            _l(
                "The budget (%(budget)s) would be less than the cost of project %(code)s on "
                "the ballot (%(cost)s): nobody could choose it within the budget. Keep the "
                "budget at least %(cost)s, or change the project's cost on its review page "
                "first. Nothing was saved.",
                budget=sek(budget), code=code, cost=sek(cost),
            ),
            None,
        )  # fmt: skip


def _count(session: Session, model: Any, *where: Any) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0)
