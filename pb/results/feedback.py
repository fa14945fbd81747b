"""Feedback: telling people what became of proposals and projects.

- ``tell_published`` (called by ``services.publish``) queues, in the same transaction as
  the snapshot, one e-mail per proposal author and follower about each proposal of the
  process (funded, or not funded with the explanation sentence from the snapshot; rejected
  earlier; merged) and one e-mail per no-account project follower listing the projects
  they follow, each in the recipient's language.
- Following projects without an account: ``request_follow`` mails a signed link (nothing is
  stored before it is opened); ``confirm_follow`` stores only the address, the projects and
  the language; ``stop_following`` removes them. A follow is not tied to a ballot.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from pb import tokens
from pb.errors import Invalid
from pb.mail.services import enqueue, normalize
from pb.processes.models import Process
from pb.proposals import notify
from pb.proposals.models import Project, Proposal, ProposalStatus
from pb.results.models import ProjectFollow, ResultSnapshot
from pb.security import limiter

MAX_ADDRESS = 254


class BadAddress(Invalid):
    message = _l("Give a valid e-mail address. Nothing was saved.")


class NoProjects(Invalid):
    message = _l("Choose at least one project to follow. Nothing was saved.")


class BadLink(Invalid):
    message = _l(
        "This link is not valid or has expired. Ask again on the follow page. Nothing was saved."
    )


def _url(endpoint: str, **values: Any) -> str:
    path = (
        current_app.url_map.bind("localhost")
        .build(endpoint, values)
        .removeprefix("http://localhost")
    )
    base: str = current_app.config["BASE_URL"].rstrip("/")
    return base + path


def check_address(email: str) -> str:
    address = normalize(email)
    local, _at, domain = address.partition("@")
    if (
        not local
        or "." not in domain
        or len(address) > MAX_ADDRESS
        or any(c.isspace() or c in "<>,;\"'" for c in address)
    ):
        raise BadAddress()
    return address


def ballot_projects(session: Session, process: Process) -> list[Project]:
    return list(
        session.scalars(
            sa.select(Project)
            .where(Project.process_id == process.id)
            .order_by(Project.position, Project.id)
        )
    )


def request_follow(
    session: Session, process: Process, email: str, project_ids: list[int], locale: str
) -> str:
    """Mail a signed confirmation link; stores nothing. Returns the normalised address.

    One address gets a few such mails a day at most (``follow.address``); past that a valid
    request is answered the same but sends nothing, so nobody can flood a stranger's inbox
    and the page does not tell whether a mail went."""
    address = check_address(email)
    known = {p.id: p for p in ballot_projects(session, process)}
    chosen = sorted({pid for pid in project_ids if pid in known})
    if not chosen:
        raise NoProjects()
    by_address, key = limiter("follow.address"), address_key(address)
    if not by_address.test(key):
        return address
    by_address.hit(key)
    token = tokens.dumps("follow", {"e": address, "s": process.id, "p": chosen, "l": locale})
    url = _url("followup.confirm", slug=process.slug, token=token)
    with force_locale(locale):
        subject = _("Confirm that you want to follow projects")
        lines = [
            _(
                "Someone (we hope you) asked to hear by e-mail what becomes of these projects "
                "in %(process)s:",
                process=process.text("title", locale),
            ),
            "\n".join(f"- {known[pid].display_title(locale)}" for pid in chosen),
            _("Open this link to confirm. Nothing is kept until you do: %(url)s", url=url),
            _("If it was not you, ignore this e-mail."),
        ]
    # Asked for just now: sent even to an address that unsubscribed, and wiped once sent.
    enqueue(session, to=address, subject=subject, body="\n\n".join(lines), locale=locale,
            secret=True)  # fmt: skip
    return address


def address_key(address: str) -> str:
    """The rate-limit key of an address: a keyed digest, so the table holds no address."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, b"follow:" + address.encode(), hashlib.sha256).hexdigest()[:32]


def read_token(process: Process, token: str, purpose: str = "follow") -> dict[str, Any]:
    try:
        data = tokens.loads(purpose, token)
    except tokens.TokenInvalid:
        raise BadLink() from None
    if not isinstance(data, dict) or data.get("s") != process.id:
        raise BadLink()
    return data


def confirm_follow(session: Session, process: Process, token: str) -> list[Project]:
    """Store the follows the signed link asks for (again is harmless). Returns the projects."""
    data = read_token(process, token)
    address = str(data["e"])
    locale = data.get("l") if data.get("l") in ("sv", "en") else "sv"
    projects = [p for p in ballot_projects(session, process) if p.id in set(data["p"])]
    for project in projects:
        row = session.get(ProjectFollow, (project.id, address))
        if row is None:
            session.add(ProjectFollow(project_id=project.id, email=address, locale=locale))
        else:
            row.locale = str(locale)
    session.flush()
    return projects


def stop_url(process: Process, email: str) -> str:
    token = tokens.dumps("follow-stop", {"e": normalize(email), "s": process.id})
    return _url("followup.stop", slug=process.slug, token=token)


