"""E-mail to a proposal's author and followers when it is answered, hidden, shown again or
merged; to the author alone when reports hide it until a moderator looks.

Mail goes into the outbox (``pb.mail.services.enqueue``) in the same transaction as the
change it tells about, in each recipient's language.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from pb.accounts.models import User
from pb.i18n import sek
from pb.mail.services import enqueue
from pb.processes.models import Process
from pb.proposals import vocab
from pb.proposals.models import Follow, Proposal


def proposal_url(process: Process, proposal: Proposal) -> str:
    path = (
        current_app.url_map.bind("localhost")
        .build("proposals.show", {"slug": process.slug, "pid": proposal.id})
        .removeprefix("http://localhost")
    )
    base: str = current_app.config["BASE_URL"].rstrip("/")
    return base + path


def recipients(session: Session, proposal: Proposal) -> list[User]:
    """The author, then followers; each once, active accounts only."""
    follower_ids = sa.select(Follow.user_id).where(Follow.proposal_id == proposal.id)
    users = list(
        session.scalars(
            sa.select(User)
            .where(
                sa.or_(User.id == proposal.author_id, User.id.in_(follower_ids)),
                User.active.is_(True),
            )
            .order_by(User.id)
        )
    )
    users.sort(key=lambda u: u.id != proposal.author_id)
    return users


def tell(
    session: Session,
    process: Process,
    proposal: Proposal,
    event: str,
    *,
    other: Proposal | None = None,
    reason: str = "",
    author_only: bool = False,
) -> int:
    """Queue one e-mail per recipient about ``event`` ("answered", "hidden", "merged",
    "autohidden", "restored"); ``author_only`` leaves the followers out. ``reason`` is the
    moderator's reason for "restored" (the author sees it). Returns how many were queued."""
    url = proposal_url(process, proposal)
    queued = 0
    people = recipients(session, proposal)
    if author_only:
        people = [user for user in people if user.id == proposal.author_id]
    for user in people:
        locale = user.locale if user.locale in ("sv", "en") else "sv"
        is_author = user.id == proposal.author_id
        with force_locale(locale):
            subject, body = _compose(
                process, proposal, event, locale, is_author, url, other, reason
            )
        if enqueue(session, to=user.email, subject=subject, body=body, locale=locale,
                   user_id=user.id):  # fmt: skip
            queued += 1
    return queued


def _compose(
    process: Process,
    proposal: Proposal,
    event: str,
    locale: str,
    is_author: bool,
    url: str,
    other: Proposal | None,
    reason: str = "",
) -> tuple[str, str]:
    title = proposal.title
    where = process.text("title", locale)
    lines: list[str] = []
    if event == "autohidden":
        subject = _("Your proposal “%(title)s” is hidden while reports are checked", title=title)
        lines.append(
            _(
                "Your proposal “%(title)s” in %(process)s has been reported, so it is hidden "
                "until a moderator has looked at it. Nothing is deleted: the moderator either "
                "shows it again or hides it with a reason, and you will hear which.",
                title=title,
                process=where,
            )
        )
    elif event == "restored" and not is_author:
        subject = _("The proposal “%(title)s” is shown again", title=title)
        lines.append(
            _(
                "A moderator shows the proposal “%(title)s” in %(process)s to everyone again.",
                title=title,
                process=where,
            )
        )
    elif event == "restored":
        subject = _("Your proposal “%(title)s” is shown again", title=title)
        lines.append(
            _(
                "A moderator has looked at your proposal “%(title)s” in %(process)s and shows "
                "it to everyone again.",
                title=title,
                process=where,
            )
        )
        if reason:
            lines.append(_("The reason given: %(reason)s", reason=reason))
    elif event == "hidden":
        subject = _("The proposal “%(title)s” has been hidden", title=title)
        lines.append(
            _(
                "A moderator has hidden the proposal “%(title)s” in %(process)s. It is kept, "
                "but no longer shown to others.",
                title=title,
                process=where,
            )
        )
        if is_author and proposal.hidden_reason:
            lines.append(_("The reason given: %(reason)s", reason=proposal.hidden_reason))
    elif event == "merged" and other is not None:
        subject = _("The proposal “%(title)s” has been merged", title=title)
        lines.append(
            _(
                "The proposal “%(title)s” in %(process)s has been merged into “%(other)s”. "
                "Support and follow that proposal to go on taking part.",
                title=title,
                process=where,
                other=other.title,
            )
        )
        if proposal.answer:
            lines.append(_("The official answer: %(answer)s", answer=proposal.answer))
        lines.append(proposal_url(process, other))
    else:
        subject = _("The proposal “%(title)s” has been answered", title=title)
        lines.append(
            _(
                "An official has answered the proposal “%(title)s” in %(process)s.",
                title=title,
                process=where,
            )
        )
        lines.append(_("Status: %(status)s", status=vocab.name(vocab.STATUSES, proposal.status)))
        if proposal.feasibility:
            lines.append(
                _(
                    "Feasibility: %(value)s",
                    value=vocab.name(vocab.FEASIBILITY, proposal.feasibility),
                )
            )
        if proposal.official_cost:
            lines.append(
                _("The official cost estimate: %(amount)s", amount=_sek(proposal.official_cost))
            )
        if proposal.answer:
            lines.append(_("The official answer: %(answer)s", answer=proposal.answer))
    lines.append(_("Read more: %(url)s", url=url))
    return subject, "\n\n".join(lines)


def _sek(amount: int) -> str:
    return sek(amount).replace("\u00a0", " ")
