"""Account operations. They flush; the caller commits."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import unicodedata
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from pb import tokens
from pb.accounts.models import Role, User
from pb.audit import AuditAction, record
from pb.errors import Conflict, Invalid
from pb.mail.services import enqueue


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


class RegistrationLinkInvalid(Invalid):
    message = _l(
        "This link is not valid or has expired. Register again to get a new one by e-mail."
    )


class ResetLinkInvalid(Invalid):
    message = _l(
        "This link is not valid any more: it has expired, has already been used, or is "
        "damaged. Ask for a new one."
    )


class WrongPassword(Invalid):
    message = _l("This is not your current password.")


class BadDisplayName(Invalid):
    """The name shown with what someone writes would be blank or would disguise text."""


# Characters that reorder the text around them (embeddings, overrides, isolates, marks): in
# a name they could make it, or what follows it on a page, read as something else.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def display_name_problem(name: str) -> Any:
    """Why a display name cannot be used (a message in the reader's language), or None: it
    needs a visible character (a letter, digit, punctuation or symbol; spaces, invisible
    format characters and lone accents are not enough) and no direction controls."""
    if any(c in BIDI_CONTROLS for c in name):
        return _l("The name may not contain characters that change the direction of the text.")
    if not any(unicodedata.category(c)[0] in "LNPS" for c in name):
        return _l("Give a name with at least one visible character, such as a letter.")
    return None


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
    """Create an account. Raises ``EmailTaken`` if the address is already registered and
    ``BadDisplayName`` for a blank or direction-changing name (the form checks it first)."""
    problem = display_name_problem(display_name)
    if problem is not None:
        raise BadDisplayName(problem)
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


def _absolute(endpoint: str, **values: Any) -> str:
    base: str = current_app.config["BASE_URL"].rstrip("/")
    return base + url_for(endpoint, **values)


def request_registration(session: Session, *, email: str, locale: str | None) -> None:
    """Mail the address a link to finish creating an account or, when it already has one,
    a note that someone tried. Both take the same work and the caller answers the same, so
    nobody learns which addresses have accounts; no account is made before the link."""
    email = normalize_email(email)
    locale = locale if locale in ("sv", "en") else "sv"
    user = find_by_email(session, email)
    if user is None:
        token = tokens.dumps("register", {"e": email, "l": locale})
        url = _absolute("accounts.register_finish", token=token)
        with force_locale(locale):
            subject = _("Finish creating your account")
            body = _(
                "Someone, probably you, asked to create an account on our citizen budget site "
                "with this e-mail address.\n\nTo finish, open this link within two days and "
                "choose your name and password:\n%(url)s\n\nIf it was not you, ignore this "
                "e-mail: no account is created without the link.",
                url=url,
            )
    else:
        locale = user.locale if user.locale in ("sv", "en") else locale
        url = _absolute("accounts.login")
        with force_locale(locale):
            subject = _("Someone tried to create an account with your address")
            body = _(
                "Someone, perhaps you, tried to create a new account on our citizen budget site "
                "with this e-mail address. It already has an account.\n\nIf it was you, log "
                "in here instead:\n%(url)s\n\nIf it was not you, ignore this e-mail: nothing "
                "has changed in your account.",
                url=url,
            )
    enqueue(session, to=email, subject=subject, body=body, locale=locale,
            user_id=user.id if user else None)  # fmt: skip


def registration_link(token: str) -> tuple[str, str]:
    """The e-mail address and language a registration link was sent for. Raises
    ``RegistrationLinkInvalid`` when it is forged, damaged or older than two days."""
    try:
        data = tokens.loads("register", token)
        return str(data["e"]), str(data["l"])
    except (tokens.TokenInvalid, KeyError, TypeError) as exc:
        raise RegistrationLinkInvalid() from exc


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


def check_password(user: User, password: str) -> None:
    """Raises ``WrongPassword`` unless ``password`` is the account's password."""
    try:
        _hasher().verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError) as exc:
        raise WrongPassword() from exc


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """Raises ``WrongPassword``. Ends the account's other sessions."""
    check_password(user, current)
    user.password_hash = hash_password(new)
    user.session_version += 1
    record(session, AuditAction.USER_PASSWORD, actor=user, subject=user)
    session.flush()


