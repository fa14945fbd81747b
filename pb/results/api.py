"""``/api/v1/processes/<slug>/results``: the published snapshot as JSON, the same numbers
as the results page (never recounted)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, url_for
from flask_babel import gettext as _

from pb.db import get_session
from pb.errors import user_error
from pb.processes.services import load_process
from pb.results import services

bp = Blueprint("results_api", __name__)


@bp.route("/api/v1/processes/<slug>/results")
def results(slug: str) -> Any:
    process = load_process(slug)
    snap = services.snapshot(get_session(), process)
    if snap is None:
        raise user_error(404, _("The results of this process are not published yet."))
    base = str(current_app.config["BASE_URL"]).rstrip("/")
    data = snap.data
    elections = []
    for e in data["elections"]:
        files = data["files"].get(e["key"], {})
        query = f"?area={e['key']}" if e["key"] else ""
        elections.append({
            "area": e["key"] or None,
            "name": e["name"],
            "budget": e["budget"],
            "spent": e["spent"],
            "ballots": e["ballots"],
            "selected": e["selected"],
            "projects": [
                {"id": p["id"], "title": p.get("title") or p["name"],
                 "title_en": p.get("title_en") or None, "cost": p["cost"],
                 "score": p["score"], "rank": p.get("rank"), "selected": p["selected"],
                 "explanation_en": p["explanation"], "explanation_sv": p["explanation_sv"],
                 "explanation_data": p["explanation_data"]}
                for p in e["projects"]
            ],
            "files": {
                kind: {"sha256": sha,
                       "url": base + url_for("results.ballots", slug=process.slug, kind=kind)
                       + query}
                for kind, sha in files.items()
            },
        })  # fmt: skip
    return jsonify({
        "process": process.slug,
        "published_at": snap.published_at.isoformat(),
        "rule": snap.rule,
        "tie_break": snap.tie_break,
        "seed": snap.seed,
        "rules_fingerprint": snap.fingerprint,
        "audit_head": data.get("audit_head"),
        "ballots": data["ballots"],
        "elections": elections,
        "turnout": {dim: [{"group": k, "ballots": n} for k, n in groups]
                    if isinstance(groups, list) else groups
                    for dim, groups in data["turnout"].items()},
    })  # fmt: skip
