"""Queue mail in the outbox and deliver it over SMTP with retries.

``enqueue`` only adds a row (the caller's transaction commits it together with the change
it tells about). ``send_pending`` claims due rows (marking them as being sent, in
one short transaction), sends them over one SMTP connection and settles each message in its
own transaction: sent, retried later with exponential back-off until ``MAIL_MAX_ATTEMPTS``,
or failed with the error when it can never be sent (a message that cannot be built, a
refused recipient). One bad message never blocks or repeats the others, and a message is
delivered at most once: a run that dies mid-way leaves its claimed messages marked sent.

A *secret* message (``enqueue(..., secret=True)``: a voting code, a receipt, the link that
asks for a code) is one the person asked for just now: it is sent even to an address that
unsubscribed and carries no unsubscribe footer. Its address, subject and body are wiped
(``WIPED``) in the transaction that claims it for sending, so a sent (or given-up, or
interrupted) secret message leaves only the fact that a message was sent and when; one
that must be retried gets them back from the message built in memory. Its errors are
recorded as the error's kind only (an SMTP refusal quotes the address).
Nothing in this module logs a message's content.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import formatdate, make_msgid

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from pb import tokens
from pb.db import get_engine, utcnow
from pb.mail.models import MailOptOut, OutboxMessage


def normalize(email: str) -> str:
    return email.strip().lower()


def is_opted_out(session: Session, email: str) -> bool:
    return session.get(MailOptOut, normalize(email)) is not None


def unsubscribe_url(email: str) -> str:
    token = tokens.dumps("unsubscribe", {"e": normalize(email)})
    base: str = current_app.config["BASE_URL"].rstrip("/")
    return base + url_for("mail.unsubscribe", token=token)


_LINE_BREAKS = re.compile(r"[\t\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1b\x1f\x7f-\x9f]")


def header_text(value: str) -> str:
    """A header value on one line: line breaks become a space, other control characters go.
    No header ever carries CR or LF, whatever was stored."""
    return _CONTROLS.sub("", _LINE_BREAKS.sub(" ", value)).strip()


def enqueue(
    session: Session,
    *,
    to: str,
    subject: str,
    body: str,
    locale: str = "sv",
    user_id: int | None = None,
    secret: bool = False,
) -> OutboxMessage | None:
    """Queue one e-mail (plain text). Returns None when the address unsubscribed.

    A footer with a one-click unsubscribe link, in the recipient's language, is added. A
    ``secret`` message (see the module's note) gets no footer, is sent whatever the opt-out
    list says, and is wiped once sent or given up."""
    if secret:
        msg = OutboxMessage(to=to, subject=header_text(subject)[:300], body=body,
                            unsubscribe_url="", secret=True)  # fmt: skip
        session.add(msg)
        session.flush()
        return msg
    if is_opted_out(session, to):
        return None
    url = unsubscribe_url(to)
    with force_locale(locale):
        # True for every recipient, also one whose address someone else typed in.
        footer = _("You get this e-mail because your address was given on our citizen "
                   "budget site. To get no more e-mail from us, open: %(url)s", url=url)  # fmt: skip
    msg = OutboxMessage(to=to, subject=header_text(subject)[:300],
                        body=f"{body.rstrip()}\n\n-- \n{footer}\n", unsubscribe_url=url)  # fmt: skip
    session.add(msg)
    session.flush()
    return msg


def opt_out(session: Session, email: str) -> bool:
    """Record the address as unsubscribed and drop its unsent mail. True if it was new."""
    email = normalize(email)
    if session.get(MailOptOut, email) is not None:
        return False
    session.add(MailOptOut(email=email))
    session.execute(
        sa.delete(OutboxMessage).where(
            sa.func.lower(OutboxMessage.to) == email, OutboxMessage.sent_at.is_(None)
        )
    )
    session.flush()
    return True


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


class BadMessage(ValueError):
    """A message that can never be sent as it is (e.g. an address with a line break)."""


def _address(value: str) -> str:
    if _LINE_BREAKS.search(value) or _CONTROLS.search(value):
        raise BadMessage(f"control characters in the address {value!r}")
    return value.strip()


class _Policy(EmailPolicy):
    """The standard policy, except that ``List-Unsubscribe`` is never folded. A one-click
    unsubscribe URL is longer than a header line and has no space to break at, so the
    standard policy wrote it as RFC 2047 encoded words, which mail programs do not read as
    the ``<URL>`` that RFC 2369 and RFC 8058 ask for (third probe). It is ASCII (checked in
    ``_build``) and far below RFC 5322's 998-character limit for a line."""

    def fold(self, name: str, value: str) -> str:
        if name.lower() == "list-unsubscribe":
            return f"{name}: {value}{self.linesep}"
        return str(super().fold(name, value))

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() == "list-unsubscribe":
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return bytes(super().fold_binary(name, value))


_POLICY = _Policy()


def _build(row: OutboxMessage, sender: str) -> EmailMessage:
    msg = EmailMessage(policy=_POLICY)
    msg["From"] = header_text(sender)
    msg["To"] = _address(row.to)
    msg["Subject"] = header_text(row.subject)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip(">") or "localhost")
    msg["Auto-Submitted"] = "auto-generated"
    if row.unsubscribe_url:
        url = header_text(row.unsubscribe_url)
        if not url.isascii() or " " in url or len(url) > 900:
            raise BadMessage(f"not a plain ASCII URL for List-Unsubscribe: {url[:100]!r}")
        msg["List-Unsubscribe"] = f"<{url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(row.body)
    return msg


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(minutes=min(2 ** (attempts - 1), 24 * 60))