def stop_following(session: Session, process: Process, token: str) -> str:
    """Remove every follow of this address in this process. Returns the address."""
    data = read_token(process, token, "follow-stop")
    address = str(data["e"])
    ids = sa.select(Project.id).where(Project.process_id == process.id)
    session.execute(
        sa.delete(ProjectFollow).where(
            ProjectFollow.email == address, ProjectFollow.project_id.in_(ids)
        )
    )
    session.flush()
    return address


def followers(session: Session, process: Process) -> dict[str, tuple[str, list[Project]]]:
    """Each no-account follower's address: their language and the projects they follow."""
    rows = session.execute(
        sa.select(ProjectFollow, Project)
        .join(Project, Project.id == ProjectFollow.project_id)
        .where(Project.process_id == process.id)
        .order_by(ProjectFollow.email, Project.position, Project.id)
    ).all()
    result: dict[str, tuple[str, list[Project]]] = {}
    for follow, project in rows:
        result.setdefault(follow.email, (follow.locale, []))[1].append(project)
    return result


def _results(snap: ResultSnapshot) -> dict[str, dict[str, Any]]:
    """Each project's line in the snapshot, by project code."""
    lines: dict[str, dict[str, Any]] = {}
    for election in snap.data.get("elections", []):
        for entry in election.get("projects", []):
            lines[str(entry["id"])] = entry
    return lines


def project_outcome(entry: dict[str, Any] | None, title: str, locale: str) -> str:
    """One paragraph: funded or not, with the snapshot's explanation in ``locale``."""
    if entry is None:
        return str(_("“%(title)s” was not counted in the result.", title=title))
    explanation = entry.get("explanation_sv" if locale == "sv" else "explanation") or ""
    if entry.get("selected"):
        head = _("“%(title)s” will be funded.", title=title)
    else:
        head = _("“%(title)s” will not be funded.", title=title)
    return f"{head} {explanation}".strip()


def _proposal_outcome(
    proposal: Proposal, project: Project | None, lines: dict[str, dict[str, Any]], locale: str
) -> str | None:
    if project is not None:
        title = project.title_en if locale == "en" and project.title_en else proposal.title
        return project_outcome(lines.get(project.code), title, locale)
    if proposal.status == ProposalStatus.REJECTED:
        text = str(
            _(
                "“%(title)s” was not put on the ballot, as you were told when it was answered.",
                title=proposal.title,
            )
        )
        if proposal.answer:
            text += "\n\n" + _("The official answer: %(answer)s", answer=proposal.answer)
        return text
    if proposal.status == ProposalStatus.MERGED and proposal.merged_into is not None:
        return str(
            _(
                "“%(title)s” was merged into “%(other)s”; see what became of that one.",
                title=proposal.title,
                other=proposal.merged_into.title,
            )
        )
    return None


def tell_published(session: Session, process: Process, snap: ResultSnapshot) -> int:
    """Queue the feedback e-mails for a process whose results were just published."""
    lines = _results(snap)
    results_url = _url("results.show", slug=process.slug)
    queued = 0
    projects_by_proposal = {
        p.proposal_id: p for p in ballot_projects(session, process) if p.proposal_id is not None
    }
    proposals = session.scalars(
        sa.select(Proposal)
        .where(
            Proposal.process_id == process.id,
            Proposal.status.in_(
                [ProposalStatus.ACCEPTED, ProposalStatus.REJECTED, ProposalStatus.MERGED]
            ),
            Proposal.hidden.is_(False),
        )
        .order_by(Proposal.id)
    )
    for proposal in proposals:
        project = projects_by_proposal.get(proposal.id)
        for user in notify.recipients(session, proposal):
            locale = user.locale if user.locale in ("sv", "en") else "sv"
            with force_locale(locale):
                text = _proposal_outcome(proposal, project, lines, locale)
                if text is None:
                    continue
                subject = _("The results of %(process)s are published",
                            process=process.text("title", locale))  # fmt: skip
                body = "\n\n".join(
                    [
                        text,
                        _("All results and how they were counted: %(url)s", url=results_url),
                        _("Read more: %(url)s", url=notify.proposal_url(process, proposal)),
                    ]
                )
            if enqueue(session, to=user.email, subject=subject, body=body, locale=locale,
                       user_id=user.id):  # fmt: skip
                queued += 1
    for address, (locale, projects) in followers(session, process).items():
        with force_locale(locale):
            subject = _("The results of %(process)s are published",
                        process=process.text("title", locale))  # fmt: skip
            intro = _(
                "You follow these projects in %(process)s. This is what became of them.",
                process=process.text("title", locale),
            )
            parts = [intro]
            parts += [
                project_outcome(lines.get(p.code), p.display_title(locale), locale)
                for p in projects
            ]
            parts.append(_("All results and how they were counted: %(url)s", url=results_url))
            parts.append(
                _("To stop following these projects: %(url)s", url=stop_url(process, address))
            )
        if enqueue(session, to=address, subject=subject, body="\n\n".join(parts), locale=locale):
            queued += 1
    return queued
