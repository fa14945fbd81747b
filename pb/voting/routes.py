"""The ballot pages (anyone with a code, no account), the receipt check, changing one's
mind, paper entry by officials and the extension of voting by an admin.

The code travels only in POST bodies and in the URL *fragment* of a QR link
(``/p/<slug>/vote#K7QM-…``), which browsers never send to the server, so it does not reach
access logs. Every step of the ballot carries the choices in the form itself, so an expired
session or CSRF token only asks the voter to confirm again: the ballot views check the
token themselves and show the choices back instead of an error page.
"""

from __future__ import annotations

import contextlib
import ipaddress
import secrets
from collections.abc import Sequence
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as browser_session
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import ValidationError, validate_csrf
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from werkzeug.wrappers import Response

from pb.db import get_engine, get_session, utcnow
from pb.errors import DomainError, Invalid
from pb.i18n import LOCALES, last_day, local_tz, locale_code, when
from pb.pagecache import public_page
from pb.processes.contract import Contract
from pb.processes.models import Connection, PhaseKind, Process
from pb.processes.preload import preload
from pb.processes.services import load_process
from pb.security import RateLimiter, client_ip, csrf_exempt, hit_counts, limiter
from pb.voting import codes, pages, selfservice, services
from pb.voting.issuing_routes import bp as issuing_bp
from pb.voting.models import AgeBand
from pb.voting.selfservice_routes import bp as email_bp
from pb.voting.services import BallotInput, Ballotpaper, Part
from pb.web import attempt

bp = Blueprint("voting", __name__)
bp.register_blueprint(email_bp)  # voting.email.*: codes and receipts by e-mail
bp.register_blueprint(issuing_bp)  # voting.issuing.*: officials issue and revoke codes

MAX_FIELDS = 400


@bp.before_request
def _keep_language() -> None:
    """The language switch of a ballot, review or receipt page posts the page's own form to
    the ballot with ``?lang=`` (templates/voting/_lang_switch.html): that request is in the
    new language already (``pb.i18n.select_locale``), and the pages after it stay in it, as
    after the header's usual switch. (Set only when it changes: setting it marks the session
    changed, and Flask then signs and sends the cookie again on every cast.)"""
    lang = request.args.get("lang")
    if request.method == "POST" and lang in LOCALES and browser_session.get("lang") != lang:
        browser_session["lang"] = lang


@bp.after_request
def _not_kept(response: Response) -> Response:
    """Voting pages carry a code or a receipt (with both one can replace the ballot): a
    shared computer's browser must not keep them for the next person's Back button."""
    response.headers["Cache-Control"] = "no-store"
    return response


# -- rate limits -----------------------------------------------------------------------


def _network() -> str:
    """The key of the per-address limit: the address, or for IPv6 its /64 network (whoever
    has one address of a /64 usually has all 2^64 of them)."""
    ip = client_ip()
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return ip


def _counts_as_guess(exc: DomainError) -> bool:
    """Only a look-up counts, as in the receipt check. Text that cannot be a code (wrong
    length, a character no code has, the check character left off) and a typo caught by
    the check symbol look nothing up; a used code is a real code (a voter pressing Back and
    Cast again). None of them is a guess."""
    return not isinstance(exc, codes.CodeFormatError | codes.CodeTypo | services.CodeAlreadyUsed)


def _limits() -> list[tuple[RateLimiter, str]]:
    """The limits of code entry: per address (or IPv6 /64), and overall."""
    return [(limiter("code.ip"), _network()), (limiter("code.all"), "all")]


def _limited(hits: Sequence[int] | None = None) -> str | None:
    """The message to show if code entry is limited now: per address (or IPv6 /64); and,
    once the overall limit is reached (guessing from many addresses), for every address
    that has made a wrong attempt lately. An address without one still gets through, so
    whoever exhausts the overall limit cannot lock every voter out of the vote. ``hits``:
    the hits of ``_limits()`` if already read (``services.read_entry``)."""
    checks = _limits()
    (per_address, network), (overall, _all) = checks
    mine, everyone = hits if hits is not None else hit_counts(*checks)
    refused = None
    if mine >= per_address.limit:
        refused = (per_address, network)
    elif everyone >= overall.limit and mine:  # only addresses with a wrong attempt lately
        refused = (overall, "all")
    if refused is None:
        return None
    return _try_again(*refused)


