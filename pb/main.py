"""Home page (processes by phase), language switch and health check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from sqlalchemy.orm import selectinload

from pb.db import get_session, utcnow
from pb.i18n import LOCALES
from pb.pagecache import public_page
from pb.processes.models import Process
from pb.processes.services import group_by_phase
from pb.security import is_safe_redirect

bp = Blueprint("main", __name__)

LOGO_TYPES = {".svg": "image/svg+xml", ".png": "image/png"}


@bp.app_context_processor
def _municipality() -> dict[str, Any]:
    """The municipality that runs this pb: its name and whether it has a logo (settings)."""
    return {
        "MUNICIPALITY_NAME": current_app.config["MUNICIPALITY_NAME"],
        "MUNICIPALITY_LOGO": bool(current_app.config["MUNICIPALITY_LOGO"]),
    }


@bp.get("/brand.css")
def brand_css() -> Response:
    """The municipality's main colour as a stylesheet (the CSP allows no inline styles);
    BRAND_COLOUR is checked for contrast with white when pb starts."""
    colour = current_app.config["BRAND_COLOUR"]
    body = f":root {{ --brand: {colour}; --brand-tint: color-mix(in srgb, {colour} 10%, #fff); }}\n"
    response = Response(body, mimetype="text/css")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


@bp.get("/brand/logo")
def brand_logo() -> Response:
    path = Path(current_app.config["MUNICIPALITY_LOGO"] or "")
    kind = LOGO_TYPES.get(path.suffix.lower())
    if not current_app.config["MUNICIPALITY_LOGO"] or kind is None or not path.is_file():
        abort(404)
    response = Response(path.read_bytes(), mimetype=kind)
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


@bp.get("/")
@public_page()
def home() -> str:
    # Grouping by phase reads every process's phases: load them in one query, not one each.
    stmt = (
        sa.select(Process).options(selectinload(Process.phases)).order_by(Process.created_at.desc())
    )
    if not (current_user.is_authenticated and current_user.is_admin):
        stmt = stmt.where(Process.published.is_(True))
    processes = list(get_session().scalars(stmt))
    now = utcnow()
    return render_template("home.html", groups=group_by_phase(processes, now), now=now)


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
