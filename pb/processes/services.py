"""Creating and changing processes. Every change is audited; frozen rules stay frozen.

Functions flush and raise domain exceptions; the route commits once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from pb.audit import AuditAction, record
from pb.errors import Conflict, Invalid
from pb.fields import YEAR_MAX, YEAR_MIN, in_year_range
from pb.processes.models import (
    Area,
    BallotType,
    Category,
    Phase,
    PhaseKind,
    Process,
    ProcessOfficial,
    TieBreak,
)
from pb.processes.vocab import PHASES
from pb.processes.vocab import name as vocab_name
from pb.text import slugify

# Fields an admin edits through the form; everything else is managed by pb.
EDITABLE_FIELDS = (
    "slug", "published", "title_sv", "title_en", "purpose_sv", "purpose_en", "question_sv",
    "question_en", "influence_level", "decision_body_sv", "decision_body_en", "decision_date",
    "decision_text_sv", "decision_text_en", "budget", "min_age", "connections",
    "other_connection_sv", "other_connection_en", "area_restricted", "code_channels",
    "ballot_type", "max_projects", "min_projects", "min_budget_share_pct", "points_total",
    "max_points_per_project", "counting_rule", "tie_break", "lottery_seed", "easy_sv", "easy_en",
    "image_alt_sv", "image_alt_en",
)  # fmt: skip


class RulesFrozen(Conflict):
    """Voting has opened: the contract can no longer change."""

    message = _l(
        "Voting has opened, so the rules of this process are frozen and cannot be changed. "
        "Nothing was saved."
    )

    def __init__(self, frozen_since: dt.datetime | None) -> None:
        super().__init__()
        self.frozen_since = frozen_since


class SlugTaken(Conflict):
    message = _l("Another process already uses this web address.")


class UnknownAccount(Invalid):
    message = _l("No account has that e-mail address.")


class AlreadyOfficial(Conflict):
    message = _l("That account is already an official of this process: nothing changed.")


class NotAnOfficial(Invalid):
    message = _l("That account is not an official of this process.")


class PhasesInvalid(Invalid):
    """Phases out of order or overlapping, or dates outside the years pb accepts."""


Phases = Mapping[PhaseKind, tuple[dt.datetime, dt.datetime]]


def phase_problem(phases: Phases) -> tuple[PhaseKind, Any] | None:
    """The first phase that cannot be saved and why, or None. Each phase ends after it
    starts, within the years pb accepts, and starts when the phase before it (in the order
    of ``PhaseKind``) has ended or later: phases follow one another without overlapping."""
    previous: tuple[PhaseKind, dt.datetime] | None = None
    for kind in sorted(phases, key=lambda k: k.order):
        start, end = phases[kind]
        if not (in_year_range(start) and in_year_range(end)):
            return kind, _l(
                "Give a date between the years %(min)s and %(max)s.", min=YEAR_MIN, max=YEAR_MAX
            )
        if end <= start:
            return kind, _l("The end must come after the start.")
        if previous is not None and start < previous[1]:
            return kind, _l(
                "The phase “%(phase)s” must start when the phase “%(before)s” ends or later.",
                phase=vocab_name(PHASES, kind),
                before=vocab_name(PHASES, previous[0]),
            )
        previous = (kind, end)
    return None


def check_phases(phases: Phases) -> None:
    """Raises ``PhasesInvalid`` with ``phase_problem``'s message."""
    problem = phase_problem(phases)
    if problem is not None:
        raise PhasesInvalid(problem[1])


class BadAreas(Invalid):
    """The areas sent cannot be saved as they are (a tampered id, two whole-municipality
    areas)."""

    message = _l("The areas could not be saved: reload the page and try again.")


class TwoWholeAreas(BadAreas):
    message = _l("Only one area can cover the whole municipality.")


class AreaInUse(Conflict):
    """An area guard's refusal: rows of a higher layer (projects, proposals) belong to an
    area the edit would remove, or need one it would not give."""


@dataclass(frozen=True)
class AreaChange:
    """One area as the admin form sends it. ``id`` names an existing area of the process
    (renamed in place, its id kept); None makes a new one, or, when another part of pb
    sends only names (the demo), the existing area of that name."""

    name: str
    budget: int
    id: int | None = None
    whole_municipality: bool = False


@dataclass(frozen=True)
class ProcessChanges:
    """Everything the admin form can set, already validated. Areas may be given as
    ``(name, budget)`` pairs. ``image`` is a picture already stored by ``pb.images`` (None
    keeps the current one; ``remove_image`` without a new one takes it away)."""

    fields: dict[str, Any]
    areas: Sequence[AreaChange | tuple[str, int]]
    categories: list[tuple[str, str]]
    phases: dict[PhaseKind, tuple[dt.datetime, dt.datetime]]
    image: str | None = None
    remove_image: bool = False


