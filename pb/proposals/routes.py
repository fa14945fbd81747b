"""Public proposal pages and what participants do on them.

Anyone may read the list and the pages of public proposals; proposing, supporting,
commenting and following need an account. Each POST calls one service, commits once and
redirects (303); refusals are shown in the reader's language and change nothing.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from pb import images
from pb.db import get_session, utcnow
from pb.i18n import locale_code
from pb.pagecache import public_page
from pb.processes.models import PhaseKind, Process
from pb.processes.preload import preload
from pb.processes.services import load_process
from pb.proposals import projects, queries, services, similarity, vocab
from pb.proposals.forms import CommentForm, ProjectTextsForm, ProposalForm
from pb.proposals.models import (
    MAX_ID,
    Comment,
    EventKind,
    Project,
    Proposal,
    ProposalEvent,
    ProposalStatus,
    valid_id,
)
from pb.security import extend_csp, login_required
from pb.web import attempt, status_for

bp = Blueprint("proposals", __name__)


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {
        "status_name": lambda s: vocab.name(vocab.STATUSES, s),
        "feasibility_name": lambda f: vocab.name(vocab.FEASIBILITY, f),
        "event_name": lambda k: vocab.name(vocab.EVENTS, k),
        "account_proposals": lambda user: queries.of_person(get_session(), user.id),
    }


@bp.before_request
def _map_csp() -> None:
    """Let pages show map tiles from the configured tile server, and nothing else."""
    tiles = current_app.config.get("MAP_TILE_URL") or ""
    if tiles:
        parts = urlsplit(tiles)
        extend_csp("img-src", f"{parts.scheme}://{parts.netloc}")


# -- loading ---------------------------------------------------------------------------


def load_proposal(process: Process, pid: int) -> Proposal:
    """The proposal, or 404. Drafts exist for their author only; hidden proposals for
    their author and the process's officials (others get a 410 page that says it is hidden)."""
    if not 1 <= pid <= MAX_ID:
        abort(404)
    proposal = get_session().get(Proposal, pid)
    if proposal is None or proposal.process_id != process.id:
        abort(404)
    is_author = proposal.is_author(current_user)
    if proposal.is_private and not is_author:
        abort(404)
    if proposal.hidden and not (is_author or process.is_official(current_user)):
        # Say so (410, gone for now) rather than "not found": a reader who followed a link,
        # from a mail or a page, learns why it is not there and that it may come back.
        page = render_template("proposals/hidden.html", process=process, locale=locale_code())
        abort(make_response(page, 410))
    return proposal


def _back(process: Process, proposal: Proposal, anchor: str = "") -> Any:
    url = url_for(".show", slug=process.slug, pid=proposal.id)
    return redirect(url + (f"#{anchor}" if anchor else ""), code=303)


def _seed() -> int:
    seed = session.get("proposal_seed")
    if not isinstance(seed, int):
        seed = secrets.randbelow(2**31 - 1)
        session["proposal_seed"] = seed
    return seed


# -- browsing --------------------------------------------------------------------------


@bp.get("/p/<slug>/proposals")
@public_page(args=("area", "category", "status", "sort", "page", "seed"),
             when=lambda: request.args.get("sort") != "random" or bool(request.args.get("seed")))  # fmt: skip
def index(slug: str) -> Any:
    process = load_process(slug)
    preload(get_session(), process)  # the filters show its areas and categories
    args = request.args
    seed = _seed() if args.get("sort") == "random" and not args.get("seed") else 0
    query = queries.ListQuery.from_args(args, seed=seed)
    page = queries.public_list(get_session(), process.id, query)
    now = utcnow()
    return render_template(
        "proposals/list.html",
        process=process,
        query=query,
        page=page,
        any_proposal=bool(page.total) or queries.any_public(get_session(), process.id),
        areas={a.id: a for a in process.areas},
        categories={c.id: c for c in process.categories},
        statuses=vocab.STATUSES,
        sorts=vocab.SORTS,
        can_propose=process.in_phase(PhaseKind.PROPOSALS, now),
        locale=locale_code(),
    )


