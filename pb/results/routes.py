"""The results pages: the public page read from the snapshot, the admin preview and
publishing, the ballot downloads (checked against their hash) and the receipt note.

No figure is shown to anyone, admins included, before voting has closed; the public sees
figures only once they are published, and then only the frozen snapshot.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from pb.db import get_session, utcnow
from pb.errors import DomainError, user_error
from pb.i18n import locale_code
from pb.pagecache import public_page
from pb.processes.contract import Contract
from pb.processes.models import Process
from pb.processes.services import load_process
from pb.results import present, services
from pb.results.models import ResultSnapshot
from pb.security import admin_required
from pb.web import attempt, status_for

bp = Blueprint("results", __name__)

MIME = {
    "pb": "text/plain; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json; charset=utf-8",
}


def _rule_names() -> dict[str, str]:
    return {
        "greedy": _(
            "most votes first: projects are funded in order of votes, skipping any "
            "that no longer fit in the budget"
        ),
        "greedy-no-skip": _("most votes first, stopping at the first project that does not fit"),
        "equal-shares": _(
            "equal shares: every voter gets an equal share of the budget and "
            "projects are paid for by the shares of the people who voted for them"
        ),
        "equal-shares-add1": _("equal shares (add1), as in pabulib"),
        "equal-shares-comparison": _("equal shares compared with most votes first"),
        "equal-shares-plain": _("equal shares without completion"),
    }


class _RuleNames:
    def get(self, rule: str) -> str:
        return _rule_names().get(rule, rule)


RULE_NAMES = _RuleNames()


def seed_arg(text: str | None) -> str:
    """The ``--seed`` of ``pb tally`` for a published text seed: the text itself, which
    ``pb tally`` hashes as the web app does (``pb.tally.seed_from_text``)."""
    return text or ""


_VIEWS: dict[tuple[Any, ...], list[present.ElectionView]] = {}
"""Built views of published snapshots, per language: a snapshot never changes, so its view
is built once per process (the key holds the snapshot's file hashes, unique per publishing)."""


def _views(data: dict[str, Any], locale: str, key: tuple[Any, ...] | None) -> list[Any]:
    full = None if key is None else (*key, locale)
    if full is not None and full in _VIEWS:
        return _VIEWS[full]
    files = data.get("files", {})
    views = [present.election_view(e, files.get(e["key"], {}), locale) for e in data["elections"]]
    if full is not None:
        if len(_VIEWS) > 64:
            _VIEWS.clear()
        _VIEWS[full] = views
    return views


def page_context(
    process: Process, data: dict[str, Any], cache_key: tuple[Any, ...] | None = None
) -> dict[str, Any]:
    """What the results template needs, from snapshot-shaped data."""
    locale = locale_code()
    elections = _views(data, locale, cache_key)
    area_names = {a.slug: a.name for a in process.areas}
    return {
        "process": process,
        "contract": Contract.of(process),
        "elections": elections,
        "turnout": data["turnout"],
        "area_names": area_names,
        "group_label": present.group_label,
        "ballots": data["ballots"],
        "locale": locale,
        "rule_names": RULE_NAMES,
        "seed_arg": seed_arg,
    }


@bp.route("/p/<slug>/results")
@public_page()
def show(slug: str) -> Any:
    process = load_process(slug)
    session = get_session()
    snap = services.snapshot(session, process)
    if snap is None:
        closed = services.voting_closed(process, utcnow())
        return render_template("results/pending.html", process=process, closed=closed,
                               locale=locale_code())  # fmt: skip
    key = (process.id, snap.published_at, json.dumps(snap.data.get("files"), sort_keys=True))
    return render_template("results/show.html", snap=snap, preview=False,
                           **page_context(process, snap.data, key))  # fmt: skip


@bp.route("/p/<slug>/results/preview")
@admin_required
def preview(slug: str) -> Any:
    process = load_process(slug)
    session = get_session()
    if services.snapshot(session, process) is not None:
        return redirect(url_for("results.show", slug=slug), code=303)
    now = utcnow()
    if not services.voting_closed(process, now):
        raise user_error(403, str(services.VotingNotClosed.message))
    held = services.held_count(session, process)
    if held:
        return render_template("results/mix.html", process=process, held=held)
    try:
        counted = services.count(session, process, now, mix=False)
    except DomainError as exc:  # a read-only check refused: show why
        raise user_error(status_for(exc), str(exc)) from exc
    data = {
        "ballots": counted.ballots,
        "elections": [services.election_data(e) for e in counted.elections],
        "turnout": counted.turnout,
        "files": {},
    }
    return render_template("results/show.html", snap=None, preview=True, counted=counted,
                           **page_context(process, data))  # fmt: skip


@bp.route("/p/<slug>/results/mix", methods=["POST"])
@admin_required
def mix(slug: str) -> Any:
    process = load_process(slug)
    with attempt() as done:
        services.mix_all(get_session(), process, utcnow())
    if done.flash_error():
        return redirect(url_for("results.show", slug=slug), code=303)
    return redirect(url_for("results.preview", slug=slug), code=303)


@bp.route("/p/<slug>/results/publish", methods=["POST"])
@admin_required
def publish(slug: str) -> Any:
    process = load_process(slug)
    # Two admins publishing at once: the snapshot's primary key refuses the second.
    with attempt(also=(IntegrityError,), as_error=lambda _e: services.AlreadyPublished()) as done:
        services.publish(get_session(), process, current_user, utcnow())
    if done.error is not None:
        flash(done.message, "error")
        target = "results.show" if isinstance(done.error, services.AlreadyPublished) else (
            "results.preview")  # fmt: skip
        if isinstance(done.error, services.VotingNotClosed | services.NoVote):
            target = "results.show"
        return redirect(url_for(target, slug=slug), code=303)
    flash(_("The results are published."), "success")
    return redirect(url_for("results.show", slug=slug), code=303)


@bp.route("/p/<slug>/results/ballots.<kind>")
def ballots(slug: str, kind: str) -> Any:
    process = load_process(slug)
    if kind not in MIME:
        raise user_error(404, _("There is no such download."))
    area = request.args.get("area", "")[:80]
    try:
        row = services.published_file(get_session(), process, area, kind)
    except services.FileTampered as exc:
        raise user_error(409, str(exc)) from exc
    except services.NotPublished as exc:
        raise user_error(404, str(exc)) from exc
    except services.UnknownElection as exc:
        raise user_error(404, str(exc)) from exc
    name = f"{process.slug}{'-' + area if area else ''}.{kind}"
    response = Response(row.content, mimetype=MIME[kind].split(";")[0])
    response.headers["Content-Type"] = MIME[kind]
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Content-SHA256"] = row.sha256
    return response


@bp.app_template_global("results_published")
def results_published(process: Process) -> ResultSnapshot | None:
    """For other packages' templates (the receipt check): the published snapshot, if any."""
    return services.snapshot(get_session(), process)