class PictureNeedsText(Invalid):
    """A picture is shown only with words that say what it shows."""

    message = _l("Describe the picture in Swedish, for people who cannot see it.")


# Higher layers (proposals) keep rows that belong to areas, and this layer cannot import
# them: they register a guard that the edit asks before removing areas, or before giving a
# process its first areas. A guard raises ``AreaInUse`` to refuse.
AreaGuard = Callable[[Session, Process, Sequence[Area], bool], None]
AREA_GUARDS: list[AreaGuard] = []


def area_guard(guard: AreaGuard) -> AreaGuard:
    """Register ``guard(session, process, removed_areas, first_areas)``."""
    AREA_GUARDS.append(guard)
    return guard


class BudgetBelowBallot(Conflict):
    """A budget guard's refusal: the edit would leave a project on the ballot costing more
    than the budget it competes for. ``area`` is the area's name (None: the process's
    budget)."""

    def __init__(self, message: Any, area: str | None) -> None:
        super().__init__(message)
        self.area = area


# Likewise a higher layer (the ballot's projects) registers a guard that every edit asks
# after the new budgets are set; it raises ``BudgetBelowBallot`` to refuse.
BudgetGuard = Callable[[Session, Process], None]
BUDGET_GUARDS: list[BudgetGuard] = []


def budget_guard(guard: BudgetGuard) -> BudgetGuard:
    """Register ``guard(session, process)``, asked after an edit set the budgets."""
    BUDGET_GUARDS.append(guard)
    return guard


# Built once: every page looks its process up, and building the statement (and its cache
# key) costs about a third of the look-up.
_BY_SLUG = sa.select(Process).where(Process.slug == sa.bindparam("slug"))


def get_by_slug(session: Session, slug: str) -> Process | None:
    return session.scalar(_BY_SLUG, {"slug": slug})


def visible(session: Session, slug: str, viewer: Any) -> Process | None:
    """The process if ``viewer`` may see it: published ones to everyone, unpublished ones
    to their officials and admins only (a draft process is being prepared)."""
    process = get_by_slug(session, slug)
    if process is None or (not process.published and not process.is_official(viewer)):
        return None
    return process


def load_process(slug: str) -> Process:
    """The process a request's URL names, as the current user may see it; else 404 (an
    unpublished process does not exist for others). Every page and API route uses this."""
    from flask import abort
    from flask_login import current_user

    from pb.db import get_session

    process = visible(get_session(), slug, current_user)
    if process is None:
        abort(404)
    return process


def _snapshot(process: Process) -> dict[str, Any]:
    snap = {f: getattr(process, f) for f in EDITABLE_FIELDS}
    snap["image"] = process.image
    snap["areas"] = [
        [a.name, a.budget, *(["whole municipality"] if a.whole_municipality else [])]
        for a in process.areas
    ]
    snap["categories"] = [[c.name_sv, c.name_en] for c in process.categories]
    # In UTC: a time read back from the database and the same time from the form (in
    # Stockholm's zone) are one moment, and must not read as a change.
    snap["phases"] = {
        p.kind.value: [p.starts_at.astimezone(dt.UTC).isoformat(),
                       p.ends_at.astimezone(dt.UTC).isoformat()]
        for p in process.phases
    }  # fmt: skip
    return snap


def _apply(session: Session, process: Process, changes: ProcessChanges) -> None:
    check_phases(changes.phases)
    for name, value in changes.fields.items():
        if name not in EDITABLE_FIELDS:
            raise KeyError(name)
        setattr(process, name, value)
    # Settings that only mean something with another one are dropped without it, so the
    # contract never shows (or checks) a seed without a lottery or points without points.
    if process.tie_break != TieBreak.LOTTERY:
        process.lottery_seed = None
    if process.ballot_type != BallotType.CUMULATIVE:
        process.points_total = process.max_points_per_project = None
    if changes.image:
        process.image = changes.image
    elif changes.remove_image:
        process.image = ""
    if not process.image:  # words for a picture that is not there would describe nothing
        process.image_alt_sv = process.image_alt_en = ""
    elif not (process.image_alt_sv or "").strip():
        raise PictureNeedsText()

    _apply_areas(session, process, changes.areas)

    existing_cats = {c.name_sv.lower(): c for c in process.categories}
    new_cats = []
    for pos, (name_sv, name_en) in enumerate(changes.categories):
        cat = existing_cats.pop(name_sv.lower(), None) or Category(key=slugify(name_sv))
        cat.name_sv, cat.name_en, cat.position = name_sv, name_en, pos
        new_cats.append(cat)
    process.categories = new_cats

    by_kind = {p.kind: p for p in process.phases}
    new_phases = []
    for kind, (start, end) in sorted(changes.phases.items(), key=lambda kv: kv[0].order):
        phase = by_kind.pop(kind, None) or Phase(kind=kind)
        phase.starts_at, phase.ends_at = start, end
        new_phases.append(phase)
    process.phases = new_phases
    session.flush()