def _password_digest(user: User) -> str:
    """A short digest of the account's password hash: a reset link carries it, so the link
    stops working once the password has changed. The hash itself never leaves the database."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:24]


def reset_token(user: User) -> str:
    """The signed token of a link to choose a new password for this account."""
    return tokens.dumps("password-reset", {"u": user.id, "h": _password_digest(user)})


def request_password_reset(session: Session, *, email: str, locale: str) -> None:
    """Mail the address a link to choose a new password (valid for an hour, once) or, when
    no account has it, a note saying so. Both take the same work and the caller answers the
    same, so nobody learns which addresses have accounts."""
    email = normalize_email(email)
    locale = locale if locale in ("sv", "en") else "sv"
    user = find_by_email(session, email)
    if user is not None and user.active:
        locale = user.locale if user.locale in ("sv", "en") else locale
        url = _absolute("accounts.reset_password", token=reset_token(user))
        with force_locale(locale):
            subject = _("Choose a new password")
            body = _(
                "Someone, probably you, asked to choose a new password for your account on our "
                "citizen budget site.\n\nOpen this link within an hour to choose it; the link "
                "works once:\n%(url)s\n\nIf it was not you, ignore this e-mail: your password "
                "stays as it is.",
                url=url,
            )
    else:
        user = None
        url = _absolute("accounts.register")
        with force_locale(locale):
            subject = _("Someone asked for a new password")
            body = _(
                "Someone, perhaps you, asked to choose a new password on our citizen budget "
                "site for this e-mail address, but there is no account with this address. "
                "Perhaps you used another one.\n\nTo create an account, open:\n%(url)s\n\n"
                "If it was not you, ignore this e-mail.",
                url=url,
            )
    enqueue(session, to=email, subject=subject, body=body, locale=locale,
            user_id=user.id if user else None, secret=True)  # fmt: skip


def reset_link_user(session: Session, token: str) -> User:
    """The account a password-reset link was sent for. Raises ``ResetLinkInvalid`` when the
    link is forged, damaged, older than an hour, or the password has changed since (the link
    has been used)."""
    try:
        data = tokens.loads("password-reset", token)
        user = session.get(User, int(data["u"]))
        digest = str(data["h"])
    except (tokens.TokenInvalid, KeyError, TypeError, ValueError) as exc:
        raise ResetLinkInvalid() from exc
    if user is None or not user.active or digest != _password_digest(user):
        raise ResetLinkInvalid()
    return user


def reset_password(session: Session, token: str, new: str) -> User:
    """Set a new password from a reset link. Raises ``ResetLinkInvalid``. The link dies with
    the old password; the account's sessions end; the owner is told by e-mail."""
    user = reset_link_user(session, token)
    user.password_hash = hash_password(new)
    user.session_version += 1
    record(session, AuditAction.USER_PASSWORD, actor=user, subject=user)
    locale = user.locale if user.locale in ("sv", "en") else "sv"
    with force_locale(locale):
        subject = _("Your password has been changed")
        body = _(
            "The password of your account on our citizen budget site was changed just now, "
            "with a link sent to this address. Every device that was logged in has been "
            "logged out.\n\nIf it was not you, choose a new password at once:\n%(url)s",
            url=_absolute("accounts.forgot_password"),
        )
    enqueue(session, to=user.email, subject=subject, body=body, locale=locale,
            user_id=user.id, secret=True)  # fmt: skip
    session.flush()
    return user


def set_locale(user: User, locale: str) -> None:
    """The language of the e-mails the account gets (Swedish unless it is English)."""
    user.locale = locale if locale in ("sv", "en") else "sv"


def set_role(
    session: Session,
    user: User,
    role: Role,
    actor: User | None = None,
    process_id: int | None = None,
) -> None:
    """Change the account's site-wide role (audited; ``process_id``: the process whose
    officials changed, so that its audit log shows it)."""
    old = user.role
    user.role = role
    record(session, AuditAction.USER_ROLE, actor=actor, subject=user, process_id=process_id,
           data={"role": [old, role]})  # fmt: skip
    session.flush()
