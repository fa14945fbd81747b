"""Officials' pages for issuing codes: an anonymous batch as a PDF of cut-out cards, letters
from an uploaded people's file, the list of batches, revoking a batch.

Registered under the voting blueprint (endpoints ``voting.issuing.*``); officials of the
process only; every form has CSRF. The PDF is the response itself: the plain codes exist
only in it (never stored, logged or audited), and the people's file is read from the
upload's stream, never saved. The audit log records each issuance's count and purpose.
"""

from __future__ import annotations

import io
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from pb.db import get_session, utcnow
from pb.errors import Invalid
from pb.i18n import locale_code
from pb.processes import vocab
from pb.processes.contract import Contract
from pb.processes.models import CodeChannel, PhaseKind, Process
from pb.processes.services import load_process
from pb.voting import people as people_module
from pb.voting import services
from pb.voting.cli import _vote_texts, ballot_link, default_web_address, is_web_address
from pb.voting.models import CodeBatch, VotingCode
from pb.web import attempt, status_for

bp = Blueprint("issuing", __name__)

MAX_WEB_BATCH = 5000
"""Codes (cards or letters) per request on the web; ``pb codes`` issues more."""
CHANNELS = (CodeChannel.SCHOOL, CodeChannel.LIBRARY, CodeChannel.LETTER)
"""The channels officials issue through on this page (e-mail is self-service); the page
offers only those the process's contract names (``services.check_channel``)."""


class TooMany(Invalid):
    pass


def _official_process(slug: str) -> Process | ResponseReturnValue:
    process = load_process(slug)
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login", next=request.path))
    if not process.is_official(current_user):
        abort(403)
    return process


def _base() -> str:
    return str(current_app.config.get("BASE_URL") or "http://127.0.0.1:5000")


def _batches(process: Process) -> list[dict[str, Any]]:
    session = get_session()
    rows = session.scalars(
        sa.select(CodeBatch).where(CodeBatch.process_id == process.id).order_by(CodeBatch.id)
    ).all()
    revoked: dict[int, int] = {
        batch_id: n
        for batch_id, n in session.execute(
            sa.select(VotingCode.batch_id, sa.func.count())
            .where(VotingCode.process_id == process.id, VotingCode.revoked.is_(True))
            .group_by(VotingCode.batch_id)
        )
    }
    areas = {a.id: a.name for a in process.areas}
    return [
        {"batch": b, "area": areas.get(b.area_id) if b.area_id else None,
         "revoked_codes": revoked.get(b.id, 0)}
        for b in rows
    ]  # fmt: skip


def _page(process: Process, status: int = 200, **values: Any) -> ResponseReturnValue:
    values.setdefault("errors", [])
    values.setdefault("letter_errors", [])
    values.setdefault("form", request.form)
    stated = Contract.of(process).eligibility.code_channels
    closed = False
    voting = process.phase(PhaseKind.VOTING)
    if voting is None or utcnow() >= voting.ends_at:
        closed = True
    return (
        render_template(
            "voting/issuing.html", process=process, batches=_batches(process),
            districts=[a for a in process.areas if not a.whole_municipality],
            channels=[c for c in CHANNELS if c in stated], max_batch=MAX_WEB_BATCH,
            closed=closed, by_email=CodeChannel.EMAIL in stated,
            default_web_address=default_web_address(_base(), process.slug), vocab=vocab,
            locale=locale_code(), **values,
        ),
        status,
    )  # fmt: skip


@bp.get("/p/<slug>/codes")
def index(slug: str) -> ResponseReturnValue:
    process = _official_process(slug)
    if not isinstance(process, Process):
        return process
    return _page(process)


def _pdf(data: bytes, name: str) -> ResponseReturnValue:
    response = send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                         download_name=name, max_age=0)  # fmt: skip
    response.headers["Cache-Control"] = "no-store"
    return response


def _printing() -> Any:
    """``pb.voting.printing`` (fpdf2, segno, uharfbuzz), loaded when a PDF is first asked
    for rather than in every app process at start."""
    import importlib

    return importlib.import_module("pb.voting.printing")


def _refusal(exc: Exception) -> Invalid:
    """What the printing module refused, in the reader's language."""
    if isinstance(exc, _printing().LetterTooLong):
        if exc.part == "texts":
            return Invalid(_("The letter's texts are too long for one page: shorten who may "
                             "vote or what the vote decides in the process's texts."))  # fmt: skip
        return Invalid(_("The web address %(address)s is too long to print on the letter. "
                         "Give a shorter one that leads to the ballot, such as lund.se/rosta.",
                         address=exc.value))  # fmt: skip
    return Invalid(str(exc))


def _texts(process: Process, language: str) -> Any:
    if process.phase(PhaseKind.VOTING) is None:
        raise Invalid(_("This process has no vote."))
    web_address = request.form.get("web_address", "").strip()[:100]
    if web_address and not is_web_address(web_address):
        raise Invalid(_("Give a web address such as lund.se/rosta: a name with a dot, and a "
                        "path if you like. Nothing was issued."))  # fmt: skip
    return _vote_texts(_printing(), process, language, _base(), web_address=web_address)


