"""Following projects without an account: the form linked from the ballot's receipt page,
the confirmation by a signed link, and stopping with one click. The implementation
follow-up of funded projects: the public page, the officials' forms, photos, the Atom feed.

GET never changes state: the signed links show a button that POSTs. The stop link may be
POSTed directly by a mail client, so its signed token, not a CSRF token, protects it.
"""

from __future__ import annotations

import math
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from pb import images
from pb.db import get_session, utcnow
from pb.errors import user_error
from pb.i18n import locale_code
from pb.processes.models import Process
from pb.processes.services import load_process
from pb.results import feedback, followup
from pb.results.models import ProjectUpdate
from pb.security import client_ip, csrf_exempt, limiter, login_required
from pb.web import attempt

bp = Blueprint("followup", __name__)


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit() and len(v) < 12]


@bp.route("/p/<slug>/follow", methods=["GET", "POST"])
def follow(slug: str) -> Any:
    process = load_process(slug)
    session = get_session()
    projects = feedback.ballot_projects(session, process)
    chosen = _ids(request.values.getlist("project"))
    email = request.form.get("email", "")[:300]
    context = {"process": process, "projects": projects, "chosen": set(chosen),
               "email": email, "locale": locale_code()}  # fmt: skip
    if request.method == "GET":
        return render_template("results/follow.html", **context)
    ip = client_ip()
    by_ip, overall = limiter("follow.ip"), limiter("follow.all")
    wait = max(by_ip.resets_in(ip), overall.resets_in("all"))
    if wait:
        n = max(1, math.ceil(wait.total_seconds() / 60))
        error = ngettext(
            "Too many requests to follow projects have been sent. Try again in %(num)d minute.",
            "Too many requests to follow projects have been sent. Try again in %(num)d minutes.",
            n,
        )
        return render_template("results/follow.html", error=error, **context), 429
    with attempt(session) as done:
        feedback.request_follow(session, process, email, chosen, locale_code())
    if done.error:
        return render_template("results/follow.html", error=done.message, **context), done.status
    by_ip.hit(ip)
    overall.hit("all")
    return render_template("results/follow.html", sent=True, **context)


@bp.route("/p/<slug>/follow/confirm/<token>", methods=["GET", "POST"])
def confirm(slug: str, token: str) -> Any:
    process = load_process(slug)
    session = get_session()
    if request.method == "GET":
        data = feedback.read_token(process, token) if _valid(process, token) else None
        return render_template("results/follow_confirm.html", process=process, token=token,
                               data=data, done=False, locale=locale_code()), (
            200 if data else 400)  # fmt: skip
    projects: list[Any] = []
    with attempt(session) as done:
        projects = feedback.confirm_follow(session, process, token)
    status = done.status if done.error else 200
    return render_template("results/follow_confirm.html", process=process, token=token,
                           data=None if done.error else {}, done=not done.error,
                           projects=projects, error=done.message,
                           locale=locale_code()), status  # fmt: skip


def _valid(process: Any, token: str, purpose: str = "follow") -> bool:
    try:
        feedback.read_token(process, token, purpose)
    except feedback.BadLink:
        return False
    return True


@bp.route("/p/<slug>/follow/stop/<token>", methods=["GET", "POST"])
@csrf_exempt
def stop(slug: str, token: str) -> Any:
    process = load_process(slug)
    session = get_session()
    if not _valid(process, token, "follow-stop"):
        return render_template("results/follow_stop.html", process=process, token=token,
                               error=str(feedback.BadLink.message), done=False,
                               locale=locale_code()), 400  # fmt: skip
    if request.method == "GET":
        return render_template("results/follow_stop.html", process=process, token=token,
                               done=False, locale=locale_code())  # fmt: skip
    with attempt(session):
        feedback.stop_following(session, process, token)
    return render_template("results/follow_stop.html", process=process, token=token,
                           done=True, message=_("Done. You follow none of these projects now."),
                           locale=locale_code())  # fmt: skip


def _funded(process: Process) -> list[followup.FundedProject]:
    try:
        return followup.funded(get_session(), process)
    except followup.NotPublishedYet as exc:
        raise user_error(404, str(exc)) from exc


def _page(process: Process, status: int = 200, **extra: Any) -> Any:
    projects = _funded(process)
    shown = {item.project.id for item in projects}
    errors = extra.get("errors", {})
    # A refusal about a project that is not on the page (not funded) is shown at the top.
    top_error = next((m for pid, m in errors.items() if pid not in shown), "")
    return render_template(
        "results/followup.html", process=process, projects=projects, top_error=top_error,
        names=followup.status_names(), statuses=followup.STATUSES,
        official=process.is_official(current_user), locale=locale_code(),
        errors=extra.pop("errors", {}), typed=extra.pop("typed", {}), **extra,
    ), status  # fmt: skip


@bp.get("/p/<slug>/followup")
def page(slug: str) -> Any:
    return _page(load_process(slug))


def _official(slug: str) -> Process:
    process = load_process(slug)
    if not process.is_official(current_user):
        raise user_error(403, _("Only the officials of this process can do this."))
    return process


@bp.post("/p/<slug>/followup/<int:project_id>/status")
@login_required
def set_status(slug: str, project_id: int) -> Any:
    process = _official(slug)
    session = get_session()
    form = request.form
    with attempt(session) as done:
        followup.set_status(session, process, project_id, status=form.get("status", ""),
                            progress=form.get("progress", "")[:20],
                            reason=form.get("reason", ""), actor=current_user,
                            now=utcnow())  # fmt: skip
    if done.error:
        return _page(process, done.status, errors={project_id: done.message},
                     typed={project_id: form})  # fmt: skip
    return _page(process, saved=project_id)


@bp.post("/p/<slug>/followup/<int:project_id>/update")
@login_required
def add_update(slug: str, project_id: int) -> Any:
    process = _official(slug)
    session = get_session()
    form = request.form
    image = ""
    upload = request.files.get("photo")
    cfg = current_app.config
    if upload is not None and upload.filename:
        try:
            image = images.store(upload.stream, cfg["UPLOAD_DIR"], cfg["UPLOAD_MAX_BYTES"],
                                 folder=images.PROPOSALS)  # fmt: skip
        except images.ImageRejected as exc:
            return _page(process, 400, errors={project_id: str(exc.message)},
                         typed={project_id: form})  # fmt: skip
    with attempt(session) as done:
        if image:
            done.on_failure(lambda: images.discard(image, folder=images.PROPOSALS))
        followup.add_update(session, process, project_id, body=form.get("body", ""),
                            image=image, image_alt=form.get("image_alt", "")[:1000],
                            actor=current_user, now=utcnow())  # fmt: skip
    if done.error:
        return _page(process, done.status, errors={project_id: done.message},
                     typed={project_id: form})  # fmt: skip
    return _page(process, saved=project_id)


@bp.get("/p/<slug>/followup/photo/<name>")
def photo(slug: str, name: str) -> Any:
    process = load_process(slug)
    funded = {item.project.id for item in _funded(process)}
    row = get_session().scalar(sa.select(ProjectUpdate).where(ProjectUpdate.image == name))
    if row is None or row.project_id not in funded:
        abort(404)
    return images.send(name, folder=images.PROPOSALS, cache=None)


@bp.get("/p/<slug>/followup/feed.atom")
def feed(slug: str) -> Any:
    process = load_process(slug)
    body = followup.feed(process, _funded(process), locale_code())
    return Response(body, mimetype="application/atom+xml")
