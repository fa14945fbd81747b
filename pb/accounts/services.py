"""Account operations. They flush; the caller commits."""

from __future__ import annotations

import contextlib
import functools

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from pb.accounts.models import Role, User
from pb.audit import AuditAction, record
from pb.errors import Conflict, Invalid


@functools.cache
def _hasher_for(memory_kib: int, time_cost: int) -> tuple[PasswordHasher, str]:
    """An argon2id hasher, and a hash to verify against when the e-mail is unknown (so that
    timing does not reveal which addresses have accounts)."""
    hasher = PasswordHasher(memory_cost=memory_kib, time_cost=time_cost)
    return hasher, hasher.hash("pb-dummy-password-for-timing")


def _hasher() -> PasswordHasher:
    return _hasher_for(
        current_app.config["ARGON2_MEMORY_KIB"], current_app.config["ARGON2_TIME_COST"]
    )[0]


def _dummy_hash() -> str:
    return _hasher_for(
        current_app.config["ARGON2_MEMORY_KIB"], current_app.config["ARGON2_TIME_COST"]
    )[1]


class EmailTaken(Conflict):
    message = _l("An account with this e-mail address already exists.")


class WrongPassword(Invalid):
    message = _l("This is not your current password.")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def find_by_email(session: Session, email: str) -> User | None:
    return session.scalar(sa.select(User).where(User.email == normalize_email(email)))


def register(
    session: Session,
    *,
    email: str,
    password: str,
    display_name: str,
    role: Role = Role.PARTICIPANT,
    locale: str | None = None,
) -> User:
    """Create an account. Raises ``EmailTaken`` if the address is already registered."""
    if find_by_email(session, email) is not None:
        raise EmailTaken()
    user = User(
        email=normalize_email(email),
        password_hash=hash_password(password),
        display_name=display_name.strip(),
        role=role,
        locale=locale,
    )
    session.add(user)
    session.flush()
    record(session, AuditAction.USER_REGISTER, actor=user, subject=user, data={"role": role})
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None. Rehashes outdated hashes."""
    user = find_by_email(session, email)
    if user is None:
        with contextlib.suppress(VerificationError):
            _hasher().verify(_dummy_hash(), password)
        return None
    try:
        _hasher().verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if not user.active:
        return None
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """Raises ``WrongPassword``. Ends the account's other sessions."""
    try:
        _hasher().verify(user.password_hash, current)
    except (VerifyMismatchError, VerificationError, InvalidHashError) as exc:
        raise WrongPassword() from exc
    user.password_hash = hash_password(new)
    user.session_version += 1
    record(session, AuditAction.USER_PASSWORD, actor=user, subject=user)
    session.flush()


def set_role(session: Session, user: User, role: Role, actor: User | None = None) -> None:
    old = user.role
    user.role = role
    record(session, AuditAction.USER_ROLE, actor=actor, subject=user, data={"role": [old, role]})
    session.flush()