def _try_again(rl: RateLimiter, key: str) -> str:
    minutes = max(1, -(-int(rl.resets_in(key).total_seconds()) // 60))
    return str(
        _("Too many attempts with voting codes. Please try again in %(n)s minutes.", n=minutes)
    )


def _count_failure() -> None:
    limiter("code.ip").hit(_network())
    limiter("code.all").hit("all")


def _csrf_ok() -> bool:
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return True
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        return False
    return True


# -- reading the ballot form -----------------------------------------------------------


def _read_ballot(paper: Ballotpaper) -> tuple[BallotInput, list[str]]:
    """The ballot as the form carries it, and problems reading it (tampered fields)."""
    form = request.form
    problems: list[str] = []
    if len(form) > MAX_FIELDS:
        raise Invalid(_("The form has too many fields."))
    picks: dict[str | None, list[str]] = {}
    points: dict[str | None, list[int]] = {}
    uses_points = paper.contract.ballot.ballot_type.value == "cumulative"
    for value in form.getlist("pick"):
        area, _sep, code = value.partition("|")
        picks.setdefault(area or None, []).append(code[:40])
    if uses_points:
        picks = {}
        for name, value in form.items():
            if not name.startswith("pts|"):
                continue
            _p, area, code = [*name.split("|", 2), "", ""][:3]
            value = value.strip()
            if not value:
                continue
            try:
                n = int(value)
            except ValueError:
                problems.append(_("Points must be whole numbers."))
                continue
            if n < 0 or n > 1_000_000:
                problems.append(_("Points must be whole numbers, 0 or more."))
                continue
            if n:
                picks.setdefault(area or None, []).append(code[:40])
                points.setdefault(area or None, []).append(n)
    district = form.get("district", "").strip()[:80] or None
    band = form.get("age_band", "")
    conn = form.get("connection", "")
    try:
        age_band = AgeBand(band) if band else None
        connection = Connection(conn) if conn else None
    except ValueError:
        problems.append(_("Choose your age and connection from the lists."))
        age_band, connection = None, None
    parts = tuple(
        Part(area, tuple(codes_), tuple(points[area]) if uses_points else None)
        for area, codes_ in picks.items()
    )
    return BallotInput(parts, district, age_band, connection), problems


def _view(paper: Ballotpaper, ballot: BallotInput, code_area: str | None) -> dict[str, Any]:
    """What the ballot page shows: per area, the projects, what is chosen, the total, what
    is left. Computed here, so it works without JavaScript."""
    district = code_area or ballot.district
    if district is not None and district not in [a.slug for a in paper.districts]:
        district = None
    district = district or paper.only_district
    chosen = {p.area: dict(zip(p.projects, p.points or [1] * len(p.projects), strict=False))
              for p in ballot.parts}  # fmt: skip
    scopes = []
    for area in paper.scopes(district):
        rules = paper.rules(area)
        projects = paper.projects.get(area, [])
        mine = chosen.get(area, {})
        total = sum(p.cost for p in projects if p.code in mine)
        budget = paper.contract.budget_for(area)
        name = next((a.name for a in paper.process.areas if a.slug == area), None)
        scopes.append(
            {
                "area": area,
                "key": area or "",
                "name": name,
                "projects": projects,
                "chosen": mine,
                "count": len(mine),
                "total": total,
                "budget": budget,
                "limit": rules.max_total_cost,
                "left": (rules.max_total_cost - total)
                if rules.max_total_cost is not None
                else None,
                "max_projects": rules.effective_max_projects,
                "points_total": rules.max_total_points,
                "points_used": sum(mine.values()) if rules.ballot_type == "cumulative" else None,
                "max_points": rules.max_points,
            }
        )
    return {"scopes": scopes, "district": district, "code_area": code_area}


def _ballot_page(
    process: Process,
    code: str,
    ballot: BallotInput,
    *,
    template: str = "voting/ballot.html",
    problems: list[str] | None = None,
    status: int = 200,
    receipt: str = "",
    code_area: str | None = None,
) -> ResponseReturnValue:
    paper = services.ballotpaper(get_session(), process)
    return (
        render_template(
            template,
            **pages.common(process, paper.contract),
            code=code,
            receipt=receipt,
            ballot=ballot,
            problems=problems or [],
            paper=paper,
            **_view(paper, ballot, code_area),
        ),
        status,
    )


# -- the ballot ------------------------------------------------------------------------


@bp.get("/p/<slug>/vote")
@public_page()
def start(slug: str) -> ResponseReturnValue:
    process = load_process(slug)
    preload(get_session(), process)
    return render_template("voting/start.html", **pages.common(process), code="", error="",
                           used=False)  # fmt: skip


def _code_error(
    process: Process, code: str, message: str, status: int, *, used: bool = False
) -> ResponseReturnValue:
    """Code entry again, with what was wrong; ``used``: the code has voted, and the page
    says how to change the vote (code and receipt) or check it arrived."""
    return (
        render_template("voting/start.html", **pages.common(process), code=code, error=message,
                        used=used),
        status,
    )  # fmt: skip


@bp.post("/p/<slug>/vote")
@csrf_exempt
def enter_code(slug: str) -> ResponseReturnValue:
    """Check a typed code (nothing is consumed) and show the ballot."""
    process = load_process(slug)
    code = request.form.get("code", "")[:100]
    if request.form.get("action") == "language":  # the page again, in the language chosen
        return render_template("voting/start.html", **pages.common(process), code=code, error="")
    preload(get_session(), process)
    if not _csrf_ok():
        return _code_error(process, code, _expired(), 400)
    if not pages.status(process)["open"]:
        return _code_error(process, code, _closed_message(process), 403)
    entry = services.read_entry(get_session(), process, code, _limits())
    limited = _limited(entry.hits)
    if limited:
        return _code_error(process, code, limited, 429)
    try:
        state = entry.code(process)
    except codes.CodeTypo as exc:  # caught before any look-up; not counted as a guess
        return _code_error(process, code, str(exc), 400)
    except DomainError as exc:
        if _counts_as_guess(exc):
            _count_failure()
        return _code_error(process, code, str(exc), _status_of(exc),
                           used=isinstance(exc, services.CodeAlreadyUsed))  # fmt: skip
    return _ballot_page(process, codes.pretty(code), BallotInput(()), code_area=state.area)


def _expired() -> str:
    return str(
        _(
            "The form had expired or was not sent from this site. Nothing was cast: your "
            "choices are kept below, please check them and confirm again."
        )
    )


def _closed_message(process: Process) -> str:
    voting = process.phase(PhaseKind.VOTING)
    if voting is None:
        return str(_("This process has no vote."))
    if utcnow() < voting.starts_at:
        return str(_("Voting opens on %(date)s.", date=when(voting.starts_at)))
    return str(_("Voting closed on %(date)s.", date=when(voting.ends_at)))


def _status_of(exc: DomainError) -> int:
    from pb.web import status_for

    return status_for(exc)


@bp.get("/p/<slug>/vote/ballot")
def ballot_again(slug: str) -> ResponseReturnValue:
    """The ballot is only ever a POST; arriving here by GET (a bookmark, a reload) goes back
    to code entry instead of an error page. (The language switch of the ballot pages posts
    the page's form again: ``_keep_language``.)"""
    process = load_process(slug)
    return redirect(url_for("voting.start", slug=process.slug), code=303)


@bp.post("/p/<slug>/vote/ballot")
@csrf_exempt
def ballot(slug: str) -> ResponseReturnValue:
    """Every step of the ballot: check (recompute totals), review, back to editing, cast.
    The code stays unused until a cast succeeds; any refusal shows the choices back."""
    process = load_process(slug)
    session = get_session()
    preload(session, process)
    code = request.form.get("code", "")[:100]
    receipt_in = request.form.get("receipt", "")[:100]
    action = request.form.get("action", "check")
    if action == "receipt":  # the receipt page's language switch
        return _receipt_again(process, code, receipt_in)
    paper = services.ballotpaper(session, process)
    try:
        choice, problems = _read_ballot(paper)
    except Invalid as exc:
        return _code_error(process, code, str(exc), 400)
    if not _csrf_ok():
        return _ballot_page(process, code, choice, problems=[_expired()], status=400,
                            template="voting/review.html", receipt=receipt_in)  # fmt: skip
    if not pages.status(process)["open"]:
        return _code_error(process, code, _closed_message(process), 403)
    # One statement reads the limits, the code and (to cast) whether mixing will be due.
    entry = services.read_entry(session, process, None if receipt_in else code, _limits(),
                                due=action == "cast")  # fmt: skip
    limited = _limited(entry.hits)
    if limited:  # the choices come back, to cast once the limit has passed
        return _ballot_page(process, code, choice, problems=[limited], status=429,
                            receipt=receipt_in)  # fmt: skip
    # The code is checked again at every step (the hidden field may have been changed).
    code_area = None
    state = None
    try:
        if receipt_in:
            code_area = services.code_area_for_replacement(session, process, code, receipt_in)
        else:
            state = entry.code(process)
            code_area = state.area
    except codes.CodeTypo as exc:
        return _code_error(process, code, str(exc), 400)
    except DomainError as exc:
        if _counts_as_guess(exc):
            _count_failure()
        return _code_error(process, code, str(exc), _status_of(exc),
                           used=isinstance(exc, services.CodeAlreadyUsed))  # fmt: skip
    if problems:
        return _ballot_page(process, code, choice, problems=problems, status=400,
                            code_area=code_area, receipt=receipt_in)  # fmt: skip
    if action == "edit":
        return _ballot_page(process, code, choice, code_area=code_area, receipt=receipt_in)
    if action == "check":  # what is wrong so far, without refusing anything
        try:
            services.check_ballot(paper, choice, code_area)
        except services.BallotInvalid as exc:
            problems = exc.problems
        return _ballot_page(process, code, choice, code_area=code_area, receipt=receipt_in,
                            problems=problems)  # fmt: skip
    try:
        parts = services.check_ballot(paper, choice, code_area)
    except services.BallotInvalid as exc:
        return _ballot_page(process, code, choice, problems=exc.problems, status=400,
                            code_area=code_area, receipt=receipt_in)  # fmt: skip
    if action != "cast":
        return _ballot_page(process, code, choice, template="voting/review.html",
                            code_area=code_area, receipt=receipt_in)  # fmt: skip
    now = utcnow()
    receipt: str | None = None
    due = True
    # Two replacements of one ballot at once: the held table's unique receipt refuses one.
    with attempt(session, also=(IntegrityError,), as_error=lambda _e: services.Busy()) as done:
        if receipt_in:
            services.replace(session, process, code, receipt_in, choice, now)
            receipt = codes.pretty(receipt_in, receipt=True)
        else:
            receipt = services.cast(session, process, code, choice, now, on_ballot=paper,
                                    looked_up=state, checked=parts)  # fmt: skip
        due = entry.mix_due_after_cast(process, now)
    if done.error:
        problems = getattr(done.error, "problems", None) or [done.message]
        return _ballot_page(process, code, choice, problems=problems, status=done.status,
                            template="voting/review.html", code_area=code_area,
                            receipt=receipt_in)  # fmt: skip
    if due:
        _mix_after(process)
    # The receipt page shows none of the rules (``_common``'s ballot lines cost more than
    # the page itself): only what it uses.
    return render_template(
        "voting/receipt.html", process=process, locale=locale_code(), receipt=receipt,
        replaced=bool(receipt_in), code=code,
        by_email=selfservice.offers_email(process, paper.contract),
    )  # fmt: skip


def _receipt_again(process: Process, code: str, receipt_in: str) -> ResponseReturnValue:
    """The receipt page once more, in the language just chosen: it is shown once, after the
    cast, so its language switch posts the code and the receipt back here. Only a receipt
    that belongs to the code is shown (looked up like a change of vote, and counted as a
    guess if it is not), so no one can make this page show a receipt that is not one."""
    limited = _limited()
    if limited:
        return _code_error(process, code, limited, 429)
    try:
        services.code_area_for_replacement(get_session(), process, code, receipt_in)
    except DomainError as exc:
        if _counts_as_guess(exc) and _csrf_ok():
            _count_failure()
        return _code_error(process, code, str(exc), _status_of(exc))
    return render_template(
        "voting/receipt.html", process=process, locale=locale_code(),
        receipt=codes.pretty(receipt_in, receipt=True),
        replaced=request.form.get("replaced") == "1", code=code, by_email=selfservice.offers_email(process, Contract.of(process)),
    )  # fmt: skip


def _mix_after(process: Process) -> None:
    """Mix in a transaction of its own (never the casting one). A concurrent mixer wins, and
    a database error here must not cost the voter the receipt of a ballot already cast: the
    next cast (or ``pb codes mix``) mixes instead. After a cast, only when
    ``Entry.mix_due_after_cast`` says so (a full batch, or the fingerprint to take)."""
    session = get_session()
    moved = 0
    with attempt(session, also=(SQLAlchemyError,)) as done:
        moved = services.mix_due(session, process, utcnow())
    if done.error:
        current_app.logger.info("mixing deferred to the next cast")
    elif moved:
        with attempt(session, also=(SQLAlchemyError,)):
            services.forget_held_soon(get_engine())


# -- receipts and changing one's mind --------------------------------------------------


@bp.route("/p/<slug>/receipt", methods=["GET", "POST"])
def receipt(slug: str) -> ResponseReturnValue:
    """Public: is the ballot with this receipt in the count? Never shows choices. POST, so
    the receipt stays out of the address bar and the logs."""
    process = load_process(slug)
    found = None
    error = ""
    typed = ""
    status = 200
    if request.method == "POST":
        typed = request.form.get("receipt", "")[:100]
        limited = _limited()
        if limited:
            return render_template("voting/receipt_check.html", **pages.common(process),
                                   typed=typed, found=None, error=limited), 429  # fmt: skip
        try:
            found = services.receipt_found(get_session(), process, typed)
        except DomainError as exc:
            error, status = str(exc), 400
        if found is False:
            _count_failure()
            if codes.looks_like_code(typed):  # by its shape: a receipt never has it
                found, error, status = None, _looks_like_a_code(), 400
        _mix_after(process)
    return render_template("voting/receipt_check.html", **pages.common(process), typed=typed,
                           found=found, error=error), status  # fmt: skip


def _looks_like_a_code() -> str:
    """Said of a voting code typed into the receipt check, known by its shape alone (its
    check character): nothing about the code is looked up or told."""
    return str(
        _(
            "This looks like a voting code, not a receipt. The receipt was shown after you "
            "voted (on the screen, or by e-mail if you asked for it); it has the same shape "
            "but another last character."
        )
    )


@bp.route("/p/<slug>/vote/change", methods=["GET", "POST"])
def change(slug: str) -> ResponseReturnValue:
    """Replace one's ballot with the code and the receipt, until voting closes."""
    process = load_process(slug)
    code = request.form.get("code", "")[:100]
    receipt_in = request.form.get("receipt", "")[:100]
    if request.method == "GET" or request.form.get("action") == "language":
        return render_template("voting/change.html", **pages.common(process), code=code,
                               receipt=receipt_in, error="")  # fmt: skip
    error = ""
    status = 200
    if not pages.status(process)["open"]:
        error, status = _closed_message(process), 403
    else:
        limited = _limited()
        if limited:
            error, status = limited, 429
        else:
            try:
                area = services.code_area_for_replacement(get_session(), process, code, receipt_in)
            except DomainError as exc:
                if _counts_as_guess(exc):
                    _count_failure()
                error, status = str(exc), _status_of(exc)
            else:
                receipt = codes.pretty(receipt_in, receipt=True)
                return _ballot_page(process, codes.pretty(code), BallotInput(()),
                                    code_area=area, receipt=receipt)  # fmt: skip
    return render_template("voting/change.html", **pages.common(process), code=code,
                           receipt=receipt_in, error=error), status  # fmt: skip


# -- officials: paper ballots; admins: extending the vote ------------------------------


_NO_USABLE_CODE = (services.CodeUnknown, services.CodeRevoked, services.CodeAlreadyUsed)
"""What a paper entry's look-up can answer about a well-formed code: each counts toward the
official's limit (``paper.official``), so that entering paper is no way to test codes."""


def _official_of(process: Process) -> ResponseReturnValue | None:
    """A redirect to log in, or 403, unless the current user is an official of the process."""
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login", next=request.path))
    if not process.is_official(current_user):
        abort(403)
    return None


@bp.route("/p/<slug>/paper", methods=["GET", "POST"])
def paper(slug: str) -> ResponseReturnValue:
    """An official types a paper ballot; it counts when a second entry matches."""
    process = load_process(slug)
    if (refused := _official_of(process)) is not None:
        return refused
    session = get_session()
    ballotpaper = services.ballotpaper(session, process)
    code = request.form.get("code", "")[:100]
    choice = BallotInput(())
    problems: list[str] = []
    status = 200
    mismatch = None
    if pages.status(process)["after"]:
        # Voting has closed: the page says so and shows no form; a first entry without a
        # second can never count, so its sealed choices go now (fourth probe).
        with attempt(session):
            services.forget_pending_paper(session, process)
        if request.method == "POST":
            problems, status = [_("Voting has closed: no more paper ballots can be entered.")], 403
        return _paper_page(process, ballotpaper, code, choice, problems, status)
    if request.method == "POST":
        try:
            choice, problems = _read_ballot(ballotpaper)
        except Invalid as exc:
            problems = [str(exc)]
        if request.form.get("action") == "check":
            pass  # show the chosen district's projects (without JavaScript), save nothing
        elif not problems and not limiter("paper.official").test(str(current_user.id)):
            # The typed ballot stays on the page, to enter once the limit has passed.
            problems, status = [_try_again(limiter("paper.official"), str(current_user.id))], 429
        elif not problems:
            counted = False
            with attempt(session) as done:
                counted = services.enter_paper(
                    session, process, code, choice, current_user, utcnow(),
                    form=request.form.get("entry", "")[:64],
                )  # fmt: skip
            if done.error:
                if isinstance(done.error, _NO_USABLE_CODE):
                    limiter("paper.official").hit(str(current_user.id))
                if isinstance(done.error, services.PaperMismatch):
                    mismatch = _differences(ballotpaper, done.error.first, choice)
                    with attempt(session):
                        services.record_paper_mismatch(session, process, current_user)
                problems = getattr(done.error, "problems", None) or [done.message]
                status = done.status
            else:
                if counted:  # a first entry casts nothing: nothing to mix, no fingerprint yet
                    _mix_after(process)
                    flash(_("Both entries match: the paper ballot is counted."), "success")
                else:
                    flash(
                        _("First entry saved. The ballot counts when a second entry matches it."),
                        "success",
                    )
                return redirect(url_for("voting.paper", slug=slug), code=303)
    return _paper_page(process, ballotpaper, code, choice, problems, status, mismatch)


def _paper_page(
    process: Process,
    ballotpaper: Ballotpaper,
    code: str,
    choice: BallotInput,
    problems: list[str],
    status: int,
    mismatch: dict[str, Any] | None = None,
) -> ResponseReturnValue:
    return (
        render_template(
            "voting/paper.html",
            **pages.common(process),
            entry=secrets.token_hex(16),  # a new token each time the form is shown
            code=code,
            ballot=choice,
            problems=problems,
            mismatch=mismatch,
            paper=ballotpaper,
            **_view(ballotpaper, choice, None),
        ),
        status,
    )


def _differences(
    paper: Ballotpaper, first: BallotInput | None, second: BallotInput
) -> dict[str, Any]:
    """Where two entries of one paper ballot differ, for the official to compare with the
    paper: the district, and each project chosen (or given points) in one but not alike in
    the other. ``first`` None: the first entry cannot be shown (entered before it was kept
    sealed)."""
    if first is None:
        return {"shown": False, "rows": []}

    def marks(b: BallotInput) -> dict[tuple[str | None, str], int | None]:
        return {(p.area, code): (p.points[i] if p.points is not None else None)
                for p in b.parts for i, code in enumerate(p.projects)}  # fmt: skip

    a, b = marks(first), marks(second)
    names = {x.slug: x.name for x in paper.process.areas}
    rows = []
    if (first.district or None) != (second.district or None):
        rows.append({"what": _("The district you vote in"),
                     "first": names.get(first.district or "", "—"),
                     "second": names.get(second.district or "", "—")})  # fmt: skip

    def shown(key: tuple[str | None, str], m: dict[tuple[str | None, str], int | None]) -> str:
        if key not in m:
            return "—"
        points = m[key]
        return _("Chosen") if points is None else str(points)

    for area, projects in paper.projects.items():
        for project in projects:
            key = (area, project.code)
            if (key in a) != (key in b) or a.get(key) != b.get(key):
                shown_title = project.display_title(locale_code())  # the reader's language
                title = shown_title if area is None else f"{names.get(area, area)}: {shown_title}"
                rows.append({"what": title, "first": shown(key, a), "second": shown(key, b)})
    return {"shown": True, "rows": rows}


@bp.post("/p/<slug>/paper/discard")
def paper_discard(slug: str) -> ResponseReturnValue:
    """After two entries differed and the paper showed the first one wrong: throw the
    pending first entry away (audited, as a count). The typed ballot comes back, to be saved
    as a new first entry; it counts when a second entry matches it."""
    process = load_process(slug)
    if (refused := _official_of(process)) is not None:
        return refused
    session = get_session()
    ballotpaper = services.ballotpaper(session, process)
    code = request.form.get("code", "")[:100]
    try:
        choice, _problems = _read_ballot(ballotpaper)
    except Invalid:
        choice = BallotInput(())
    who = str(current_user.id)
    if not limiter("paper.official").test(who):
        return _paper_page(process, ballotpaper, code, choice,
                           [_try_again(limiter("paper.official"), who)], 429)  # fmt: skip
    with attempt(session) as done:
        services.discard_paper_entry(session, process, code, current_user, utcnow())
    if done.error:
        if isinstance(done.error, services.NoPendingEntry):
            limiter("paper.official").hit(who)  # no way to test codes here either
        return _paper_page(process, ballotpaper, code, choice, [done.message], done.status)
    flash(
        _(
            "The first entry is thrown away; nothing is counted. Check the choices below "
            "against the paper ballot and save them: that is a new first entry, and the "
            "ballot counts when a second entry matches it."
        ),
        "success",
    )
    return _paper_page(process, ballotpaper, code, choice, [], 200)


@bp.route("/p/<slug>/voting/extend", methods=["GET", "POST"])
def extend(slug: str) -> ResponseReturnValue:
    """An admin extends voting: *Show what moves* lists the phases before and after (and the
    stated decision date) without changing anything; *Extend voting* does it."""
    process = load_process(slug)
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login", next=request.path))
    if not current_user.is_admin:
        abort(403)
    import datetime as dt

    ends = request.form.get("ends", "")
    reason = request.form.get("reason", "")[:2000]
    error = ""
    status = 200
    shifts: list[services.Shift] | None = None
    if request.method == "POST":
        session = get_session()
        try:
            new_end = dt.datetime.fromisoformat(ends)
        except ValueError:
            error, status = _("Give the new end as a date and time."), 400
        else:
            if new_end.tzinfo is None:
                new_end = new_end.replace(tzinfo=local_tz())
            voting = process.phase(PhaseKind.VOTING)
            old_end = voting.ends_at if voting is not None else None
            if request.form.get("action") == "preview":  # changes nothing, refuses alike
                try:
                    shifts = services.plan_extension(process, new_end)
                except DomainError as exc:
                    return _extend_page(process, ends, reason, str(exc), _status_of(exc), None)
                return _extend_page(process, ends, reason, "", 200, shifts)
            with attempt(session) as done:
                services.extend_voting(session, process, new_end, reason, current_user, utcnow())
            if not done.error:
                flash(_extended(new_end, old_end), "success")
                return redirect(url_for("processes.show", slug=slug), code=303)
            error, status = done.message, done.status
            with contextlib.suppress(DomainError):  # what would move, beside the refusal
                shifts = services.plan_extension(process, new_end)
    return _extend_page(process, ends, reason, error, status, shifts)


def _extended(new_end: Any, old_end: Any) -> str:
    """The end of voting after an extension, said as everywhere else: the last day
    (``pb.text.last_day``, as letters and the vote page)."""
    return str(
        _(
            "The last day to vote is now %(day)s (was %(old)s).",
            day=last_day(new_end),
            old=last_day(old_end),
        )
    )


def _extend_page(
    process: Process,
    ends: str,
    reason: str,
    error: str,
    status: int,
    shifts: list[services.Shift] | None,
) -> ResponseReturnValue:
    voting = process.phase(PhaseKind.VOTING)
    now_phases = [
        p for p in process.phases if voting is not None and p.kind.order >= voting.kind.order
    ]
    return (
        render_template("voting/extend.html", **pages.common(process), ends=ends, reason=reason,
                        error=error, shifts=shifts, phases=now_phases,
                        decision_date=process.decision_date),
        status,
    )  # fmt: skip


@bp.app_context_processor
def _process_page_helpers() -> dict[str, Any]:
    """``voting_panel(process)`` for the process page: the rules' fingerprint, an extension
    and its reason, and whether the ballot is open."""

    def voting_panel(process: Process) -> dict[str, Any]:
        session = get_session()
        rec = services.voting_record(session, process)
        fingerprint = rec.fingerprint if rec and rec.fingerprint else None
        if fingerprint is None and process.is_frozen(utcnow()):
            fingerprint = services.fingerprint_of(services.canonical_rules(session, process))
        return {
            "fingerprint": fingerprint,
            "record": rec,
            "open": process.in_phase(PhaseKind.VOTING, utcnow()),
        }

    return {"voting_panel": voting_panel}