@bp.route("/p/<slug>/projects", methods=["GET", "POST"])
@login_required
def ballot_projects(slug: str) -> Any:
    """Officials: the ballot's projects, each with its English title and easy-to-read
    summary to write (until the ballot freezes)."""
    process = load_process(slug)
    if not process.is_official(current_user):
        abort(403)
    db = get_session()
    rows = projects.ballot(db, process)
    status = 200
    failed: tuple[str, ProjectTextsForm] | None = None
    if request.method == "POST":
        project = next((p for p in rows if p.code == request.form.get("project")), None)
        if project is None:
            abort(404)
        form = ProjectTextsForm(prefix=project.code)
        if form.validate_on_submit():
            with attempt(db) as done:
                changed = projects.set_texts(
                    db, process, project, title_en=form.title_en.data or "",
                    easy_sv=form.easy_sv.data or "", easy_en=form.easy_en.data or "",
                    actor=current_user, now=utcnow(),
                )  # fmt: skip
            if done.ok:
                flash(_("Saved.") if changed else _("Nothing was changed."), "success")
                return redirect(url_for(".ballot_projects", slug=slug) + f"#project-{project.code}",
                                code=303)  # fmt: skip
            form.form_errors.append(done.message)
            status = done.status
        else:
            status = 400
        failed = (project.code, form)
    forms = []
    for p in rows:
        if failed and failed[0] == p.code:
            forms.append((p, failed[1]))
        else:
            forms.append((p, ProjectTextsForm(formdata=None, obj=p, prefix=p.code)))
    return render_template("proposals/projects.html", process=process, forms=forms,
                           frozen=process.is_frozen(utcnow()), locale=locale_code()), status  # fmt: skip


@bp.get("/p/<slug>/proposals/mine")
@login_required
def mine(slug: str) -> Any:
    process = load_process(slug)
    items = queries.mine(get_session(), process.id, current_user.id)
    return render_template(
        "proposals/mine.html",
        process=process,
        items=items,
        can_propose=process.in_phase(PhaseKind.PROPOSALS, utcnow()),
        limit=current_app.config["PROPOSALS_PER_PERSON"],
    )


@bp.get("/p/<slug>/proposals/similar")
def similar(slug: str) -> Any:
    """Public proposals whose titles look like ``?title=`` (JSON, for the form's hint)."""
    process = load_process(slug)
    title = (request.args.get("title") or "")[:200]
    exclude = [x for x in [valid_id(request.args.get("exclude"))] if x is not None]
    found = similarity.similar(get_session(), process.id, title, exclude=exclude)
    return jsonify(
        {
            "proposals": [
                {
                    "id": p.id,
                    "title": p.title,
                    "status": p.status.value,
                    "status_name": vocab.name(vocab.STATUSES, p.status),
                    "url": url_for(".show", slug=process.slug, pid=p.id),
                    "score": s,
                }
                for p, s in found
            ]
        }
    )


def _comments(proposal: Proposal) -> list[tuple[Comment, list[Comment]]]:
    rows = list(
        get_session().scalars(
            sa.select(Comment)
            .where(Comment.proposal_id == proposal.id)
            .order_by(Comment.created_at, Comment.id)
        )
    )
    replies: dict[int, list[Comment]] = {}
    for c in rows:
        if c.parent_id is not None:
            replies.setdefault(c.parent_id, []).append(c)
    return [(c, replies.get(c.id, [])) for c in rows if c.parent_id is None]


@bp.get("/p/<slug>/proposals/<int:pid>")
@public_page()
def show(slug: str, pid: int) -> Any:
    process = load_process(slug)
    return _render_show(process, load_proposal(process, pid), CommentForm(), 200)


