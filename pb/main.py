"""Home page (processes by phase), language switch and health check."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from pb.db import get_session, utcnow
from pb.i18n import LOCALES
from pb.processes.models import Process
from pb.processes.services import group_by_phase
from pb.security import is_safe_redirect

bp = Blueprint("main", __name__)


@bp.get("/")
def home() -> str:
    # Grouping by phase reads every process's phases: load them in one query, not one each.
    stmt = (
        sa.select(Process).options(selectinload(Process.phases)).order_by(Process.created_at.desc())
    )
    if not (current_user.is_authenticated and current_user.is_admin):
        stmt = stmt.where(Process.published.is_(True))
    processes = list(get_session().scalars(stmt))
    return render_template("home.html", groups=group_by_phase(processes, utcnow()))


@bp.post("/lang")
def set_language() -> Any:
    lang = request.form.get("lang")
    if lang in LOCALES:
        session["lang"] = lang
    target = request.form.get("next")
    return redirect(target if is_safe_redirect(target) else "/", code=303)


@bp.get("/favicon.ico")
def favicon() -> Any:
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    get_session().execute(sa.text("SELECT 1"))
    return {"status": "ok"}
