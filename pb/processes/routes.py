"""Public process pages and the admin screens that create and edit them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from pb import images
from pb.accounts.models import User
from pb.audit import AuditEvent, action_label, head
from pb.db import get_session, utcnow
from pb.errors import Conflict
from pb.i18n import local_tz, locale_code
from pb.pagecache import public_page
from pb.processes import auditlog, services, vocab
from pb.processes.contract import Contract
from pb.processes.forms import ProcessForm
from pb.processes.models import PhaseKind, Process
from pb.processes.preload import preload
from pb.processes.present import ballot_lines
from pb.processes.services import load_process
from pb.security import admin_required
from pb.web import Attempt, attempt, status_for

bp = Blueprint("processes", __name__)
admin_bp = Blueprint("process_admin", __name__, url_prefix="/admin/processes")


class EditedMeanwhile(Conflict):
    message = _l("Someone else changed this process at the same time. Reload and try again.")


@bp.app_context_processor
def _vocab_helpers() -> dict[str, Any]:
    return {"phase_name": lambda key: vocab.name(vocab.PHASES, key)}


@bp.get("/p/<slug>")
@public_page()
def show(slug: str) -> str:
    process = load_process(slug)
    preload(get_session(), process)
    now = utcnow()
    contract = Contract.of(process)
    return render_template(
        "processes/show.html",
        process=process,
        contract=contract,
        ballot_lines=ballot_lines(contract),
        current=process.current_phase(now),
        upcoming=process.next_phase(now),
        frozen=process.is_frozen(now),
        now=now,
        vocab=vocab,
        locale=locale_code(),
        PhaseKind=PhaseKind,
        audit_head=head(get_session()),
    )


@bp.get("/uploads/processes/<name>")
def image(name: str) -> Any:
    """A process's picture, to those who may see the process (a draft's to its officials)."""
    if images.path_of(current_app.config["UPLOAD_DIR"], name, folder=images.PROCESSES) is None:
        abort(404)
    slug = get_session().scalar(sa.select(Process.slug).where(Process.image == name))
    if slug is None:
        abort(404)
    load_process(slug)  # 404 unless the viewer may see the process
    return images.send(name, folder=images.PROCESSES)


# -- admin -----------------------------------------------------------------------------


@admin_bp.get("/")
@admin_required
def index() -> str:
    processes = get_session().scalars(sa.select(Process).order_by(Process.created_at.desc()))
    return render_template("processes/admin_index.html", processes=list(processes))


def _form_from_process(process: Process) -> ProcessForm:
    form = ProcessForm(obj=process, current_image=process.image)
    if request.method == "GET":
        tz = local_tz()
        for i, area in enumerate(process.areas):
            data = {"area_id": str(area.id), "name": area.name, "budget": area.budget,
                    "whole_municipality": area.whole_municipality}  # fmt: skip
            if i < len(form.areas.entries):
                form.areas.entries[i].form.process(data=data)
            else:
                form.areas.append_entry(data)
        for i, cat in enumerate(process.categories):
            data = {"name_sv": cat.name_sv, "name_en": cat.name_en}
            if i < len(form.categories.entries):
                form.categories.entries[i].form.process(data=data)
            else:
                form.categories.append_entry(data)
        for phase in process.phases:
            sub = getattr(form.phases.form, phase.kind.value.replace("-", "_")).form
            sub.starts_at.data = phase.starts_at.astimezone(tz).replace(tzinfo=None)
            sub.ends_at.data = phase.ends_at.astimezone(tz).replace(tzinfo=None)
        form.connections.data = list(process.connections)
        form.code_channels.data = list(process.code_channels)
    return form


def _changes(form: ProcessForm, image: str | None) -> services.ProcessChanges:
    fields = {name: getattr(form, name).data for name in services.EDITABLE_FIELDS}
    for text_field in ("title_en", "purpose_en", "easy_sv", "easy_en", "question_sv", "question_en", "decision_body_en",
                       "decision_text_en", "other_connection_sv", "other_connection_en",
                       "image_alt_sv", "image_alt_en"):  # fmt: skip
        fields[text_field] = (fields[text_field] or "").strip()
    return services.ProcessChanges(
        fields=fields,
        areas=form.area_data(),
        categories=form.category_data(),
        phases=form.phase_data(local_tz()),
        image=image,
        remove_image=bool(form.remove_image.data),
    )


def _store_picture(form: ProcessForm) -> tuple[bool, str | None]:
    """The sent picture, checked and stored (as a proposal's is), when the rest of the form
    is valid: a refused file is one more error on the form and nothing is stored."""
    if not form.validate_on_submit():
        return False, None
    return images.store_upload(form.image, folder=images.PROCESSES)


@admin_bp.route("/new", methods=["GET", "POST"])
@admin_required
def create() -> Any:
    form = ProcessForm()
    if request.method == "GET":
        form.influence_level.data = "co-creation"
        form.connections.data = ["lives", "studies", "works", "business"]
    status = 200
    ok, image = _store_picture(form)
    if ok:
        with attempt() as done:
            if image:
                done.on_failure(lambda: images.discard(image, folder=images.PROCESSES))
            process = services.create_process(get_session(), _changes(form, image), current_user)
        if done.ok:
            flash(_("The process has been created."), "success")
            return redirect(url_for("processes.show", slug=process.slug), code=303)
        status = _show_refusal(form, done)
    return render_template("processes/edit.html", form=form, process=None, frozen=False), (
        400 if form.errors and status < 400 else status
    )


def _show_refusal(form: ProcessForm, done: Attempt) -> int:
    """Put a refused save's message where it belongs (the web address, the areas, or a
    message at the top); returns the status."""
    if isinstance(done.error, services.SlugTaken):
        form.slug.errors.append(done.message)
        return 400
    if isinstance(done.error, services.PictureNeedsText):
        form.image_alt_sv.errors.append(done.message)
        return 400
    if isinstance(done.error, services.BudgetBelowBallot) and done.error.area is None:
        form.budget.errors.append(done.message)
    elif isinstance(done.error, services.BadAreas | services.AreaInUse
                    | services.BudgetBelowBallot):  # fmt: skip
        form.areas.errors.append(done.message)
    else:
        flash(done.message, "error")
    return done.status


@admin_bp.route("/<slug>/edit", methods=["GET", "POST"])
@admin_required
def edit(slug: str) -> Any:
    process = load_process(slug)
    now = utcnow()
    frozen = process.is_frozen(now)
    form = _form_from_process(process)
    status = 200
    if request.method == "POST" and frozen:
        # The refusal itself is audited (its own commit): who tried to change frozen rules.
        with attempt():
            services.record_refused_edit(get_session(), process, current_user)
        flash(str(services.RulesFrozen.message), "error")
        return render_template("processes/edit.html", form=form, process=process,
                               frozen=True), 409  # fmt: skip
    ok, image = _store_picture(form)
    if ok:
        old_image = process.image
        with attempt(also=(StaleDataError,), as_error=lambda _exc: EditedMeanwhile()) as done:
            if image:
                done.on_failure(lambda: images.discard(image, folder=images.PROCESSES))
            diff = services.update_process(get_session(), process, _changes(form, image),
                                           current_user, now)  # fmt: skip
        if done.ok:
            if old_image and old_image != process.image:
                images.discard(old_image, folder=images.PROCESSES)
            flash(_("Saved.") if diff else _("Nothing was changed."), "success")
            return redirect(url_for("processes.show", slug=process.slug), code=303)
        status = _show_refusal(form, done)
    if form.errors and status < 400:
        status = 400
    return render_template("processes/edit.html", form=form, process=process, frozen=frozen), status


@admin_bp.post("/<slug>/freeze")
@admin_required
def freeze(slug: str) -> Any:
    process = load_process(slug)
    with attempt():
        services.freeze(get_session(), process, current_user, utcnow())
    flash(_("The rules are frozen. They can no longer be changed."), "success")
    return redirect(url_for("processes.show", slug=process.slug), code=303)


@admin_bp.route("/<slug>/officials", methods=["GET", "POST"])
@admin_required
def officials(slug: str) -> Any:
    process = load_process(slug)
    session = get_session()
    email = ""
    error = None
    if request.method == "POST":
        email = (request.form.get("email") or "").strip()
        with attempt(session) as done:
            user = services.assign_official_by_email(session, process, email, current_user)
        if done.ok:
            flash(_("%(name)s is now an official of this process.", name=user.display_name),
                  "success")  # fmt: skip
            return redirect(url_for(".officials", slug=slug), code=303)
        error = done.error
    return _officials_page(process, email=email, error=error)


def _officials_page(process: Process, *, email: str = "", error: Any = None) -> Any:
    users = services.officials_of(get_session(), process)
    return render_template("processes/officials.html", process=process, users=users,
                           email=email, error=error), status_for(error) if error else 200  # fmt: skip


@admin_bp.post("/<slug>/officials/remove")
@admin_required
def remove_official(slug: str) -> Any:
    """Take an official off the process: first a page that asks, then (``confirm=yes``) the
    removal itself."""
    process = load_process(slug)
    session = get_session()
    raw = request.form.get("user_id") or ""
    user = session.get(User, int(raw)) if raw.isdigit() and len(raw) < 12 else None
    if user is None or not any(o.user_id == user.id for o in process.officials):
        return _officials_page(process, error=services.NotAnOfficial())
    if request.form.get("confirm") != "yes":
        return render_template("processes/official_remove.html", process=process, user=user)
    name = user.display_name
    with attempt(session) as done:
        services.remove_official(session, process, user, current_user)
    if done.ok:
        flash(_("%(name)s is no longer an official of this process.", name=name), "success")
        return redirect(url_for(".officials", slug=slug), code=303)
    return _officials_page(process, error=done.error)


@admin_bp.get("/<slug>/audit")
@admin_required
def audit(slug: str) -> str:
    process = load_process(slug)
    session = get_session()
    events = list(
        session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.process_id == process.id)
            .order_by(AuditEvent.id.desc())
            .limit(500)
        )
    )
    ids = auditlog.people(events)
    names = {u.id: u.display_name for u in session.scalars(sa.select(User).where(User.id.in_(ids)))}
    context = auditlog.Context(names)
    lines = [(ev, auditlog.present(ev, context)) for ev in events]
    return render_template("processes/audit.html", process=process, lines=lines,
                           action_label=action_label, locale=locale_code(), audit_head=head(session))  # fmt: skip
