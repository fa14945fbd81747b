"""Implementation follow-up: after the results are published, the process's officials say
where each funded project stands (status, progress in percent, a reason when cancelled) and
post dated updates with an optional photo. Followers hear of every change by e-mail.

Only a project funded in the published snapshot can be followed up; anything else, a status
outside the list, a progress outside 0-100 or a cancellation without a reason is refused
(``pb.errors`` kinds) and changes nothing. Services flush; the route commits once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from pb.audit import AuditAction, record
from pb.errors import Invalid, NotAllowed
from pb.mail.services import enqueue, normalize
from pb.processes import auditlog
from pb.processes.models import Process
from pb.proposals import notify
from pb.proposals.models import Project
from pb.results import feedback
from pb.results.models import ProjectProgress, ProjectUpdate, ResultSnapshot

STATUSES = ("planned", "in_progress", "done", "cancelled")
MAX_UPDATE = 4000
MAX_REASON = 2000
MAX_ALT = 300


def status_names() -> dict[str, str]:
    return {
        "planned": _("Planned"),
        "in_progress": _("In progress"),
        "done": _("Done"),
        "cancelled": _("Cancelled"),
    }


auditlog.name_values("status", status_names)  # the follow-up's entries in the log


class NotPublishedYet(NotAllowed):
    message = _l("The results are not published yet, so there is nothing to follow up.")


class NotFunded(Invalid):
    message = _l("Only a funded project can be followed up. Nothing was changed.")


class BadStatus(Invalid):
    message = _l("Choose one of the statuses: planned, in progress, done or cancelled.")


class BadProgress(Invalid):
    message = _l("Progress is a whole number of percent from 0 to 100. Nothing was changed.")


class PlannedIsNothingYet(Invalid):
    message = _l(
        "Planned means the work has not started (0 %): set the progress to 0, or choose In "
        "progress. Nothing was changed."
    )


class DoneIsWhole(Invalid):
    message = _l(
        "Done means 100 %: set the progress to 100, or choose In progress. Nothing was changed."
    )


class ReasonNeeded(Invalid):
    message = _l("Say why the project is cancelled; the reason is shown to everyone.")


class AltTooLong(Invalid):
    message = _l("Describe the photo in at most 300 characters. Nothing was saved.")


class EmptyUpdate(Invalid):
    message = _l("Write what has happened (at most 4000 characters). Nothing was saved.")


@dataclass
class FundedProject:
    project: Project
    progress: ProjectProgress | None
    updates: list[ProjectUpdate] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.progress.status if self.progress is not None else "planned"

    @property
    def percent(self) -> int:
        return self.progress.progress if self.progress is not None else 0


def _snapshot(session: Session, process: Process) -> ResultSnapshot:
    snap = session.get(ResultSnapshot, process.id)
    if snap is None:
        raise NotPublishedYet()
    return snap


def funded_codes(snap: ResultSnapshot) -> set[str]:
    return {str(code) for e in snap.data.get("elections", []) for code in e.get("selected", [])}


def funded(session: Session, process: Process) -> list[FundedProject]:
    """Every project funded in the published snapshot, with its progress and updates
    (newest first)."""
    codes = funded_codes(_snapshot(session, process))
    projects = [p for p in feedback.ballot_projects(session, process) if p.code in codes]
    ids = [p.id for p in projects]
    progress = {
        r.project_id: r
        for r in session.scalars(
            sa.select(ProjectProgress).where(ProjectProgress.project_id.in_(ids))
        )
    }
    updates: dict[int, list[ProjectUpdate]] = {}
    for u in session.scalars(
        sa.select(ProjectUpdate)
        .where(ProjectUpdate.project_id.in_(ids))
        .order_by(ProjectUpdate.created_at.desc(), ProjectUpdate.id.desc())
    ):
        updates.setdefault(u.project_id, []).append(u)
    return [FundedProject(p, progress.get(p.id), updates.get(p.id, [])) for p in projects]


def _funded_project(session: Session, process: Process, project_id: int) -> Project:
    codes = funded_codes(_snapshot(session, process))
    project = session.get(Project, project_id)
    if project is None or project.process_id != process.id or project.code not in codes:
        raise NotFunded()
    return project


def parse_progress(text: str) -> int:
    value = text.strip().removesuffix("%").strip()
    if not value.isdigit() or len(value) > 3 or not 0 <= int(value) <= 100:
        raise BadProgress()
    return int(value)


def set_status(
    session: Session,
    process: Process,
    project_id: int,
    *,
    status: str,
    progress: str,
    reason: str,
    actor: Any,
    now: dt.datetime,
) -> ProjectProgress:
    """Set a funded project's status and progress (audited), and tell its followers. Planned
    means 0 % and done means 100 % (the page would otherwise show "Planned" beside a full bar,
    or "Done" beside a half-full one); in progress may be anywhere from 0 to 100; cancelled
    needs a reason, shown to everyone."""
    project = _funded_project(session, process, project_id)
    if status not in STATUSES:
        raise BadStatus()
    percent = parse_progress(progress)
    if status == "done" and percent != 100:
        raise DoneIsWhole()
    if status == "planned" and percent != 0:
        raise PlannedIsNothingYet()
    reason = reason.strip()[:MAX_REASON]
    if status == "cancelled" and not reason:
        raise ReasonNeeded()
    row = session.get(ProjectProgress, project.id)
    if row is None:
        row = ProjectProgress(project_id=project.id)
        session.add(row)
    before = (row.status, row.progress)
    row.status, row.progress, row.updated_at = status, percent, now
    row.reason = reason if status == "cancelled" else ""
    session.flush()
    record(session, AuditAction.FOLLOWUP_STATUS, actor=actor, subject=project,
           process_id=process.id, reason=row.reason,
           data={"project": project.code, "status": [before[0], status],
                 "progress": [before[1], percent]})  # fmt: skip
    tell(session, process, project, "status", row=row)
    return row


def add_update(
    session: Session,
    process: Process,
    project_id: int,
    *,
    body: str,
    image: str,
    actor: Any,
    now: dt.datetime,
    image_alt: str = "",
) -> ProjectUpdate:
    """A dated update (and an already stored photo's name, or "", with what it shows, or
    ""); followers are told."""
    project = _funded_project(session, process, project_id)
    body = body.strip()
    if not body or len(body) > MAX_UPDATE:
        raise EmptyUpdate()
    image_alt = " ".join(image_alt.split()) if image else ""
    if len(image_alt) > MAX_ALT:
        raise AltTooLong()
    update = ProjectUpdate(project_id=project.id, author_id=getattr(actor, "id", None),
                           created_at=now, body=body, image=image,
                           image_alt=image_alt)  # fmt: skip
    session.add(update)
    session.flush()
    record(session, AuditAction.FOLLOWUP_UPDATE, actor=actor, subject=project,
           process_id=process.id, data={"project": project.code, "photo": bool(image)})  # fmt: skip
    tell(session, process, project, "update", update=update)
    return update


def page_url(process: Process) -> str:
    path = (
        current_app.url_map.bind("localhost")
        .build("followup.page", {"slug": process.slug})
        .removeprefix("http://localhost")
    )
    base: str = current_app.config["BASE_URL"].rstrip("/")
    return base + path


def tell(
    session: Session,
    process: Process,
    project: Project,
    event: str,
    *,
    row: ProjectProgress | None = None,
    update: ProjectUpdate | None = None,
) -> int:
    """E-mail the project's followers: the proposal's author and followers, and addresses
    following the project without an account; each once, in their language."""
    people: list[tuple[str, str, int | None]] = []
    seen: set[str] = set()
    if project.proposal is not None:
        for user in notify.recipients(session, project.proposal):
            locale = user.locale if user.locale in ("sv", "en") else "sv"
            people.append((user.email, locale, user.id))
            seen.add(normalize(user.email))
    for email, (locale, projects) in feedback.followers(session, process).items():
        if email not in seen and any(p.id == project.id for p in projects):
            people.append((email, locale, None))
    url = page_url(process)
    queued = 0
    for email, locale, user_id in people:
        with force_locale(locale):
            title = project.display_title(locale)
            subject = _("News about “%(title)s”", title=title)
            lines: list[str] = []
            if row is not None:
                lines.append(
                    _(
                        "“%(title)s” is now: %(status)s, %(percent)s %% done.",
                        title=title,
                        status=status_names()[row.status],
                        percent=row.progress,
                    )
                )
                if row.reason:
                    lines.append(_("The reason given: %(reason)s", reason=row.reason))
            if update is not None:
                lines.append(_("A new update on “%(title)s”:", title=title))
                lines.append(update.body)
            lines.append(_("Read more: %(url)s", url=url))
            if user_id is None:
                lines.append(
                    _(
                        "To stop following these projects: %(url)s",
                        url=feedback.stop_url(process, email),
                    )
                )
        if enqueue(session, to=email, subject=subject, body="\n\n".join(lines), locale=locale,
                   user_id=user_id):  # fmt: skip
            queued += 1
    return queued


def feed(process: Process, projects: list[FundedProject], locale: str) -> bytes:
    """An Atom feed of the process's follow-up: one entry per update and per status."""
    from feedgen.feed import FeedGenerator

    url = page_url(process)
    fg = FeedGenerator()
    fg.id(url)
    fg.title(_("Follow-up: %(process)s", process=process.text("title", locale)))
    fg.link(href=url, rel="alternate")
    fg.language(locale)
    names = status_names()
    latest: dt.datetime | None = None
    for item in projects:
        if item.progress is not None:
            entry = fg.add_entry(order="append")
            entry.id(f"{url}#status-{item.project.id}-{item.progress.updated_at.isoformat()}")
            title = item.project.display_title(locale)
            entry.title(f"{title}: {names[item.status]}, {item.percent} %")
            text = item.progress.reason or f"{names[item.status]}, {item.percent} %"
            entry.content(text, type="text")
            entry.updated(item.progress.updated_at)
            entry.link(href=f"{url}#project-{item.project.id}")
            latest = max(latest or item.progress.updated_at, item.progress.updated_at)
        for update in item.updates:
            entry = fg.add_entry(order="append")
            entry.id(f"{url}#update-{update.id}")
            entry.title(item.project.display_title(locale))
            entry.content(update.body, type="text")
            entry.updated(update.created_at)
            entry.link(href=f"{url}#update-{update.id}")
            latest = max(latest or update.created_at, update.created_at)
    fg.updated(latest or dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    result: bytes = fg.atom_str(pretty=True)
    return result
