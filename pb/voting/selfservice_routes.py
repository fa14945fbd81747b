"""Pages for voting codes by e-mail and receipts by e-mail (``pb.voting.selfservice``).

Registered under the voting blueprint (endpoints ``voting.email.*``). The code request is a
GOV.UK-style question flow: a start page, one question per page (``selfservice.questions``),
a page to check the answers with a link back to each, then the link is mailed; through the
link, the answers are checked once more and the code is mailed.

The answers wait in the person's own session (the signed cookie) for two hours, never in a
URL; a finished request forgets them. A link opened where the session has no answers (another
browser, the mail app's own, or later than two hours) says so and asks the questions again
there. Every form has CSRF, checked here so that an expired page shows what was sent again
and says what happened instead of an error page; GET never changes anything but the
session's answers. Nothing typed is logged; links carry no address.
"""

from __future__ import annotations

import time
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import ValidationError, validate_csrf
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from pb.db import get_session, utcnow
from pb.errors import DomainError, Invalid, user_error
from pb.i18n import locale_code
from pb.processes.models import Connection, Process
from pb.processes.services import load_process
from pb.security import client_ip, csrf_exempt, limiter
from pb.voting import codes, pages, selfservice
from pb.voting.models import AgeBand
from pb.voting.selfservice_forms import NONE_OF_THESE, QUESTIONS, YOUNGER, Question
from pb.web import attempt

bp = Blueprint("email", __name__)

ANSWERS = "pb.vote-email"
"""The session key of the answers: ``{"p": process id, "at": unix time, step: answer, …,
"token": the link (once opened)}``; one process's at a time."""
KEEP_SECONDS = 2 * 3600  # as long as the link works


def _common(process: Process) -> dict[str, Any]:
    return {
        **pages.common(process),
        "questions": selfservice.questions(process),
        "code_email_days": current_app.config["PRIVACY_CODE_EMAIL_DAYS"],
    }


def _email_process(slug: str, *, start_page: bool = False) -> Process:
    """The process, if it offers codes by e-mail (else 404; a POST without a valid CSRF
    token gets its 400 first, as everywhere). While voting is not open no question is
    asked: the start page says when codes can be asked for (or that voting closed); any
    other page goes there (GET), or shows it with 403 (POST)."""
    process = load_process(slug)
    if not selfservice.offers_email(process):
        if request.method == "POST" and _csrf_error():
            raise user_error(400, _csrf_error())
        abort(404)
    if not pages.status(process)["open"] and not (start_page and request.method == "GET"):
        if request.method == "GET":
            abort(redirect(url_for(".ask", slug=process.slug), code=303))
        abort(make_response(render_template("voting/email_ask.html", **_common(process),
                                            error=""), 403))  # fmt: skip
    return process


def _csrf_error() -> str:
    """The message for an expired or foreign form, or ""; these views check the token
    themselves so that what was typed comes back filled in instead of an error page."""
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return ""
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        return str(_("The page had expired or was not sent from this site, so your answer "
                     "was not saved. It is filled in below: check it and send it again. "
                     "(Your browser must allow cookies from this site.)"))  # fmt: skip
    return ""