@bp.post("/p/<slug>/codes/batch")
def batch(slug: str) -> ResponseReturnValue:
    """Issue N anonymous codes and answer with the PDF of cut-out cards."""
    process = _official_process(slug)
    if not isinstance(process, Process):
        return process
    form = request.form
    purpose = form.get("purpose", "").strip()
    area = form.get("area", "").strip() or None
    language = form.get("language", "sv")
    errors: list[str] = []
    try:
        count = int(form.get("count", "").strip())
    except ValueError:
        count = 0
    if not 1 <= count <= MAX_WEB_BATCH:
        errors.append(_("Issue between 1 and %(max)s codes at a time here; the command line "
                        "issues more.", max=MAX_WEB_BATCH))  # fmt: skip
    if not purpose:
        errors.append(_("Say what the batch is for, e.g. a school class or a library."))
    try:
        channel = CodeChannel(form.get("channel", CodeChannel.SCHOOL.value))
    except ValueError:
        channel = None
    if channel not in CHANNELS:
        errors.append(_("Choose where the codes are handed out."))
    if language not in ("sv", "en"):
        errors.append(_("Choose the language of the cards."))
    if errors:
        return _page(process, 400, errors=errors)
    assert channel is not None
    session = get_session()
    out = io.BytesIO()
    with attempt(session, also=(ValueError,), as_error=_refusal) as done:
        texts = _texts(process, language)
        issued, chunks = services.issue_codes_iter(
            session, process, count=count, channel=channel, purpose=purpose,
            actor=current_user, area=area, now=utcnow(),
        )  # fmt: skip
        _printing().cards(
            out, (c for chunk in chunks for c in chunk), texts, issued.purpose,
            lambda c: ballot_link(_base(), process.slug, c), language=language,
        )  # fmt: skip
    if done.error:
        return _page(process, done.status, errors=[done.message])
    return _pdf(out.getvalue(), f"codes-{process.slug}-{issued.id}.pdf")


@bp.post("/p/<slug>/codes/letters")
def letters(slug: str) -> ResponseReturnValue:
    """Letters from an uploaded people's file (read from the upload, never stored): a file
    with bad rows issues nothing and lists its line-numbered problems."""
    process = _official_process(slug)
    if not isinstance(process, Process):
        return process
    upload = request.files.get("people")
    purpose = request.form.get("purpose", "").strip() or "Brev / letters"
    try:  # refused before anyone's file is read
        services.check_channel(process, CodeChannel.LETTER)
    except services.ChannelNotStated as exc:
        return _page(process, status_for(exc), letter_errors=[exc.message])
    if upload is None or not upload.filename:
        return _page(process, 400, letter_errors=[_("Choose the people's file (CSV).")])
    lang = "sv" if locale_code() == "sv" else "en"
    stream = upload.stream
    try:
        people = people_module.read_people(
            stream, areas=[a.name for a in process.areas if not a.whole_municipality],
            default_language="sv", unprintable=_printing().unprintable,
        )  # fmt: skip
    except people_module.PeopleFileError as exc:
        return _page(process, 400, letter_errors=[
            _("Nothing was issued; the people's file has problems:"), *exc.messages(lang)])  # fmt: skip
    if people.count > MAX_WEB_BATCH:
        return _page(process, 400, letter_errors=[
            _("At most %(max)s letters at a time here; the command line writes more.",
              max=MAX_WEB_BATCH)])  # fmt: skip
    session = get_session()
    out = io.BytesIO()
    count = 0
    with attempt(session, also=(ValueError,), as_error=_refusal) as done:
        votes = {lang_: _texts(process, lang_) for lang_ in sorted(people.languages)}
        issuer = services.CodeIssuer(session, process, channel=CodeChannel.LETTER,
                                     purpose=purpose, actor=current_user, now=utcnow())  # fmt: skip
        count = _printing().letters(
            out, ((person, issuer.code(person.area)) for person in people), votes,
            lambda c: ballot_link(_base(), process.slug, c),
        )  # fmt: skip
        issuer.finish()
    if done.error:
        return _page(process, done.status, letter_errors=[done.message])
    return _pdf(out.getvalue(), f"letters-{process.slug}-{count}.pdf")


@bp.post("/p/<slug>/codes/<int:batch_id>/revoke")
def revoke(slug: str, batch_id: int) -> ResponseReturnValue:
    process = _official_process(slug)
    if not isinstance(process, Process):
        return process
    session = get_session()
    n = 0
    with attempt(session) as done:
        n = services.revoke_batch(session, process, batch_id, current_user)
    if done.error:
        return _page(process, done.status, errors=[done.message])
    flash(_("Revoked %(n)s unused codes of batch %(id)s.", n=n, id=batch_id), "success")
    return redirect(url_for("voting.issuing.index", slug=slug), code=303)
