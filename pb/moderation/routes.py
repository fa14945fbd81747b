"""Reporting (anyone logged in), and the officials' moderation queue and review screens.

Officials act only on processes they are assigned to (admins on all); anyone else gets a
403 page that says why. Each POST calls one service, commits once and redirects (303).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.orm import contains_eager, joinedload
from wtforms import SelectChoice

from pb.db import get_session, utcnow
from pb.errors import DomainError, user_error
from pb.i18n import locale_code
from pb.moderation import services
from pb.moderation.forms import (
    REPORT_REASONS,
    BulkReviewForm,
    NoteForm,
    ReasonForm,
    ReportForm,
    ReviewForm,
)
from pb.moderation.models import Report, ReportReason
from pb.processes.models import Process, ProcessOfficial
from pb.processes.services import load_process
from pb.proposals import similarity
from pb.proposals.models import (
    MAX_ID,
    OPEN_STATUSES,
    Comment,
    Feasibility,
    Proposal,
    valid_id,
)
from pb.security import login_required, official_required
from pb.web import attempt

bp = Blueprint("moderation", __name__)

BULK_PAGE = 100


def official_process(slug: str) -> Process:
    """The process, if the current user is one of its officials (or an admin); else 403."""
    process = load_process(slug)
    if not process.is_official(current_user):
        raise user_error(
            403,
            _("You are not an official of this process, so you cannot moderate or review it."),
        )
    return process


def _proposal(process: Process, pid: int) -> Proposal:
    proposal = get_session().get(Proposal, pid) if pid <= MAX_ID else None
    if proposal is None or proposal.process_id != process.id:
        abort(404)
    return proposal


def _comment(process: Process, cid: int) -> Comment:
    comment = get_session().get(Comment, cid) if cid <= MAX_ID else None
    if comment is None or comment.proposal.process_id != process.id:
        abort(404)
    return comment


# -- reporting (any account) -----------------------------------------------------------


def _visible(process: Process, proposal: Proposal) -> None:
    if proposal.is_private:
        abort(404)
    if proposal.hidden and not (
        proposal.is_author(current_user) or process.is_official(current_user)
    ):
        abort(404)


def _report(process: Process, content: Proposal | Comment) -> Any:
    proposal = content if isinstance(content, Proposal) else content.proposal
    _visible(process, proposal)
    if isinstance(content, Comment) and content.hidden and not process.is_official(current_user):
        abort(404)
    form = ReportForm()
    back = url_for("proposals.show", slug=process.slug, pid=proposal.id)
    status = 200
    if content.author_id == current_user.id:
        form.form_errors.append(str(services.OwnContent.message))
        status = 403
    elif form.validate_on_submit():
        with attempt() as done:
            services.report(
                get_session(), process, content, current_user, ReportReason(form.reason.data),
                form.note.data or "", threshold=current_app.config["REPORTS_TO_HIDE"],
                now=utcnow(),
            )  # fmt: skip
        if done.ok:
            flash(_("Thank you. An official will look at your report."), "success")
            return redirect(back, code=303)
        form.form_errors.append(done.message)
        status = done.status
    elif form.errors:
        status = 400
    return render_template("moderation/report.html", process=process, form=form,
                           content=content, proposal=proposal, back=back), status  # fmt: skip


@bp.route("/p/<slug>/proposals/<int:pid>/report", methods=["GET", "POST"])
@login_required
def report_proposal(slug: str, pid: int) -> Any:
    process = load_process(slug)
    return _report(process, _proposal(process, pid))


@bp.route("/p/<slug>/comments/<int:cid>/report", methods=["GET", "POST"])
@login_required
def report_comment(slug: str, cid: int) -> Any:
    process = load_process(slug)
    return _report(process, _comment(process, cid))


# -- the queue -------------------------------------------------------------------------


@bp.get("/moderation")
@official_required
def index() -> Any:
    """The processes this official looks after, with what waits for them."""
    db = get_session()
    stmt = sa.select(Process).order_by(Process.created_at.desc())
    if not current_user.is_admin:
        stmt = stmt.join(ProcessOfficial).where(ProcessOfficial.user_id == current_user.id)
    processes_ = list(db.scalars(stmt))
    ids = [p.id for p in processes_]
    # Two grouped counts for all the processes, not two queries per process.
    open_reports = dict(
        db.execute(
            sa.select(Report.process_id, sa.func.count(sa.distinct(Report.target)))
            .where(Report.process_id.in_(ids), Report.resolved_at.is_(None))
            .group_by(Report.process_id)
        ).all()
    )
    unseen = dict(
        db.execute(
            sa.select(Proposal.process_id, sa.func.count())
            .where(
                Proposal.process_id.in_(ids),
                Proposal.seen_at.is_(None),
                Proposal.status.in_(OPEN_STATUSES),
                Proposal.hidden.is_(False),
            )
            .group_by(Proposal.process_id)
        ).all()
    )
    rows = [(p, open_reports.get(p.id, 0), unseen.get(p.id, 0)) for p in processes_]
    return render_template("moderation/index.html", rows=rows, locale=locale_code())


def _queue(process: Process, failed: tuple[str, Any] | None = None, status: int = 200) -> Any:
    db = get_session()
    reports = list(
        db.scalars(
            sa.select(Report)
            .where(Report.process_id == process.id, Report.resolved_at.is_(None))
            .order_by(Report.id)
        )
    )
    by_target: dict[str, list[Report]] = {}
    for r in reports:
        by_target.setdefault(r.target, []).append(r)
    # The reported content in two queries (not one per report), with each comment's proposal.
    comments = {
        c.id: c
        for c in db.scalars(
            sa.select(Comment)
            .where(Comment.id.in_({r.comment_id for r in reports if r.comment_id}))
            .options(joinedload(Comment.proposal))
        )
    }
    proposals = {
        p.id: p
        for p in db.scalars(
            sa.select(Proposal).where(
                Proposal.id.in_({r.proposal_id for r in reports if not r.comment_id})
            )
        )
    }
    reported = []
    for target, rs in by_target.items():
        content = (
            comments.get(rs[0].comment_id) if rs[0].comment_id else proposals.get(rs[0].proposal_id)
        )
        if content is not None:
            reported.append((target, content, rs))
    unseen = list(
        db.scalars(
            sa.select(Proposal)
            .where(
                Proposal.process_id == process.id,
                Proposal.seen_at.is_(None),
                Proposal.status.in_(OPEN_STATUSES),
                Proposal.hidden.is_(False),
            )
            .order_by(Proposal.id)
            .limit(100)
        )
    )
    hidden_proposals = list(
        db.scalars(
            sa.select(Proposal)
            .where(Proposal.process_id == process.id, Proposal.hidden.is_(True))
            .order_by(Proposal.hidden_at.desc())
            .limit(100)
        )
    )
    hidden_comments = list(
        db.scalars(
            sa.select(Comment)
            .join(Proposal, Comment.proposal_id == Proposal.id)
            .where(Proposal.process_id == process.id, Comment.hidden.is_(True))
            .options(contains_eager(Comment.proposal))
            .order_by(Comment.hidden_at.desc())
            .limit(100)
        )
    )
    reported_keys = set(by_target)
    return render_template(
        "moderation/queue.html",
        process=process,
        reported=reported,
        unseen=unseen,
        hidden_proposals=[p for p in hidden_proposals if f"proposal:{p.id}" not in reported_keys],
        hidden_comments=[c for c in hidden_comments if f"comment:{c.id}" not in reported_keys],
        reasons=REPORT_REASONS,
        failed=failed,
        locale=locale_code(),
    ), status


@bp.get("/p/<slug>/moderation")
@login_required
def queue(slug: str) -> Any:
    return _queue(official_process(slug))


ACTIONS = ("hide", "restore", "dismiss", "seen")


def _moderate(process: Process, content: Proposal | Comment, action: str) -> Any:
    if action not in ACTIONS or (action == "seen" and not isinstance(content, Proposal)):
        abort(404)
    form: ReasonForm | NoteForm = ReasonForm() if action in ("hide", "restore") else NoteForm()
    key = services.target_key(content)
    if not form.validate_on_submit():
        return _queue(process, failed=(key, form), status=400)
    db = get_session()
    reason, now = form.reason.data or "", utcnow()
    with attempt(db) as done:
        if action == "hide":
            services.hide(db, process, content, current_user, reason, now)
        elif action == "restore":
            services.restore(db, process, content, current_user, reason, now)
        elif action == "dismiss":
            services.dismiss(db, process, content, current_user, reason, now)
        else:
            assert isinstance(content, Proposal)
            services.mark_seen(db, process, content, current_user, now)
    if not done.flash_error():
        flash(
            {
                "hide": _("Hidden. The author can see the reason."),
                "restore": _("Shown again."),
                "dismiss": _("The reports are closed; the content stays as it is."),
                "seen": _("Marked as seen."),
            }[action],
            "success",
        )
    return redirect(url_for(".queue", slug=process.slug) + f"#{key.replace(':', '-')}", code=303)


@bp.post("/p/<slug>/moderation/proposals/<int:pid>/<action>")
@login_required
def moderate_proposal(slug: str, pid: int, action: str) -> Any:
    process = official_process(slug)
    proposal = _proposal(process, pid)
    if proposal.is_private:  # drafts (and never-published proposals) are their author's alone
        abort(404)
    return _moderate(process, proposal, action)


@bp.post("/p/<slug>/moderation/comments/<int:cid>/<action>")
@login_required
def moderate_comment(slug: str, cid: int, action: str) -> Any:
    process = official_process(slug)
    return _moderate(process, _comment(process, cid), action)


# -- review ----------------------------------------------------------------------------


def _feasibility(value: str | None) -> Feasibility | None:
    return Feasibility(value) if value else None


@bp.route("/p/<slug>/review/<int:pid>", methods=["GET", "POST"])
@login_required
def review(slug: str, pid: int) -> Any:
    process = official_process(slug)
    proposal = _proposal(process, pid)
    if proposal.is_private:
        abort(404)
    db = get_session()
    form = ReviewForm(obj=None if request.method == "POST" else proposal)
    form.area.choices = [SelectChoice("", _("Choose an area"))] + [
        SelectChoice(str(a.id), a.name) for a in process.areas
    ]
    status = 200
    if request.method == "GET":
        form.feasibility.data = proposal.feasibility.value if proposal.feasibility else ""
        form.official_cost.data = str(proposal.official_cost or "")
        form.decision.data = ""
        whole = process.whole_area
        form.area.data = str(proposal.area_id or (whole.id if whole else ""))
    elif form.validate_on_submit():
        data = services.ReviewInput(
            feasibility=_feasibility(form.feasibility.data),
            official_cost=form.official_cost.amount,
            answer=form.answer.data or "",
            decision=form.decision.data or "",
            merge_into=form.merge_into.data,
            area_id=int(form.area.data) if form.area.data else None,
        )
        with attempt(db) as done:
            changed = services.review(db, process, proposal, current_user, data, utcnow())
        if done.ok:
            flash(_("The review is saved.") if changed else _("Nothing was changed."), "success")
            return redirect(url_for("proposals.show", slug=process.slug, pid=proposal.id),
                            code=303)  # fmt: skip
        form.form_errors.append(done.message)
        status = done.status
    else:
        status = 400
        _also_refused(db, process, proposal, form)
    suggestions = similarity.similar(db, process.id, proposal.title, exclude=[proposal.id])
    return render_template("moderation/review.html", process=process, proposal=proposal,
                           form=form, suggestions=suggestions, locale=locale_code()), status  # fmt: skip


def _lenient_input(f: Any) -> services.ReviewInput:
    """A review form (the single page's, or a bulk row's) as the review would take it, with
    its wrong fields counted as empty: to say what the review itself would refuse besides
    the field errors, so that every problem is reported in one go."""
    merge = getattr(f, "merge_into", None)
    area = getattr(f, "area", None)
    return services.ReviewInput(
        feasibility=None if f.feasibility.errors else _feasibility(f.feasibility.data),
        official_cost=None if f.official_cost.errors else f.official_cost.amount,
        answer=f.answer.data or "",
        decision="" if f.decision.errors else (f.decision.data or ""),
        merge_into=None if merge is None or merge.errors else merge.data,
        area_id=None if area is None or area.errors else valid_id(area.data),
    )


def _said_at_a_field(err: DomainError, f: Any) -> bool:
    """Accepting needs feasible and a cost: already said next to a wrong one of them."""
    return isinstance(err, services.AcceptNeedsFeasibleAndCost) and bool(
        f.feasibility.errors or f.official_cost.errors
    )


def _also_refused(db: Any, process: Process, proposal: Proposal, form: ReviewForm) -> None:
    """When some fields are wrong, also say what the review itself would refuse (as the bulk
    page does for its rows)."""
    try:
        services.check_review(db, process, proposal, _lenient_input(form), utcnow())
    except DomainError as err:
        if not _said_at_a_field(err, form):
            form.form_errors.append(str(err.message))


def _row_label(proposal: Proposal) -> str:
    """How the error summary names a row: its number and the start of its title."""
    title = proposal.title if len(proposal.title) <= 40 else proposal.title[:39].rstrip() + "…"
    return f"#{proposal.id} {title}"


def _row_refusals(db: Any, process: Process, form: BulkReviewForm,
                  found: dict[int, Proposal]) -> None:  # fmt: skip
    """When some fields are wrong, also say what the review would refuse in each row (an
    answer is needed to reject, feasible and a cost within the budget to accept), so that
    every problem is reported in one go. Wrong fields count as empty here."""
    rows = [(found[int(row.form.proposal_id.data)], _lenient_input(row.form))
            for row in form.rows]  # fmt: skip
    refused = services.bulk_refusals(db, process, rows, utcnow())
    for row, (proposal, _data) in zip(form.rows, rows, strict=True):
        err, f = refused.get(proposal.id), row.form
        if err is None or _said_at_a_field(err, f):
            continue
        f.decision.errors = [*f.decision.errors, str(err.message)]


@bp.route("/p/<slug>/review", methods=["GET", "POST"])
@login_required
def bulk(slug: str) -> Any:
    """Review many proposals on one page: one row each, saved together."""
    process = official_process(slug)
    db = get_session()
    page = min(valid_id(request.args.get("page", "1")) or 1, 10_000)
    status = 200
    has_next = False
    if request.method == "POST":
        form = BulkReviewForm()
        ids = []
        for row in form.rows:
            pid = valid_id(row.form.proposal_id.data)
            if pid is None:
                raise user_error(400, _("The form was not complete. Please reload the page."))
            ids.append(pid)
        found = {p.id: p for p in db.scalars(sa.select(Proposal).where(Proposal.id.in_(ids)))}
        if any(found.get(i) is None or found[i].process_id != process.id for i in ids):
            abort(404)
        for row, pid in zip(form.rows, ids, strict=True):
            row.summary_label = _row_label(found[pid])
        if form.validate_on_submit():
            reviews = [
                (found[int(row.form.proposal_id.data)], services.ReviewInput(
                    feasibility=_feasibility(row.form.feasibility.data),
                    official_cost=row.form.official_cost.amount,
                    answer=row.form.answer.data or "",
                    decision=row.form.decision.data or "",
                ))
                for row in form.rows
            ]  # fmt: skip
            with attempt(db) as outcome:
                reviewed = services.review_many(db, process, current_user, reviews, utcnow())
            if outcome.ok:
                n = len(reviewed)
                flash(ngettext("%(num)d proposal reviewed.", "%(num)d proposals reviewed.", n),
                      "success")  # fmt: skip
                return redirect(url_for(".bulk", slug=process.slug, page=page), code=303)
            form.form_errors.append(outcome.message)
            status = outcome.status
            if isinstance(outcome.error, services.BulkReviewFailed):
                for row in form.rows:
                    err = outcome.error.errors.get(int(row.form.proposal_id.data))
                    if err is not None:
                        row.form.decision.errors = [*row.form.decision.errors, str(err.message)]
        else:
            status = 400
            _row_refusals(db, process, form, found)
        proposals = [found[i] for i in ids]
        has_next = bool(services.reviewable(db, process, offset=page * BULK_PAGE, limit=1))
    else:
        # One row more than a page tells whether there is a next page.
        proposals = services.reviewable(
            db, process, offset=(page - 1) * BULK_PAGE, limit=BULK_PAGE + 1
        )
        has_next = len(proposals) > BULK_PAGE
        proposals = proposals[:BULK_PAGE]
        form = BulkReviewForm()
        for p in proposals:
            form.rows.append_entry({
                "proposal_id": str(p.id),
                "feasibility": p.feasibility.value if p.feasibility else "",
                "official_cost": str(p.official_cost or ""),
                "answer": p.answer,
                "decision": "",
            })  # fmt: skip
    rows = list(zip(form.rows, proposals, strict=True))
    return render_template("moderation/bulk.html", process=process, form=form, rows=rows,
                           page=page, has_next=has_next, locale=locale_code()), status  # fmt: skip
