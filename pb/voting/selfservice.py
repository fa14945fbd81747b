"""Voting codes by e-mail (self-service), and receipts by e-mail.

When a process offers the ``email`` code channel, a person asks for a code through a short
question flow (GOV.UK's pattern, ``pb.voting.selfservice_routes``): a start page, one
question per page — the connection that makes them eligible, their age band, their district
(``questions``: only where the process has more than one), their address — and a page to
check the answers. Then:

1. ``request_link`` checks the declaration (``check_declaration``, the process's own
   ``Eligibility.check``) and mails a signed link, valid for two hours, that carries only
   ``address_key`` (a keyed HMAC of the address under the pepper) — never the address nor
   anything declared, because links end up in access logs;
2. through the link (the answers wait in the person's own session, or are asked again in
   the browser that opened it) ``issue_by_email`` checks the address against the link, the
   declaration again, and that the address got no code yet, then issues one code (bound to
   the district) in the process's e-mail batch for that district, records the keyed claim
   (``EmailClaim``: no address, no code, no time) and mails the code.

Every mail here is *secret* (``pb.mail.services.enqueue(secret=True)``): wiped from the
outbox once sent. The declared age band and connection are not stored with the code (see
``docs/voting.md``): the voter declares them on the ballot, where they are stored in bands.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from pb import tokens
from pb.audit import AuditAction, record
from pb.errors import Conflict, Invalid, NotAllowed
from pb.i18n import when
from pb.mail.services import enqueue
from pb.processes.contract import Contract
from pb.processes.models import CodeChannel, Connection, PhaseKind, Process
from pb.voting import codes, services
from pb.voting.models import AgeBand, CodeBatch, EmailClaim, VotingCode

PURPOSE = "E-post / e-mail (self-service)"
"""The purpose of the e-mail batches (one per district), as the batch list shows it."""


class NoEmailChannel(NotAllowed):
    message = _l("This vote does not hand out codes by e-mail.")


class AddressInvalid(Invalid):
    message = _l("Enter a valid e-mail address, like name@example.org.")


class LinkInvalid(Invalid):
    message = _l(
        "This link is not valid or has expired (links work for two hours). Ask for a new one."
    )


class WrongAddress(Invalid):
    message = _l("This is not the address the link was sent to. Type that address.")


class AlreadyHasCode(Conflict):
    message = _l(
        "This address has already received a code for this vote. Look for it in your e-mail; "
        "each address gets one code."
    )


class NotByEmail(NotAllowed):
    message = _l("Receipts are mailed only to voters who received their code by e-mail.")


def normalize(address: str) -> str:
    """The address as it is keyed: trimmed and lower-cased; ``AddressInvalid`` if it is
    not an address."""
    text = address.strip()
    if len(text) > 254:
        raise AddressInvalid()
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise AddressInvalid() from exc
    return str(checked.normalized).lower()


def address_key(process: Process, address: str) -> str:
    """The keyed HMAC of a normalized address for one process, under the pepper."""
    return codes.keyed(services.pepper(), "email", str(process.id), normalize(address))


def offers_email(process: Process, contract: Contract | None = None) -> bool:
    return CodeChannel.EMAIL in (contract or Contract.of(process)).eligibility.code_channels


def _check_open(process: Process, now: dt.datetime) -> None:
    if not offers_email(process):
        raise NoEmailChannel()
    voting = process.phase(PhaseKind.VOTING)
    if voting is None:
        raise services.VotingClosed(_("This process has no vote."))
    if now < voting.starts_at:
        raise services.VotingClosed(
            _("Codes by e-mail can be asked for from %(date)s.", date=when(voting.starts_at))
        )
    if now >= voting.ends_at:
        raise services.VotingClosed(_("Voting closed on %(date)s.", date=when(voting.ends_at)))


def _absolute(endpoint: str, **values: Any) -> str:
    base: str = current_app.config["BASE_URL"].rstrip("/")
    return base + url_for(endpoint, **values)


def _locale(locale: str | None) -> str:
    return locale if locale in ("sv", "en") else "sv"


def request_link(
    session: Session,
    process: Process,
    address: str,
    declared: Declaration | None = None,
    *,
    locale: str | None,
    now: dt.datetime,
) -> str:
    """Mail a confirmation link to the address; returns its ``address_key``. A declaration,
    when given, is checked first (``check_declaration``), so that nobody waits for a link
    to learn that they may not vote. The answer is the same whether or not the address
    already has a code (so nobody learns that from the page): the step behind the link says
    so, to whoever reads that mailbox."""
    _check_open(process, now)
    normal = normalize(address)
    if declared is not None:
        check_declaration(process, declared)
    key = address_key(process, normal)
    token = tokens.dumps("voting-email", {"p": process.id, "k": key})
    url = _absolute("voting.email.confirm", slug=process.slug, token=token)
    locale = _locale(locale)
    with force_locale(locale):
        title = process.text("title", locale)
        subject = _("Your link for a voting code: %(title)s", title=title)
        body = _(
            "Someone, probably you, asked for a voting code for %(title)s with this e-mail "
            "address.\n\nTo get your code, open this link within two hours, say what makes "
            "you eligible and confirm your address:\n%(url)s\n\nIf it was not you, ignore "
            "this e-mail: no code is sent without the link.",
            title=title,
            url=url,
        )
    enqueue(session, to=normal, subject=subject, body=body, locale=locale, secret=True)
    return key


def link_key(process: Process, token: str) -> str:
    """The address key a confirmation link carries; ``LinkInvalid`` if it is forged,
    damaged, expired or for another process."""
    try:
        data = tokens.loads("voting-email", token)
        if int(data["p"]) != process.id:
            raise LinkInvalid()
        return str(data["k"])
    except (tokens.TokenInvalid, KeyError, TypeError, ValueError) as exc:
        raise LinkInvalid() from exc


@dataclass(frozen=True)
class Declaration:
    """What the person declares to get a code: bands only. ``none_of_these``: they said
    that none of the process's connections is theirs; ``younger``: that they are younger
    than the process's minimum age (an answer offered where a band would hide it)."""

    connection: Connection | None
    age_band: AgeBand | None
    district: str | None
    none_of_these: bool = False
    younger: bool = False


