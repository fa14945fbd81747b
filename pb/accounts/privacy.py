"""A person's data: what pb holds about an account, as one JSON download, and deleting the
account (GDPR articles 15, 20 and 17; docs/privacy.md says what is kept and why).

Each domain package owns its part of a person's data, and the packages above accounts may
not be imported from here (mail < accounts < processes < ... < results). So each package
describes its part as a :class:`DataPart` (a name, an ``export`` and an ``erase``) and the
app factory registers them (:func:`register`); ``export`` and ``delete_account`` go through
every registered part, lowest layer first for the export, highest first for erasing.

Deleting an account does not delete the ``users`` row: the append-only audit log points at
it (``audit_events.actor_id``; the log may not be changed, so the row cannot go and its id
cannot be set to null). The row is emptied instead: no name, no address (a placeholder that
is not an address), no password, no language, inactive, every session ended. What the
person wrote stays, with no author: proposals and comments lose their ``author_id`` and show
"Former participant" or no name at all.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from pb.accounts.models import Role, User
from pb.accounts.services import check_password
from pb.audit import AuditAction, AuditEvent, record
from pb.db import rows_changed
from pb.errors import NotAllowed
from pb.mail import privacy as mail_privacy
from pb.security import RateLimitHit

if TYPE_CHECKING:
    from flask import Flask

DELETED_DOMAIN = "deleted.invalid"  # RFC 2606: never a real address
UNUSABLE_PASSWORD = "!deleted"  # noqa: S105 - not a hash: no password verifies against it


@dataclass(frozen=True)
class DataPart:
    """One package's share of a person's data.

    ``export(session, user)`` returns data ``as_json`` can write (dicts, lists, str, int,
    float, bool, None, dates, enums); ``erase(session, user)`` deletes or unlinks it and returns counts
    of what it changed. Both run before the account itself is emptied, so ``user.email``
    and ``user.id`` are still the person's."""

    name: str
    export: Callable[[Session, User], Any]
    erase: Callable[[Session, User], dict[str, int]] | None = None


def register(app: Flask, *parts: DataPart) -> None:
    registry: dict[str, DataPart] = app.extensions.setdefault("pb.privacy", {})
    for part in parts:
        registry[part.name] = part


def parts() -> list[DataPart]:
    """The registered parts, in the order they were registered (lowest layer first)."""
    registry: dict[str, DataPart] = current_app.extensions.get("pb.privacy", {})
    return list(registry.values())


def _account(session: Session, user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role,
        "locale": user.locale,
        "created_at": user.created_at,
        "active": user.active,
    }


def _audit(session: Session, user: User) -> list[dict[str, Any]]:
    events = session.scalars(
        sa.select(AuditEvent)
        .where(
            sa.or_(
                AuditEvent.actor_id == user.id,
                sa.and_(AuditEvent.subject_type == "users", AuditEvent.subject_id == user.id),
            )
        )
        .order_by(AuditEvent.id)
    )
    return [
        {
            "at": e.at,
            "action": e.action,
            "by_you": e.actor_id == user.id,
            "subject": f"{e.subject_type}:{e.subject_id}",
            "process_id": e.process_id,
            "reason": e.reason,
            "data": e.data,
        }
        for e in events
    ]


def _rate_limit_keys(user: User) -> list[str]:
    """The rate-limit keys that hold the address (pb.security: ``name:key``)."""
    return [f"{name}:{user.email}"[:200] for name in ("login.email", "register.email")]


def _rate_limits(session: Session, user: User) -> dict[str, int]:
    rows = session.execute(
        sa.select(RateLimitHit.key, sa.func.count())
        .where(RateLimitHit.key.in_(_rate_limit_keys(user)))
        .group_by(RateLimitHit.key)
    )
    return {key.partition(":")[0]: int(n) for key, n in rows}


def _erase_rate_limits(session: Session, user: User) -> dict[str, int]:
    stmt = sa.delete(RateLimitHit).where(RateLimitHit.key.in_(_rate_limit_keys(user)))
    return {"rate_limit_hits": rows_changed(session, stmt)}


CORE_PARTS = (
    DataPart("account", _account),
    DataPart("audit_log", _audit),
    DataPart("rate_limit_hits_last_day", _rate_limits, _erase_rate_limits),
    DataPart("mail", mail_privacy.export_address, mail_privacy.erase_address),
)


def export(session: Session, user: User) -> dict[str, Any]:
    """Everything pb holds about the account, by part (``as_json`` writes it)."""
    data: dict[str, Any] = {
        "about": "Everything this site stores about your account, by part. "
        "See the privacy page for why each is kept and for how long.",
    }
    for part in parts():
        data[part.name] = part.export(session, user)
    return data


def as_json(data: dict[str, Any]) -> str:
    """The export as JSON text: dates in ISO 8601, enums by value."""

    def other(value: Any) -> Any:
        if isinstance(value, dt.datetime | dt.date):
            return value.isoformat()
        if isinstance(value, enum.Enum):
            return value.value
        raise TypeError(f"not JSON: {type(value).__name__}")

    return json.dumps(data, ensure_ascii=False, indent=1, default=other)


class LastAdmin(NotAllowed):
    message = _l(
        "You are the only administrator. Make someone else an administrator before you "
        "delete your account."
    )


def delete_account(session: Session, user: User, password: str) -> dict[str, int]:
    """Check the password, erase every part of the person's data, empty the account and
    end its sessions. Raises ``WrongPassword`` or ``LastAdmin``; flushes, the caller commits.
    Returns counts of what each part changed."""
    check_password(user, password)
    if user.role == Role.ADMIN:
        others = session.scalar(
            sa.select(sa.func.count())
            .select_from(User)
            .where(User.role == Role.ADMIN, User.active.is_(True), User.id != user.id)
        )
        if not others:
            raise LastAdmin()
    # Recorded first: once inactive, the account no longer counts as an actor.
    record(session, AuditAction.USER_DELETE, actor=user, subject=user)
    counts: dict[str, int] = {}
    for part in reversed(parts()):
        if part.erase is not None:
            counts.update(part.erase(session, user))
    user.email = f"deleted-{user.id}@{DELETED_DOMAIN}"
    user.display_name = ""
    user.password_hash = UNUSABLE_PASSWORD
    user.locale = None
    user.role = Role.PARTICIPANT
    user.active = False
    user.session_version += 1  # every signed-in browser's cookie stops matching
    session.flush()
    return counts


def is_deleted(user: User) -> bool:
    return user.email.endswith("@" + DELETED_DOMAIN) and not user.active