def _limited(*checks: tuple[str, str]) -> str | None:
    for name, key in checks:
        rl = limiter(name)
        if not rl.test(key):
            minutes = max(1, -(-int(rl.resets_in(key).total_seconds()) // 60))
            return str(_("Too many requests. Please try again in %(n)s minutes.", n=minutes))
    return None


# -- the answers, in the session -----------------------------------------------------------


def _answers(process: Process) -> dict[str, Any]:
    """This process's answers so far ({} if none, or older than two hours)."""
    saved = session.get(ANSWERS)
    if not isinstance(saved, dict) or saved.get("p") != process.id:
        return {}
    if time.time() - float(saved.get("at") or 0) > KEEP_SECONDS:
        session.pop(ANSWERS, None)
        return {}
    return dict(saved)


def _save(process: Process, **values: Any) -> dict[str, Any]:
    answers = {**_answers(process), **values, "p": process.id, "at": int(time.time())}
    session[ANSWERS] = answers
    return answers


def _forget() -> None:
    session.pop(ANSWERS, None)


def _declared(process: Process, answers: dict[str, Any]) -> selfservice.Declaration:
    """The answers as a declaration (anything unreadable counts as not answered)."""
    connection = answers.get("connection")
    younger = answers.get("age") == YOUNGER
    try:
        age_band = AgeBand(answers["age"]) if answers.get("age") and not younger else None
        chosen = Connection(connection) if connection and connection != NONE_OF_THESE else None
    except ValueError:
        age_band, chosen = None, None
    return selfservice.Declaration(chosen, age_band, answers.get("district") or None,
                                   none_of_these=connection == NONE_OF_THESE,
                                   younger=younger)  # fmt: skip


def _missing(process: Process, answers: dict[str, Any]) -> str | None:
    """The first question not answered yet, or None."""
    return next((q for q in selfservice.questions(process) if not answers.get(q)), None)


def _link_token(process: Process, answers: dict[str, Any]) -> str | None:
    """The link this session came through, if it is still valid for this process."""
    token = answers.get("token")
    if not isinstance(token, str):
        return None
    try:
        selfservice.link_key(process, token)
    except selfservice.LinkInvalid:
        return None
    return token


# -- the start page ------------------------------------------------------------------------


@bp.route("/p/<slug>/vote/email", methods=["GET", "POST"])
@csrf_exempt
def ask(slug: str) -> ResponseReturnValue:
    """The start page: what this is, who may vote, what you need. "Start now" (a POST)
    begins with no answers, so that a shared computer does not show the last person's."""
    process = _email_process(slug, start_page=True)
    if request.method == "POST":
        error = _csrf_error()
        if error:
            return render_template("voting/email_ask.html", **_common(process),
                                   error=error), 400  # fmt: skip
        _forget()
        address = request.form.get("email", "").strip()[:254]  # a page from before the questions
        answers = _save(process, **({"address": address} if address else {}))
        return redirect(url_for(".question", slug=slug, step=_missing(process, answers)), code=303)
    return render_template("voting/email_ask.html", **_common(process), error="")


# -- one question per page -----------------------------------------------------------------


def _form(process: Process, step: str, answers: dict[str, Any], formdata: Any = None) -> Question:
    kind = QUESTIONS[step]
    kw: dict[str, Any] = (
        {"by_link": bool(_link_token(process, answers))} if step == "address" else {}
    )
    if formdata is None:
        form = kind(process, locale_code(), formdata=None, data={"answer": answers.get(step)}, **kw)
    else:
        form = kind(process, locale_code(), formdata=formdata, **kw)
    return form


def _refusal(
    process: Process, step: str, value: str, answers: dict[str, Any]
) -> DomainError | None:
    """Why this one answer rules the person out (the process's own rules), or None."""
    try:
        if step == "address":
            key = selfservice.address_key(process, value)
            token = _link_token(process, answers)
            if token is not None and not codes.same(key, selfservice.link_key(process, token)):
                raise selfservice.WrongAddress()
        else:
            selfservice.check_declaration(process, _declared(process, {step: value}),
                                          complete=False)  # fmt: skip
    except DomainError as exc:
        return exc
    return None


def _next(process: Process, step: str, changing: bool, answers: dict[str, Any]) -> str:
    asked = selfservice.questions(process)
    if changing:
        missing = _missing(process, answers)
        return url_for(".question", slug=process.slug, step=missing) if missing else url_for(
            ".check", slug=process.slug)  # fmt: skip
    later = asked[asked.index(step) + 1 :]
    if later:
        return url_for(".question", slug=process.slug, step=later[0])
    return url_for(".check", slug=process.slug)


def _back(process: Process, step: str, changing: bool) -> str:
    asked = selfservice.questions(process)
    if changing:
        return url_for(".check", slug=process.slug)
    i = asked.index(step)
    if i == 0:
        return url_for(".ask", slug=process.slug)
    return url_for(".question", slug=process.slug, step=asked[i - 1])


@bp.route(
    "/p/<slug>/vote/email/connection", methods=["GET", "POST"], defaults={"step": "connection"}
)
@bp.route("/p/<slug>/vote/email/age", methods=["GET", "POST"], defaults={"step": "age"})
@bp.route("/p/<slug>/vote/email/district", methods=["GET", "POST"], defaults={"step": "district"})
@bp.route("/p/<slug>/vote/email/address", methods=["GET", "POST"], defaults={"step": "address"})
@csrf_exempt
def question(slug: str, step: str) -> ResponseReturnValue:
    """One question. Continue goes to the next one (from "check your answers": back there,
    or to a question still unanswered); the answer waits in the session."""
    process = _email_process(slug)
    if step not in selfservice.questions(process):
        abort(404)  # e.g. the district, in a process with one district or none
    answers = _answers(process)
    changing = request.values.get("change") == "1"
    status = 200
    refused = ""  # an honest answer that rules the person out: not an error to correct
    if request.method == "GET":
        form = _form(process, step, answers)
    else:
        form = _form(process, step, answers, formdata=request.form)
        error = _csrf_error()
        if error:
            form.form_errors.append(error)
            status = 400
        elif not form.validate():
            status = 400
        else:
            value = str(form.answer.data).strip()
            refusal = _refusal(process, step, value, answers)
            if refusal is None:
                if step == "address":
                    value = selfservice.normalize(value)
                answers = _save(process, **{step: value})
                return redirect(_next(process, step, changing, answers), code=303)
            if isinstance(refusal, Invalid):
                form.answer.errors = [str(refusal)]
                status = 400
            else:
                refused, status = str(refusal), 403
    first = step == selfservice.questions(process)[0]
    if not answers and not first and request.method == "POST" and form.form_errors:
        form.form_errors.append(_("Your earlier answers were not kept either: the questions "
                                  "you have not answered yet come after this one."))  # fmt: skip
    return render_template("voting/email_question.html", **_common(process), form=form,
                           step=step, changing=changing, back=_back(process, step, changing),
                           refused=refused,
                           position=selfservice.questions(process).index(step) + 1), status  # fmt: skip


# -- check your answers, then send -----------------------------------------------------------


def _rows(process: Process, answers: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(step, question, answer as words) for the check page."""
    rows = []
    for step in selfservice.questions(process):
        form = _form(process, step, answers)
        value = answers.get(step, "")
        if step == "address":
            shown = value
        else:
            shown = next((str(c.label) for c in form.answer.choices if c.value == value), "")
        rows.append((step, str(form.heading), shown))
    return rows


def _check_page(process: Process, answers: dict[str, Any], errors: list[tuple[str, str]],
                status: int = 200) -> ResponseReturnValue:  # fmt: skip
    token = _link_token(process, answers)
    return render_template("voting/email_check.html", **_common(process),
                           rows=_rows(process, answers), by_link=token is not None,
                           errors=errors), status  # fmt: skip


def _step_of(process: Process, answers: dict[str, Any], error: DomainError) -> str:
    """The question a refusal is about, to link the message to its "Change" link."""
    if isinstance(error, selfservice.WrongAddress | selfservice.AddressInvalid):
        return "address"
    for step in selfservice.questions(process):
        if step != "address" and _refusal(process, step, answers.get(step, ""), answers):
            return step
    return ""


def _to_missing(process: Process, answers: dict[str, Any]) -> ResponseReturnValue:
    if any(answers.get(q) for q in selfservice.questions(process)):
        flash(_("We need an answer to this question before you can go on."), "error")
    else:
        flash(_("We do not have your answers: they are kept in this browser for two hours, "
                "until you close it. Please answer the questions (it takes a minute)."),
              "error")  # fmt: skip
    missing = _missing(process, answers) or selfservice.questions(process)[0]
    return redirect(url_for(".question", slug=process.slug, step=missing), code=303)


@bp.route("/p/<slug>/vote/email/check", methods=["GET", "POST"])
@csrf_exempt
def check(slug: str) -> ResponseReturnValue:
    """Check your answers (each with a "Change" link), then send: the link to the address,
    or, when this session came through the link, the code."""
    process = _email_process(slug)
    answers = _answers(process)
    if _missing(process, answers):
        if request.method == "POST" and _csrf_error():
            raise user_error(400, _csrf_error())
        return _to_missing(process, answers)
    errors: list[tuple[str, str]] = []
    token = _link_token(process, answers)
    if request.method == "GET":
        if token is not None:
            refusal = _refusal(process, "address", answers["address"], answers)
            if refusal is not None:
                errors.append(("address", str(refusal)))
        return _check_page(process, answers, errors)
    if _csrf_error():
        return _check_page(process, answers, [("", str(_(
            "The page had expired or was not sent from this site, so nothing was sent. Your "
            "answers are kept: check them and send again. (Your browser must allow cookies "
            "from this site.)")))], 400)  # fmt: skip
    if token is not None:
        return _issue(process, token, answers)
    return _send_link(process, answers)


def _send_link(process: Process, answers: dict[str, Any]) -> ResponseReturnValue:
    db = get_session()
    address = answers["address"]
    limited = _limited(("vote-email.ip", client_ip()), ("vote-email.all", "all"))
    key = selfservice.address_key(process, address)
    limited = limited or _limited(("vote-email.address", key))
    if limited:
        return _check_page(process, answers, [("", limited)], 429)
    with attempt(db) as done:
        selfservice.request_link(db, process, address, _declared(process, answers),
                                 locale=locale_code(), now=utcnow())  # fmt: skip
    if done.error is not None:
        return _check_page(process, answers,
                           [(_step_of(process, answers, done.error), done.message)],
                           done.status)  # fmt: skip
    limiter("vote-email.ip").hit(client_ip())
    limiter("vote-email.all").hit("all")
    limiter("vote-email.address").hit(key)
    return render_template("voting/email_sent.html", **_common(process), address=address)


def _issue(process: Process, token: str, answers: dict[str, Any]) -> ResponseReturnValue:
    db = get_session()
    limited = _limited(("vote-email.ip", client_ip()), ("vote-email.all", "all"))
    if limited:
        return _check_page(process, answers, [("", limited)], 429)
    with attempt(
        db, also=(IntegrityError,), as_error=lambda _e: selfservice.AlreadyHasCode()
    ) as done:
        selfservice.issue_by_email(db, process, token, answers["address"],
                                   _declared(process, answers), locale=locale_code(),
                                   now=utcnow())  # fmt: skip
    if done.error is not None:
        if isinstance(done.error, selfservice.WrongAddress):
            limiter("vote-email.ip").hit(client_ip())
        return _check_page(process, answers,
                           [(_step_of(process, answers, done.error), done.message)],
                           done.status)  # fmt: skip
    _forget()  # done: the address leaves the session
    return render_template("voting/email_done.html", **_common(process),
                           address=answers["address"])  # fmt: skip


# -- the mailed link -----------------------------------------------------------------------

# What a page from before the questions (one form with every answer) sends to the link.
_POSTED = {
    "connection": "connection",
    "age_band": "age",
    "district": "district",
    "email": "address",
}


def _posted_answers(process: Process) -> dict[str, str]:
    """Valid answers among the fields posted to the link (each checked as its question)."""
    out = {}
    for field, step in _POSTED.items():
        value = request.form.get(field, "").strip()[:254]
        if not value or step not in selfservice.questions(process):
            continue
        if not _form(process, step, {}, formdata=MultiDict({"answer": value})).validate():
            continue
        if step == "address":
            try:
                value = selfservice.normalize(value)
            except selfservice.AddressInvalid:
                continue
        out[step] = value
    return out


@bp.route("/p/<slug>/vote/email/<token>", methods=["GET", "POST"])
@csrf_exempt
def confirm(slug: str, token: str) -> ResponseReturnValue:
    """The mailed link. With the answers in this session: check them and get the code. Without
    (another browser, or too late): say so, and ask the questions here."""
    process = _email_process(slug)
    try:
        selfservice.link_key(process, token)
    except selfservice.LinkInvalid as exc:
        return render_template("voting/email_ask.html", **_common(process),
                               error=str(exc)), 400  # fmt: skip
    answers = _answers(process)
    if request.method == "POST":
        error = _csrf_error()
        if error:
            return render_template("voting/email_link.html", **_common(process),
                                   had_answers=bool(answers), error=error), 400  # fmt: skip
        answers = _save(process, token=token, **_posted_answers(process))
        if _missing(process, answers):
            return _to_missing(process, answers)
        return _issue(process, token, answers)
    had_answers = _missing(process, answers) is None
    answers = _save(process, token=token)
    if had_answers:
        return redirect(url_for(".check", slug=slug), code=303)
    return render_template("voting/email_link.html", **_common(process), had_answers=False,
                           error="", first=_missing(process, answers))  # fmt: skip


@bp.post("/p/<slug>/vote/receipt-mail")
def receipt_mail(slug: str) -> ResponseReturnValue:
    """Mail the receipt to a voter who came by e-mail (the address is not stored)."""
    process = load_process(slug)
    session = get_session()
    code = request.form.get("code", "")[:100]
    receipt = request.form.get("receipt", "")[:100]
    address = request.form.get("email", "")[:300]
    limited = _limited(("code.ip", client_ip()), ("vote-email.ip", client_ip()))
    sent = False
    error = ""
    status = 200
    if limited:
        error, status = limited, 429
    else:
        with attempt(session) as done:
            selfservice.mail_receipt(session, process, code, receipt, address,
                                     locale=locale_code())  # fmt: skip
        if done.ok:
            limiter("vote-email.ip").hit(client_ip())
            sent = True
        else:
            if not isinstance(done.error, codes.CodeFormatError | codes.CodeTypo):
                limiter("code.ip").hit(client_ip())  # a look-up that failed (as on the ballot)
            error, status = done.message, done.status
    return render_template(
        "voting/receipt.html", **_common(process), receipt=receipt, replaced=False,
        code=code, by_email=True, mail_sent=sent, mail_error=error, address=address,
    ), status  # fmt: skip