def districts(process: Process) -> tuple[str, ...]:
    """The slugs of the districts a code by e-mail can be bound to (none without areas)."""
    return tuple(a.slug for a in Contract.of(process).districts)


def questions(process: Process) -> tuple[str, ...]:
    """The questions this process asks, in order. The district is asked only where there
    is a choice: with one district, that one is the answer (``given_district``)."""
    asked = ("connection", "age", "district", "address")
    return asked if len(districts(process)) > 1 else tuple(q for q in asked if q != "district")


def given_district(process: Process) -> str | None:
    """The district a process with exactly one gives everybody, else None."""
    found = districts(process)
    return found[0] if len(found) == 1 else None


def check_declaration(
    process: Process, declared: Declaration, *, complete: bool = True
) -> str | None:
    """Check the declaration with the process's own ``Eligibility.check`` (a band counts
    as its oldest age); returns the district's slug (None in a process without districts).
    With ``complete=False`` (one question answered at a time) only the parts given are
    checked, so that a person hears at once that an answer rules them out."""
    eligibility = Contract.of(process).eligibility
    known = districts(process)
    district = declared.district or given_district(process)
    if complete:
        if declared.connection is None and not declared.none_of_these:
            raise Invalid(_("Choose what makes you eligible."))
        if declared.age_band is None and not declared.younger:
            raise Invalid(_("Choose your age."))
        if known and district not in known:
            raise Invalid(_("Choose the district you vote in."))
    elif district is not None and district not in known:
        raise Invalid(_("Choose the district you vote in."))
    if not known:
        district = None
    age = declared.age_band.highest if declared.age_band is not None else None
    if declared.younger:
        age = eligibility.min_age - 1
    given = {"too_young": age is not None,
             "no_connection": declared.connection is not None or declared.none_of_these,
             "no_area": district is not None}  # fmt: skip
    connections = {declared.connection} if declared.connection is not None else set()
    for problem in eligibility.check(age=age, connections=connections, area=district,
                                     areas=known):  # fmt: skip
        if not complete and not given.get(problem.code, True):
            continue
        if problem.code == "too_young":
            raise NotAllowed(
                _("You must be at least %(age)s years old to vote.", age=eligibility.min_age)
            )
        if problem.code == "no_connection":
            raise NotAllowed(
                _(
                    "You can get a code only if at least one of the connections in "
                    "the list is true for you."
                )
            )
        raise NotAllowed(_("Choose the district you vote in."))
    return district


def has_code(session: Session, process: Process, key: str) -> bool:
    return session.get(EmailClaim, {"process_id": process.id, "address_key": key}) is not None


def _email_batch(session: Session, process: Process, area_id: int | None) -> CodeBatch:
    """The process's e-mail batch for a district (one each, created when first needed)."""
    batch = session.scalar(
        sa.select(CodeBatch)
        .where(
            CodeBatch.process_id == process.id,
            CodeBatch.channel == CodeChannel.EMAIL,
            CodeBatch.purpose == PURPOSE,
            CodeBatch.revoked.is_(False),
            CodeBatch.area_id.is_(None) if area_id is None else CodeBatch.area_id == area_id,
        )
        .order_by(CodeBatch.id)
        .limit(1)
    )
    if batch is None:
        batch = CodeBatch(process_id=process.id, channel=CodeChannel.EMAIL, purpose=PURPOSE,
                          count=0, area_id=area_id, issued_by_id=None)  # fmt: skip
        session.add(batch)
        session.flush()
    return batch


