"""Pages for voting codes by e-mail and receipts by e-mail (``pb.voting.selfservice``).

Registered under the voting blueprint (endpoints ``voting.email.*``). Every form has CSRF;
GET never changes anything. Nothing typed is logged; addresses and declarations travel in
POST bodies only, and links carry no address.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import ValidationError, validate_csrf
from sqlalchemy.exc import IntegrityError

from pb.db import get_session, utcnow
from pb.errors import user_error
from pb.i18n import locale_code
from pb.processes import vocab
from pb.processes.contract import Contract
from pb.processes.models import Connection, PhaseKind, Process
from pb.processes.present import ballot_lines
from pb.processes.services import load_process
from pb.security import client_ip, csrf_exempt, limiter
from pb.voting import selfservice
from pb.voting.models import AgeBand
from pb.web import attempt

bp = Blueprint("email", __name__)

AGE_BANDS: dict[AgeBand, Any] = {  # as on the ballot (pb.voting.routes)
    AgeBand.UNDER_16: _l("15 or younger"),
    AgeBand.AGE_16_17: "16–17",
    AgeBand.AGE_18_25: "18–25",
    AgeBand.AGE_26_39: "26–39",
    AgeBand.AGE_40_64: "40–64",
    AgeBand.AGE_65_UP: _l("65 or older"),
}


def _common(process: Process) -> dict[str, Any]:
    contract = Contract.of(process)
    now = utcnow()
    voting = process.phase(PhaseKind.VOTING)
    return {
        "process": process,
        "contract": contract,
        "ballot_lines": ballot_lines(contract),
        "vocab": vocab,
        "locale": locale_code(),
        "status": {
            "open": process.in_phase(PhaseKind.VOTING, now),
            "voting": voting,
            "before": voting is not None and now < voting.starts_at,
            "after": voting is not None and now >= voting.ends_at,
        },
        "age_bands": AGE_BANDS,
    }


def _email_process(slug: str) -> Process:
    """The process, if it offers codes by e-mail (else 404; a POST without a valid CSRF
    token gets its 400 first, as everywhere)."""
    process = load_process(slug)
    if not selfservice.offers_email(process):
        if request.method == "POST" and _csrf_error():
            raise user_error(400, _csrf_error())
        abort(404)
    return process


def _csrf_error() -> str:
    """The message for an expired or foreign form, or ""; these views check the token
    themselves so that what was typed comes back filled in instead of an error page."""
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return ""
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        return str(_("The form had expired or was not sent from this site. Nothing was sent: "
                     "please check and send it again."))  # fmt: skip
    return ""


def _limited(*checks: tuple[str, str]) -> str | None:
    for name, key in checks:
        rl = limiter(name)
        if not rl.test(key):
            minutes = max(1, -(-int(rl.resets_in(key).total_seconds()) // 60))
            return str(_("Too many requests. Please try again in %(n)s minutes.", n=minutes))
    return None


@bp.route("/p/<slug>/vote/email", methods=["GET", "POST"])
@csrf_exempt
def ask(slug: str) -> ResponseReturnValue:
    """Step 1: the rules, and the address a confirmation link goes to."""
    process = _email_process(slug)
    address = request.form.get("email", "")[:300]
    error = ""
    status = 200
    if request.method == "POST" and _csrf_error():
        error, status = _csrf_error(), 400
    elif request.method == "POST":
        session = get_session()
        limited = _limited(("vote-email.ip", client_ip()), ("vote-email.all", "all"))
        if limited is None:
            try:
                key = selfservice.address_key(process, address)
            except selfservice.AddressInvalid as exc:
                error, status = str(exc), 400
            else:
                limited = _limited(("vote-email.address", key))
        if limited:
            error, status = limited, 429
        if not error:
            with attempt(session) as done:
                key = selfservice.request_link(session, process, address, locale=locale_code(),
                                               now=utcnow())  # fmt: skip
            if done.ok:
                limiter("vote-email.ip").hit(client_ip())
                limiter("vote-email.all").hit("all")
                limiter("vote-email.address").hit(key)
                return render_template("voting/email_sent.html", **_common(process),
                                       address=address.strip())  # fmt: skip
            error, status = done.message, done.status
    return render_template("voting/email_ask.html", **_common(process), address=address,
                           error=error), status  # fmt: skip


def _declaration() -> tuple[selfservice.Declaration, str]:
    form = request.form
    problem = ""
    try:
        connection = Connection(form["connection"]) if form.get("connection") else None
        age_band = AgeBand(form["age_band"]) if form.get("age_band") else None
    except ValueError:
        connection, age_band = None, None
        problem = str(_("Choose your age and connection from the lists."))
    district = form.get("district", "").strip()[:80] or None
    return selfservice.Declaration(connection, age_band, district), problem


@bp.route("/p/<slug>/vote/email/<token>", methods=["GET", "POST"])
@csrf_exempt
def confirm(slug: str, token: str) -> ResponseReturnValue:
    """Step 2, through the mailed link: declare, retype the address, get the code mailed."""
    process = _email_process(slug)
    session = get_session()
    declared, error = _declaration()
    address = request.form.get("email", "")[:300]
    status = 200
    try:
        selfservice.link_key(process, token)
    except selfservice.LinkInvalid as exc:
        return render_template("voting/email_ask.html", **_common(process), address="",
                               error=str(exc)), 400  # fmt: skip
    if request.method == "POST":
        limited = _limited(("vote-email.ip", client_ip()), ("vote-email.all", "all"))
        if _csrf_error():
            error, status = _csrf_error(), 400
        elif limited:
            error, status = limited, 429
        elif error:
            status = 400
        else:
            with attempt(
                session, also=(IntegrityError,), as_error=lambda _e: selfservice.AlreadyHasCode()
            ) as done:
                selfservice.issue_by_email(session, process, token, address, declared,
                                           locale=locale_code(), now=utcnow())  # fmt: skip
            if done.ok:
                return render_template("voting/email_done.html", **_common(process),
                                       address=address.strip())  # fmt: skip
            if isinstance(done.error, selfservice.WrongAddress):
                limiter("vote-email.ip").hit(client_ip())
            error, status = done.message, done.status
    return render_template("voting/email_confirm.html", **_common(process), token=token,
                           address=address, declared=declared, error=error), status  # fmt: skip


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
            limiter("code.ip").hit(client_ip())
            error, status = done.message, done.status
    return render_template(
        "voting/receipt.html", **_common(process), receipt=receipt, replaced=False,
        code=code, by_email=True, mail_sent=sent, mail_error=error, address=address,
    ), status  # fmt: skip