def _render_show(process: Process, proposal: Proposal, comment_form: CommentForm,
                 status: int) -> Any:  # fmt: skip
    db = get_session()
    now = utcnow()
    official = process.is_official(current_user)
    is_author = proposal.is_author(current_user)
    events = list(
        db.scalars(
            sa.select(ProposalEvent)
            .where(ProposalEvent.proposal_id == proposal.id)
            .order_by(ProposalEvent.id)
        )
    )
    if not (official or is_author):
        events = [e for e in events if e.kind not in (EventKind.HIDDEN, EventKind.RESTORED)]
    # Proposals the history links to: hidden ones only for officials (their titles are
    # hidden content too).
    other_ids = {e.other_id for e in events if e.other_id}
    others = {
        p.id: p
        for p in (db.scalars(sa.select(Proposal).where(Proposal.id.in_(other_ids)))
                  if other_ids else ())
        if p.is_public or official
    }  # fmt: skip
    merged_into = proposal.merged_into
    if merged_into is not None and not (merged_into.is_public or official):
        merged_into = None
    merged_from = [
        p
        for p in db.scalars(sa.select(Proposal).where(Proposal.merged_into_id == proposal.id))
        if p.is_public or official
    ]
    comments = _comments(proposal)
    return render_template(
        "proposals/show.html",
        process=process,
        proposal=proposal,
        events=events,
        others=others,
        merged_from=merged_from,
        merged_into=merged_into,
        project=db.scalar(sa.select(Project).where(Project.proposal_id == proposal.id)),
        comments=comments,
        supported=services.has_support(db, proposal, current_user),
        following=services.is_following(db, proposal, current_user),
        can_edit=services.can_edit(process, proposal, current_user, now),
        can_withdraw=services.can_withdraw(process, proposal, current_user, now),
        discussion_open=services.discussion_open(process, proposal, now),
        is_official=official,
        is_author=is_author,
        comment_form=comment_form,
        locale=locale_code(),
        map_url=_osm_link(proposal),
    ), status


def _osm_link(proposal: Proposal) -> str | None:
    if proposal.latitude is None or proposal.longitude is None:
        return None
    lat, lon = round(proposal.latitude, 5), round(proposal.longitude, 5)
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"


@bp.get("/uploads/proposals/<name>")
def image(name: str) -> Any:
    if images.path_of(current_app.config["UPLOAD_DIR"], name, folder=images.PROPOSALS) is None:
        abort(404)
    proposal = get_session().scalar(sa.select(Proposal).where(Proposal.image == name))
    if proposal is None:
        abort(404)
    process = get_session().get(Process, proposal.process_id)
    assert process is not None
    load_proposal(load_process(process.slug), proposal.id)  # 404 unless the viewer may see it
    return images.send(name, folder=images.PROPOSALS)


# -- proposing -------------------------------------------------------------------------


def _closed_page(process: Process) -> Any:
    return render_template(
        "proposals/closed.html", process=process, message=services.PhaseClosed.message
    ), 403


def _fields(form: ProposalForm, image_name: str | None) -> services.ProposalFields:
    return services.ProposalFields(
        title=form.title.data or "",
        description=form.description.data or "",
        category_id=form.id_or_none(form.category),
        area_id=form.id_or_none(form.area),
        address=form.address.data or "",
        latitude=form.latitude.data,
        longitude=form.longitude.data,
        cost_estimate=form.cost_estimate.amount,
        consent=bool(form.consent.data),
        image=image_name,
        remove_image=bool(form.remove_image.data),
    )


def _render_form(process: Process, form: ProposalForm, proposal: Proposal | None,
                 status: int) -> Any:  # fmt: skip
    suggestions: list[tuple[Proposal, float]] = []
    if form.title.data and request.method == "POST":
        suggestions = similarity.similar(
            get_session(), process.id, form.title.data,
            exclude=[proposal.id] if proposal else [],
        )  # fmt: skip
    return render_template(
        "proposals/form.html",
        process=process,
        form=form,
        proposal=proposal,
        suggestions=suggestions,
        map_tiles=current_app.config["MAP_TILE_URL"],
        map_center=current_app.config["MAP_CENTER"],
    ), status