def issue_by_email(
    session: Session,
    process: Process,
    token: str,
    address: str,
    declared: Declaration,
    *,
    locale: str | None,
    now: dt.datetime,
) -> None:
    """Issue one code to a confirmed address and mail it (secret). One code per address per
    process: ``AlreadyHasCode`` otherwise (a concurrent twin fails on the claim's key)."""
    _check_open(process, now)
    key = link_key(process, token)
    normal = normalize(address)
    if not codes.same(address_key(process, normal), key):
        raise WrongAddress()
    district = check_declaration(process, declared)
    if has_code(session, process, key):
        raise AlreadyHasCode()
    area = next((a for a in process.areas if a.slug == district), None)
    batch = _email_batch(session, process, area.id if area else None)
    session.add(EmailClaim(process_id=process.id, address_key=key))
    plain = codes.generate()
    session.add(
        VotingCode(
            digest=codes.digest(services.pepper(), plain), process_id=process.id,
            area_id=batch.area_id, batch_id=batch.id, used=False, revoked=False,
        )
    )  # fmt: skip
    session.execute(
        sa.update(CodeBatch)
        .where(CodeBatch.id == batch.id)
        .values(count=CodeBatch.count + 1)
        .execution_options(synchronize_session=False)
    )
    record(
        session, AuditAction.CODES_ISSUE, subject=batch, process_id=process.id,
        reason=PURPOSE,
        data={"count": 1, "channel": CodeChannel.EMAIL.value, "purpose": PURPOSE,
              "area": district},
    )  # fmt: skip
    _mail_code(session, process, normal, plain, district, locale)
    session.flush()


def _mail_code(
    session: Session, process: Process, to: str, plain: str, district: str | None,
    locale: str | None,
) -> None:  # fmt: skip
    locale = _locale(locale)
    voting = process.phase(PhaseKind.VOTING)
    link = _absolute("voting.start", slug=process.slug) + "#" + plain
    area = next((a.name for a in process.areas if a.slug == district), "")
    with force_locale(locale):
        title = process.text("title", locale)
        subject = _("Your voting code: %(title)s", title=title)
        body = _(
            "Here is your voting code for %(title)s:\n\n    %(code)s\n\nOpen this link to "
            "vote (the code is filled in):\n%(link)s\n\nVoting closes on %(closes)s. The code "
            "works once; keep it to yourself.",
            title=title,
            code=plain,
            link=link,
            closes=when(voting.ends_at) if voting else "",
        )
        if area:
            body += "\n\n" + _("Your code is for the district %(area)s.", area=area)
    enqueue(session, to=to, subject=subject, body=body, locale=locale, secret=True)


def came_by_email(session: Session, process: Process, code_text: str) -> bool:
    """Was this code handed out by e-mail? (Read only; False for anything not a code.)"""
    try:
        digest = codes.digest(services.pepper(), code_text)
    except Invalid:
        return False
    channel = session.scalar(
        sa.select(CodeBatch.channel)
        .join(VotingCode, VotingCode.batch_id == CodeBatch.id)
        .where(VotingCode.digest == digest, VotingCode.process_id == process.id)
    )
    return channel == CodeChannel.EMAIL


def mail_receipt(
    session: Session,
    process: Process,
    code_text: str,
    receipt_text: str,
    address: str,
    *,
    locale: str | None,
) -> None:
    """Mail the receipt (secret) to the address that received the code. The voter proves
    both by giving the code and the receipt (their keyed bind) and the address (its key is
    among the e-mail claims). The address is not stored."""
    services.code_area_for_replacement(session, process, code_text, receipt_text)
    if not came_by_email(session, process, code_text):
        raise NotByEmail()
    normal = normalize(address)
    if not has_code(session, process, address_key(process, normal)):
        raise Invalid(_("Give the address your voting code was mailed to."))
    locale = _locale(locale)
    receipt = codes.pretty(receipt_text, receipt=True)
    with force_locale(locale):
        title = process.text("title", locale)
        subject = _("Your receipt: %(title)s", title=title)
        body = _(
            "Your ballot in %(title)s is cast. Your receipt is:\n\n    %(receipt)s\n\nWith it "
            "you can check that your ballot was received:\n%(url)s\n\nThe receipt shows only "
            "that your ballot is counted, never what you chose. Keep it, and your code, to "
            "yourself.",
            title=title,
            receipt=receipt,
            url=_absolute("voting.receipt", slug=process.slug),
        )
    enqueue(session, to=normal, subject=subject, body=body, locale=locale, secret=True)
    session.flush()
