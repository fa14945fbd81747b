"""Retention after the results: ``pb privacy purge``, and a person's project follows.

``purge`` deletes, as days pass after a process's results were published (the settings in
README's table; docs/privacy.md says why each is kept that long):

- ``PRIVACY_CODE_EMAIL_DAYS``: the record of which e-mail addresses got a voting code
  (``pb.voting.privacy.purge_email_claims``);
- ``PRIVACY_FOLLOW_DAYS``: the addresses that follow the process's projects without an
  account (``results_project_follows``, owned here);

and, whatever the process:

- ``PRIVACY_SENT_MAIL_DAYS``: e-mail sent or given up that long ago
  (``pb.mail.privacy.purge_sent``);
- rate-limit hits older than any limit looks back (``pb.security.prune_rate_limits``; they
  hold e-mail addresses and IP addresses, and are otherwise pruned only as new hits come).

This module sits in the top layer, so it may call each layer below; none of them calls it.
Running it again deletes nothing more: it is safe from a timer (docs/operations.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from pb.accounts.privacy import DataPart
from pb.db import get_session, rows_changed, utcnow
from pb.mail import privacy as mail_privacy
from pb.mail.services import normalize
from pb.proposals.models import Project
from pb.results.models import ProjectFollow, ProjectUpdate, ResultSnapshot
from pb.security import prune_rate_limits
from pb.voting import privacy as voting_privacy


def published_before(session: Session, moment: dt.datetime) -> list[int]:
    """The processes whose results were published before ``moment``."""
    return list(
        session.scalars(
            sa.select(ResultSnapshot.process_id).where(ResultSnapshot.published_at < moment)
        )
    )


def purge_follows(session: Session, process_ids: list[int]) -> int:
    if not process_ids:
        return 0
    projects = sa.select(Project.id).where(Project.process_id.in_(process_ids))
    stmt = sa.delete(ProjectFollow).where(ProjectFollow.project_id.in_(projects))
    return rows_changed(session, stmt)


def purge(session: Session, now: dt.datetime) -> dict[str, int]:
    """Delete what is due; flushes, the caller commits. Counts by kind."""
    cfg = current_app.config
    days = dt.timedelta(days=1)
    return {
        "voting-code e-mail records": voting_privacy.purge_email_claims(
            session, published_before(session, now - cfg["PRIVACY_CODE_EMAIL_DAYS"] * days)
        ),
        "project follows": purge_follows(
            session, published_before(session, now - cfg["PRIVACY_FOLLOW_DAYS"] * days)
        ),
        "sent e-mails": mail_privacy.purge_sent(
            session, now - cfg["PRIVACY_SENT_MAIL_DAYS"] * days
        ),
        "rate-limit entries": prune_rate_limits(session, now),
    }


@click.group("privacy")
def privacy_command() -> None:
    """Personal data: delete what is no longer needed."""


@privacy_command.command("purge")
@with_appcontext
def purge_command() -> None:
    """Delete e-mail addresses and records kept past their time (safe to run from a timer)."""
    session = get_session()
    counts = purge(session, utcnow())
    session.commit()
    click.echo("deleted: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))


def export(session: Session, user: Any) -> dict[str, Any]:
    follows = session.execute(
        sa.select(Project, ProjectFollow.locale, ProjectFollow.created_at)
        .join(Project, Project.id == ProjectFollow.project_id)
        .where(ProjectFollow.email == normalize(user.email))
        .order_by(Project.id)
    )
    updates = session.scalar(
        sa.select(sa.func.count())
        .select_from(ProjectUpdate)
        .where(ProjectUpdate.author_id == user.id)
    )
    return {
        "project_follows": [
            # The title in the language the person follows in (their mails are in it too).
            {
                "project": project.code,
                "title": project.display_title(locale),
                "language": locale,
                "since": at,
            }
            for project, locale, at in follows
        ],
        "project_updates_posted": int(updates or 0),
    }


def erase(session: Session, user: Any) -> dict[str, int]:
    stmt = sa.delete(ProjectFollow).where(ProjectFollow.email == normalize(user.email))
    return {"project_follows": rows_changed(session, stmt)}


PART = DataPart("results", export, erase)