def _save(process: Process, form: ProposalForm, proposal: Proposal | None) -> Any:
    """Shared by new and edit: validate, store the image, call one service, commit."""
    publish = request.form.get("action") == "publish"
    form.publishing = publish or (proposal is not None and proposal.status != ProposalStatus.DRAFT)
    if not form.validate_on_submit():
        return _render_form(process, form, proposal, 400)
    ok, image_name = images.store_upload(form.image, folder=images.PROPOSALS)
    if not ok:
        return _render_form(process, form, proposal, 400)
    db = get_session()
    old_image = proposal.image if proposal else ""
    with attempt(db) as done:
        if image_name:
            done.on_failure(lambda: images.discard(image_name, folder=images.PROPOSALS))
        if proposal is None:
            proposal = services.create(
                db, process, current_user, _fields(form, image_name), publish=publish,
                limit=current_app.config["PROPOSALS_PER_PERSON"], now=utcnow(),
            )  # fmt: skip
        else:
            services.update(
                db, process, proposal, current_user, _fields(form, image_name),
                publish=publish, limit=current_app.config["PROPOSALS_PER_PERSON"], now=utcnow(),
            )  # fmt: skip
    if not done.ok:
        form.form_errors.append(done.message)
        return _render_form(process, form, proposal if proposal and proposal.id else None,
                            done.status)  # fmt: skip
    assert proposal is not None
    if old_image and old_image != proposal.image:
        images.discard(old_image, folder=images.PROPOSALS)
    if proposal.status == ProposalStatus.DRAFT:
        flash(_("Your draft is saved. Only you can see it."), "success")
    elif publish:
        flash(_("Thank you! Your proposal is published."), "success")
    else:
        flash(_("Your changes are saved."), "success")
    return _back(process, proposal)


@bp.route("/p/<slug>/proposals/new", methods=["GET", "POST"])
@login_required
def new(slug: str) -> Any:
    process = load_process(slug)
    preload(get_session(), process)  # its phases, and the form's areas and categories
    if not process.in_phase(PhaseKind.PROPOSALS, utcnow()):
        return _closed_page(process)
    form = ProposalForm(process, locale_code())
    if request.method == "POST":
        return _save(process, form, None)
    return _render_form(process, form, None, 200)


