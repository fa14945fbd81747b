"""Open data and the read-only JSON API (``/api/v1``).

Only public fields of public proposals: no drafts, nothing hidden, no author, no e-mail.
Lists are paginated (``?page=``, ``?per_page=`` up to 100). CSV cells that a spreadsheet
would run as a formula are prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, jsonify, request, url_for
from sqlalchemy.orm import Session, raiseload

from pb.db import get_session, utcnow
from pb.processes.models import Process
from pb.processes.services import load_process
from pb.proposals import queries
from pb.proposals.models import MAX_ID, Project, Proposal

bp = Blueprint("api", __name__)

MAX_PER_PAGE = 100
MAX_PAGE = 100_000  # further is past the end anyway, and keeps OFFSET a small number
CSV_FIELDS = (
    "id", "url", "title", "description", "category", "area", "address", "latitude",
    "longitude", "cost_estimate", "status", "feasibility", "official_cost", "answer",
    "answered_at", "published_at", "support_count", "comment_count", "merged_into",
    "project_code",
)  # fmt: skip


def _base() -> str:
    return str(current_app.config["BASE_URL"]).rstrip("/")


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def proposal_data(process: Process, p: Proposal, projects: dict[int, str]) -> dict[str, Any]:
    category = next((c for c in process.categories if c.id == p.category_id), None)
    area = next((a for a in process.areas if a.id == p.area_id), None)
    return {
        "id": p.id,
        "url": _base() + url_for("proposals.show", slug=process.slug, pid=p.id),
        "process": process.slug,
        "title": p.title,
        "description": p.description,
        "category": category.key if category else None,
        "category_name_sv": category.name_sv if category else None,
        "category_name_en": category.name("en") if category else None,
        "area": area.name if area else None,
        "address": p.address,
        "latitude": p.latitude,
        "longitude": p.longitude,
        "cost_estimate": p.cost_estimate,
        "status": p.status.value,
        "feasibility": p.feasibility.value if p.feasibility else None,
        "official_cost": p.official_cost,
        "answer": p.answer,
        "answered_at": _iso(p.answered_at),
        "published_at": _iso(p.published_at),
        "support_count": p.support_count,
        "comment_count": p.comment_count,
        "merged_into": p.merged_into_id,
        "project_code": projects.get(p.id),
    }


def _projects(session: Session, process_id: int) -> dict[int, str]:
    rows = session.execute(
        sa.select(Project.proposal_id, Project.code).where(Project.process_id == process_id)
    )
    return {pid: code for pid, code in rows if pid is not None}


def process_data(process: Process) -> dict[str, Any]:
    now = utcnow()
    current = process.current_phase(now)
    return {
        "slug": process.slug,
        "url": _base() + url_for("processes.show", slug=process.slug),
        "title_sv": process.title_sv,
        "title_en": process.title_en,
        "budget": process.budget,
        "image_url": (
            _base() + url_for("processes.image", name=process.image) if process.image else None
        ),
        "image_alt_sv": process.image_alt_sv or None,
        "image_alt_en": process.image_alt_en or None,
        "current_phase": current.kind.value if current else None,
        "areas": [{"name": a.name, "budget": a.budget} for a in process.areas],
        "categories": [
            {"key": c.key, "name_sv": c.name_sv, "name_en": c.name("en")}
            for c in process.categories
        ],
        "phases": [
            {"kind": ph.kind.value, "starts_at": _iso(ph.starts_at), "ends_at": _iso(ph.ends_at)}
            for ph in process.phases
        ],
        "proposals": _base() + url_for("api.process_proposals", slug=process.slug),
    }


def _paging() -> tuple[int, int]:
    def num(name: str, default: int) -> int:
        try:
            return int(request.args.get(name, default))
        except ValueError:
            return default

    page = min(max(1, num("page", 1)), MAX_PAGE)
    return page, min(MAX_PER_PAGE, max(1, num("per_page", 50)))


def _envelope(data: list[Any], total: int, page: int, per_page: int, endpoint: str,
              **values: Any) -> Response:  # fmt: skip
    pages = max(1, math.ceil(total / per_page))

    def link(n: int) -> str | None:
        if n < 1 or n > pages:
            return None
        return _base() + url_for(endpoint, page=n, per_page=per_page, **values)

    return jsonify(
        {
            "data": data,
            "meta": {"page": page, "per_page": per_page, "total": total, "pages": pages},
            "links": {"self": link(page), "next": link(page + 1), "prev": link(page - 1)},
        }
    )


@bp.get("/api/v1/processes")
def processes_index() -> Response:
    db = get_session()
    page, per_page = _paging()
    where = Process.published.is_(True)
    total = db.scalar(sa.select(sa.func.count()).select_from(Process).where(where)) or 0
    items = db.scalars(
        sa.select(Process).where(where).order_by(Process.id)
        .limit(per_page).offset((page - 1) * per_page)
    )  # fmt: skip
    return _envelope([process_data(p) for p in items], total, page, per_page,
                     "api.processes_index")  # fmt: skip


@bp.get("/api/v1/processes/<slug>")
def process_show(slug: str) -> Response:
    return jsonify({"data": process_data(load_process(slug))})


@bp.get("/api/v1/processes/<slug>/proposals")
def process_proposals(slug: str) -> Response:
    process = load_process(slug)
    db = get_session()
    page, per_page = _paging()
    query = queries.ListQuery.from_args(request.args)
    where = queries.public_filter(process.id)
    if query.status:
        where.append(Proposal.status == query.status)
    if query.q:
        where.extend(queries.search_terms(query.q))
    total = db.scalar(sa.select(sa.func.count()).select_from(Proposal).where(*where)) or 0
    items = db.scalars(
        sa.select(Proposal).where(*where).order_by(Proposal.id)
        .limit(per_page).offset((page - 1) * per_page)
        .options(raiseload(Proposal.author))
    )  # fmt: skip
    projects = _projects(db, process.id)
    extra = {k: v for k, v in (("status", query.status), ("q", query.q or None)) if v}
    return _envelope([proposal_data(process, p, projects) for p in items], total, page,
                     per_page, "api.process_proposals", slug=slug, **extra)  # fmt: skip


@bp.get("/api/v1/proposals/<int:pid>")
def proposal_show(pid: int) -> Response:
    db = get_session()
    proposal = db.get(Proposal, pid) if pid <= MAX_ID else None
    if proposal is None or not proposal.is_public:
        abort(404)
    process = db.get(Process, proposal.process_id)
    if process is None or not process.published:
        abort(404)
    return jsonify({"data": proposal_data(process, proposal, _projects(db, process.id))})


# -- open data files -------------------------------------------------------------------


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


@bp.get("/p/<slug>/proposals.csv")
def open_data_csv(slug: str) -> Response:
    process = load_process(slug)
    db = get_session()
    projects = _projects(db, process.id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    for p in queries.public_all(db, process.id):
        data = proposal_data(process, p, projects)
        writer.writerow([_cell(data[f]) for f in CSV_FIELDS])
    return Response(
        "\ufeff" + out.getvalue(),  # a BOM so that spreadsheets read UTF-8 (å, ä, ö)
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{slug}-proposals.csv"'},
    )


@bp.get("/p/<slug>/proposals.json")
def open_data_json(slug: str) -> Response:
    process = load_process(slug)
    db = get_session()
    projects = _projects(db, process.id)
    response = jsonify(
        {
            "process": process_data(process),
            "proposals": [
                proposal_data(process, p, projects) for p in queries.public_all(db, process.id)
            ],
        }
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{slug}-proposals.json"'
    return response
