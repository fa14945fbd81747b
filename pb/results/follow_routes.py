"""Following projects without an account: the form linked from the ballot's receipt page,
the confirmation by a signed link, and stopping with one click.

GET never changes state: the signed links show a button that POSTs. The stop link may be
POSTed directly by a mail client, so its signed token, not a CSRF token, protects it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext as _

from pb.db import get_session
from pb.i18n import locale_code
from pb.processes.services import load_process
from pb.results import feedback
from pb.security import csrf_exempt
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
    with attempt(session) as done:
        feedback.request_follow(session, process, email, chosen, locale_code())
    if done.error:
        return render_template("results/follow.html", error=done.message, **context), done.status
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