WIPED = ""
"""What a secret message's address, subject and body become once it is settled."""


def _wipe(row: OutboxMessage) -> None:
    row.to = row.subject = row.body = WIPED
    row.unsubscribe_url = ""


def _error_text(row: OutboxMessage, error: BaseException) -> str:
    """The error to record: in full, but only its kind (and SMTP status) for a secret one."""
    if not row.secret:
        return str(error)[:2000] or type(error).__name__
    status = getattr(error, "smtp_code", None)
    return f"{type(error).__name__} {status}" if status else type(error).__name__


# Left on a message while it is handed to the SMTP server. If the sender dies before it
# settles the message, the message stays marked sent with this note: mail is delivered at
# most once, never twice.
SENDING = "sending: not settled (the sender stopped); it may or may not have been delivered"


def _claim(session: Session, limit: int, now: dt.datetime, sender: str,
           report: SendReport) -> list[tuple[int, EmailMessage]]:  # fmt: skip
    """Take due messages in one short transaction: build each; one that cannot be built is
    failed at once with the error, the others are marked as being sent (so no other run,
    nor this one after a crash, sends them again)."""
    claimed = []
    with session.begin():
        rows = session.scalars(
            sa.select(OutboxMessage)
            .where(
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.failed_at.is_(None),
                OutboxMessage.next_attempt_at <= now,
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        for row in rows:
            row.attempts += 1
            try:
                message = _build(row, sender)
            except (ValueError, TypeError, LookupError) as exc:  # never sendable as it is
                row.failed_at = now
                row.last_error = f"could not be built: {_error_text(row, exc)}"[:2000]
                if row.secret:
                    _wipe(row)
                report.failed += 1
                continue
            row.sent_at = now
            row.last_error = SENDING
            if row.secret:  # wiped before it leaves; put back only if it must be retried
                _wipe(row)
            claimed.append((row.id, message))
    return claimed


def _settle(session: Session, row_id: int, error: BaseException | None, permanent: bool,
            now: dt.datetime, max_attempts: int, report: SendReport,
            message: EmailMessage | None = None) -> None:  # fmt: skip
    """Record one message's outcome in its own transaction. A secret message was wiped when
    it was claimed; one to be retried gets its address, subject and body back from
    ``message``."""
    with session.begin():
        row = session.get(OutboxMessage, row_id)
        if row is None:  # unsubscribed meanwhile; nothing to record
            return
        if error is None:
            row.last_error = ""
            if row.secret:
                _wipe(row)
            report.sent += 1
            return
        row.sent_at = None
        row.last_error = _error_text(row, error)
        if permanent or row.attempts >= max_attempts:
            row.failed_at = now
            if row.secret:
                _wipe(row)
            report.failed += 1
        else:
            row.next_attempt_at = now + _backoff(row.attempts)
            if row.secret and message is not None:
                row.to = str(message["To"])
                row.subject = str(message["Subject"])
                row.body = message.get_content()
            report.retried += 1


def send_pending(limit: int = 500, now: dt.datetime | None = None) -> SendReport:
    """Send due messages, each settled on its own: one that fails never holds back or
    repeats the others. Safe to run from several processes at once on PostgreSQL (rows are
    claimed with SKIP LOCKED and marked before sending); on SQLite the database serialises
    writers."""
    cfg = current_app.config
    now = now or utcnow()
    report = SendReport()
    with Session(get_engine()) as session:
        claimed = _claim(session, limit, now, cfg["MAIL_FROM"], report)
        if not claimed:
            return report
        smtp: smtplib.SMTP | None = None
        connect_error: Exception | None = None
        try:
            smtp = smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=20)
            if cfg["MAIL_USE_TLS"]:
                smtp.starttls()
            if cfg["MAIL_USERNAME"]:
                smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
        except (OSError, smtplib.SMTPException) as exc:
            smtp = None
            connect_error = smtplib.SMTPException(f"connect: {exc}")
        try:
            for row_id, message in claimed:
                error: BaseException | None = connect_error
                permanent = False
                if smtp is not None:
                    try:
                        smtp.send_message(message)
                    except smtplib.SMTPRecipientsRefused as exc:
                        error, permanent = exc, True
                    except (OSError, smtplib.SMTPException) as exc:
                        error = exc
                    except Exception as exc:  # e.g. an address the SMTP client cannot encode
                        error, permanent = exc, True
                _settle(session, row_id, error, permanent, now, cfg["MAIL_MAX_ATTEMPTS"], report,
                        message)  # fmt: skip
        finally:
            if smtp is not None:
                with contextlib.suppress(OSError, smtplib.SMTPException):
                    smtp.quit()
    return report