@bp.route("/p/<slug>/proposals/<int:pid>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str, pid: int) -> Any:
    process = load_process(slug)
    proposal = load_proposal(process, pid)
    if not proposal.is_author(current_user):
        abort(403)
    if not process.in_phase(PhaseKind.PROPOSALS, utcnow()):
        return _closed_page(process)
    if not services.can_edit(process, proposal, current_user, utcnow()):
        flash(str(services.NotEditable.message), "error")
        return _back(process, proposal)
    form = ProposalForm(process, locale_code(), obj=None if request.method == "POST" else proposal)
    if request.method == "GET":
        form.category.data = str(proposal.category_id or "")
        form.area.data = str(proposal.area_id or "")
        form.cost_estimate.data = str(proposal.cost_estimate or "")
        return _render_form(process, form, proposal, 200)
    return _save(process, form, proposal)


@bp.get("/p/<slug>/proposals/<int:pid>/withdraw")
@login_required
def withdraw_confirm(slug: str, pid: int) -> Any:
    """Ask before withdrawing (or, for a draft, deleting); say why when it is not possible."""
    process = load_process(slug)
    proposal = load_proposal(process, pid)
    refusal = services.withdraw_refusal(process, proposal, current_user, utcnow())
    return render_template(
        "proposals/withdraw.html", process=process, proposal=proposal, refusal=refusal,
        on_ballot=proposal.status == ProposalStatus.ACCEPTED,
    ), status_for(refusal) if refusal else 200  # fmt: skip


@bp.post("/p/<slug>/proposals/<int:pid>/withdraw")
@login_required
def withdraw(slug: str, pid: int) -> Any:
    process = load_process(slug)
    proposal = load_proposal(process, pid)
    if not proposal.is_author(current_user):
        abort(403)
    if request.form.get("confirm") != "yes":  # not from the confirmation page: ask first
        return redirect(url_for(".withdraw_confirm", slug=process.slug, pid=proposal.id), code=303)
    was_draft = proposal.status == ProposalStatus.DRAFT
    with attempt() as done:
        image_name = services.withdraw(get_session(), process, proposal, current_user, utcnow())
    if done.flash_error():
        return _back(process, proposal)
    if image_name:
        images.discard(image_name, folder=images.PROPOSALS)
    if was_draft:
        flash(_("Your draft is deleted."), "success")
        return redirect(url_for(".mine", slug=process.slug), code=303)
    flash(_("Your proposal is withdrawn."), "success")
    return _back(process, proposal)


# -- supporting, discussing, following -------------------------------------------------


def _act(process: Process, proposal: Proposal, call: Any, done: str, anchor: str = "") -> Any:
    db = get_session()
    # An IntegrityError here is the same action twice at the same moment.
    with attempt(db, also=(IntegrityError,),
                 as_error=lambda _exc: services.AlreadySupported()) as outcome:  # fmt: skip
        call(db)
    if not outcome.flash_error():
        flash(done, "success")
    return _back(process, proposal, anchor)


@bp.post("/p/<slug>/proposals/<int:pid>/support")
@login_required
def support(slug: str, pid: int) -> Any:
    process = load_process(slug)
    proposal = load_proposal(process, pid)
    return _act(process, proposal, lambda db: services.support(
        db, process, proposal, current_user, utcnow()),
        _("You support this proposal."), "support")  # fmt: skip


@bp.post("/p/<slug>/proposals/<int:pid>/unsupport")
@login_required
def unsupport(slug: str, pid: int) -> Any:
    process = load_process(slug)
    proposal = load_proposal(process, pid)
    return _act(process, proposal, lambda db: services.unsupport(
        db, process, proposal, current_user, utcnow()),
        _("Your support is withdrawn."), "support")  # fmt: skip


@bp.post("/p/<slug>/proposals/<int:pid>/follow")
@login_required
def follow(slug: str, pid: int) -> Any:
    process = load_process(slug)
    proposal = load_proposal(process, pid)
    return _act(process, proposal, lambda db: services.follow(db, proposal, current_user),
                _("You follow this proposal. We will e-mail you when it changes."),
                "follow")  # fmt: skip


@bp.post("/p/<slug>/proposals/<int:pid>/unfollow")
@login_required
def unfollow(slug: str, pid: int) -> Any:
    process = load_process(slug)
    proposal = load_proposal(process, pid)
    return _act(process, proposal, lambda db: services.unfollow(db, proposal, current_user),
                _("You no longer follow this proposal."), "follow")  # fmt: skip


@bp.post("/p/<slug>/proposals/<int:pid>/comments")
@login_required
def comment(slug: str, pid: int) -> Any:
    process = load_process(slug)
    proposal = load_proposal(process, pid)
    form = CommentForm()
    if not form.validate_on_submit():
        return _render_show(process, proposal, form, 400)
    db = get_session()
    with attempt(db) as outcome:
        services.add_comment(db, process, proposal, current_user, form.body.data or "",
                             utcnow(), parent_id=form.parent_id.data)  # fmt: skip
    if outcome.ok:
        flash(_("Your comment is published."), "success")
        return _back(process, proposal, "comments")
    # Refused (a reply to a comment hidden or gone meanwhile, comments closed, ...): the
    # page again with the text typed in the comment box, never a redirect that drops it.
    form.form_errors.append(outcome.message)
    if isinstance(outcome.error, services.BadParent):
        form.parent_id.data = None
        form.form_errors.append(_("Your text is kept below: you can publish it as a comment."))
    return _render_show(process, proposal, form, outcome.status)
