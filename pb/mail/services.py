"""Queue mail in the outbox and deliver it over SMTP with retries.

``enqueue`` only adds a row (the caller's transaction commits it together with the change
it tells about). ``send_pending`` claims due rows, sends them over one SMTP connection and
reschedules failures with exponential back-off until ``MAIL_MAX_ATTEMPTS``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
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


def enqueue(
    session: Session,
    *,
    to: str,
    subject: str,
    body: str,
    locale: str = "sv",
    user_id: int | None = None,
) -> OutboxMessage | None:
    """Queue one e-mail (plain text). Returns None when the address unsubscribed.

    A footer with a one-click unsubscribe link, in the recipient's language, is added."""
    if is_opted_out(session, to):
        return None
    url = unsubscribe_url(to)
    with force_locale(locale):
        footer = _("You get this e-mail because you take part in a citizen budget. "
                   "To get no more e-mail from us, open: %(url)s", url=url)  # fmt: skip
    msg = OutboxMessage(to=to, subject=subject[:300], body=f"{body.rstrip()}\n\n-- \n{footer}\n",
                        unsubscribe_url=url)  # fmt: skip
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


def _build(row: OutboxMessage, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = row.to
    msg["Subject"] = row.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip(">") or "localhost")
    msg["Auto-Submitted"] = "auto-generated"
    if row.unsubscribe_url:
        msg["List-Unsubscribe"] = f"<{row.unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(row.body)
    return msg


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(minutes=min(2 ** (attempts - 1), 24 * 60))


def send_pending(limit: int = 500, now: dt.datetime | None = None) -> SendReport:
    """Send due messages. Safe to run from several processes at once on PostgreSQL (rows are
    claimed with SKIP LOCKED); on SQLite the database serialises writers."""
    cfg = current_app.config
    now = now or utcnow()
    report = SendReport()
    engine = get_engine()
    with Session(engine) as session, session.begin():
        rows = list(
            session.scalars(
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
        )
        if not rows:
            return report
        smtp: smtplib.SMTP | None = None
        try:
            smtp = smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=20)
            if cfg["MAIL_USE_TLS"]:
                smtp.starttls()
            if cfg["MAIL_USERNAME"]:
                smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
        except (OSError, smtplib.SMTPException) as exc:
            smtp = None
            connect_error = f"connect: {exc}"
        for row in rows:
            row.attempts += 1
            try:
                if smtp is None:
                    raise smtplib.SMTPException(connect_error)
                smtp.send_message(_build(row, cfg["MAIL_FROM"]))
            except (OSError, smtplib.SMTPException) as exc:
                row.last_error = str(exc)[:2000]
                if row.attempts >= cfg["MAIL_MAX_ATTEMPTS"] or isinstance(
                    exc, smtplib.SMTPRecipientsRefused
                ):
                    row.failed_at = now
                    report.failed += 1
                else:
                    row.next_attempt_at = now + _backoff(row.attempts)
                    report.retried += 1
            else:
                row.sent_at = now
                report.sent += 1
        if smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                smtp.quit()
    return report