def _apply_areas(
    session: Session, process: Process, areas: Sequence[AreaChange | tuple[str, int]]
) -> None:
    """Match areas by id (then, for rows without one, by name), so a renamed area keeps its
    id and everything that belongs to it. Removing an area or giving the process its first
    areas is first put to the registered guards. Raises ``BadAreas``, ``TwoWholeAreas`` and
    whatever a guard raises."""
    wanted = [a if isinstance(a, AreaChange) else AreaChange(a[0], a[1]) for a in areas]
    if sum(a.whole_municipality for a in wanted) > 1:
        raise TwoWholeAreas()
    by_id = {a.id: a for a in process.areas}
    ids = [a.id for a in wanted if a.id is not None]
    if len(set(ids)) != len(ids) or any(i not in by_id for i in ids):
        raise BadAreas()
    unclaimed = {a.id: a for a in process.areas if a.id not in ids}
    matched: list[Area | None] = []
    for change in wanted:
        if change.id is not None:
            matched.append(by_id[change.id])
            continue
        same = next((a for a in unclaimed.values() if a.name.lower() == change.name.lower()), None)
        if same is not None:
            del unclaimed[same.id]
        matched.append(same)
    removed = list(unclaimed.values())
    first_areas = bool(wanted) and not process.areas
    if removed or first_areas:
        if process.id is not None:  # one edit of a process's areas at a time
            session.execute(sa.select(Process.id).where(Process.id == process.id).with_for_update())
        for guard in AREA_GUARDS:
            guard(session, process, removed, first_areas)
    slugs = {a.slug for a in process.areas}  # removed ones too: they go after the inserts
    new_areas = []
    for pos, (change, area) in enumerate(zip(wanted, matched, strict=True)):
        if area is None:
            area = Area(slug=_free_slug(slugify(change.name) or "area", slugs))
            slugs.add(area.slug)
        area.name, area.budget, area.position = change.name, change.budget, pos
        area.whole_municipality = change.whole_municipality
        new_areas.append(area)
    process.areas = new_areas


def _free_slug(base: str, taken: set[str]) -> str:
    slug, n = base[:76], 2
    while slug in taken:
        slug, n = f"{base[:72]}-{n}", n + 1
    return slug


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {k: [before.get(k), after[k]] for k in after if before.get(k) != after[k]}


def create_process(session: Session, changes: ProcessChanges, actor: Any) -> Process:
    """Create a process from validated changes. Raises ``SlugTaken``."""
    if get_by_slug(session, changes.fields["slug"]) is not None:
        raise SlugTaken()
    process = Process()
    session.add(process)
    _apply(session, process, changes)
    record(
        session, AuditAction.PROCESS_CREATE, actor=actor, subject=process,
        process_id=process.id, data=_snapshot(process),
    )  # fmt: skip
    return process


def update_process(
    session: Session, process: Process, changes: ProcessChanges, actor: Any, now: dt.datetime
) -> dict[str, Any]:
    """Apply changes and audit the difference. Raises ``RulesFrozen`` once voting has opened
    (the refused attempt is audited too), ``SlugTaken``, ``BadAreas``, an area guard's
    refusal (an area that projects or proposals belong to is never removed) and a budget
    guard's (``BudgetBelowBallot``: no budget falls below a project on the ballot)."""
    if process.is_frozen(now):
        raise RulesFrozen(process.frozen_at or _voting_start(process))
    slug = changes.fields.get("slug", process.slug)
    if slug != process.slug and get_by_slug(session, slug) is not None:
        raise SlugTaken()
    before = _snapshot(process)
    _apply(session, process, changes)
    for guard in BUDGET_GUARDS:
        guard(session, process)
    diff = _diff(before, _snapshot(process))
    if diff:
        record(
            session, AuditAction.PROCESS_UPDATE, actor=actor, subject=process,
            process_id=process.id, data=diff,
        )  # fmt: skip
    return diff


def refresh_demo(session: Session, process: Process, changes: ProcessChanges, actor: Any) -> None:
    """Reset a demo process to fresh dates, frozen or not. Only ``pb demo`` calls this; the
    change is audited with the reason "demo refresh" like any other."""
    before = _snapshot(process)
    process.frozen_at = None
    _apply(session, process, changes)
    record(
        session, AuditAction.PROCESS_UPDATE, actor=actor, subject=process,
        process_id=process.id, reason="demo refresh", data=_diff(before, _snapshot(process)),
    )  # fmt: skip


def record_refused_edit(session: Session, process: Process, actor: Any) -> None:
    record(
        session, AuditAction.PROCESS_EDIT_REFUSED, actor=actor, subject=process,
        process_id=process.id, reason="rules frozen",
    )  # fmt: skip


def freeze(session: Session, process: Process, actor: Any, now: dt.datetime) -> None:
    """Freeze the rules now (opening the vote does this by itself)."""
    if process.frozen_at is None:
        process.frozen_at = now
        record(
            session, AuditAction.PROCESS_FREEZE, actor=actor, subject=process,
            process_id=process.id,
        )  # fmt: skip
        session.flush()


def _voting_start(process: Process) -> dt.datetime | None:
    voting = process.phase(PhaseKind.VOTING)
    return voting.starts_at if voting else None


def assign_official_by_email(session: Session, process: Process, email: str, actor: Any) -> Any:
    """Make the account with ``email`` an official of the process (a participant becomes an
    official; an admin stays admin). Raises ``UnknownAccount``. Returns the account."""
    from pb.accounts.models import Role, User

    user = session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise UnknownAccount()
    if any(o.user_id == user.id for o in process.officials):
        raise AlreadyOfficial()
    if user.role == Role.PARTICIPANT:
        from pb.accounts.services import set_role

        set_role(session, user, Role.OFFICIAL, actor, process_id=process.id)
    assign_official(session, process, user, actor)
    return user


def assign_official(session: Session, process: Process, user: Any, actor: Any) -> None:
    if not any(o.user_id == user.id for o in process.officials):
        process.officials.append(ProcessOfficial(user_id=user.id))
        record(
            session, AuditAction.PROCESS_OFFICIAL, actor=actor, subject=process,
            process_id=process.id, data={"user_id": user.id},
        )  # fmt: skip
        session.flush()


def officials_of(session: Session, process: Process) -> list[Any]:
    """The accounts that are officials of the process, by name."""
    from pb.accounts.models import User

    ids = [o.user_id for o in process.officials]
    return list(
        session.scalars(
            sa.select(User).where(User.id.in_(ids)).order_by(User.display_name, User.id)
        )
    )


def remove_official_by_email(session: Session, process: Process, email: str, actor: Any) -> Any:
    """:func:`remove_official` for the account with ``email``. Raises ``UnknownAccount``."""
    from pb.accounts.models import User

    user = session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise UnknownAccount()
    remove_official(session, process, user, actor)
    return user


def remove_official(session: Session, process: Process, user: Any, actor: Any) -> None:
    """Take the process's official access from ``user`` (audited). When the account is then
    official of no process, its site-wide role goes back to participant (an admin stays admin).
    Raises ``NotAnOfficial`` when the account is not an official of the process."""
    from pb.accounts.models import Role
    from pb.accounts.services import set_role

    link = next((o for o in process.officials if o.user_id == user.id), None)
    if link is None:
        raise NotAnOfficial()
    process.officials.remove(link)
    record(
        session, AuditAction.PROCESS_OFFICIAL_REMOVED, actor=actor, subject=process,
        process_id=process.id, data={"user_id": user.id},
    )  # fmt: skip
    session.flush()
    elsewhere = session.scalar(
        sa.select(sa.func.count())
        .select_from(ProcessOfficial)
        .where(ProcessOfficial.user_id == user.id)
    )
    if not elsewhere and user.role == Role.OFFICIAL:
        set_role(session, user, Role.PARTICIPANT, actor, process_id=process.id)


# -- reading ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PhaseGroup:
    key: str  # a PhaseKind value, "upcoming" or "ended"
    processes: tuple[Process, ...]


def group_by_phase(processes: Iterable[Process], now: dt.datetime) -> list[PhaseGroup]:
    """Processes grouped for the home page: running phases in order, then upcoming, ended."""
    groups: dict[str, list[Process]] = {}
    for p in processes:
        current = p.current_phase(now)
        if current is not None:
            key = current.kind.value
        elif p.next_phase(now) is not None:
            key = "upcoming"
        else:
            key = "ended"
        groups.setdefault(key, []).append(p)
    order = [k.value for k in PhaseKind] + ["upcoming", "ended"]
    return [PhaseGroup(k, tuple(groups[k])) for k in order if k in groups]
