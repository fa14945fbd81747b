"""Log-in manager, CSRF, permission checks and named rate limiters.

Rate limits are kept in the database (insert-only rows in ``rate_limit_hits``) so that
several stateless app processes share them without another service.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ParamSpec, TypeGuard, TypeVar, cast
from urllib.parse import urlsplit

import flask_login
import sqlalchemy as sa
from flask import Flask, abort, current_app, g, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.wrappers import Response

from pb.db import Base, UTCDateTime, get_engine, get_session, rows_changed, utcnow

if TYPE_CHECKING:  # the core knows accounts only as a type; pb.accounts loads users
    from pb.accounts.models import User

login_manager = LoginManager()
csrf = CSRFProtect()

P = ParamSpec("P")
R = TypeVar("R")


class RateLimitHit(Base):
    __tablename__ = "rate_limit_hits"
    __table_args__ = (
        sa.Index("ix_rate_limit_hits_key_at", "key", "at"),
        sa.Index("ix_rate_limit_hits_at", "at"),  # the prune of rows older than MAX_WINDOW
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(200))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


# Declarative classes expose ``__table__`` as a FromClause; for a mapped class it is its Table.
_hits = cast(sa.Table, RateLimitHit.__table__)

# Paths whose pages are personal even when the answer is a log-in redirect or an error.
PERSONAL_PATHS = ("/account", "/admin", "/moderation", "/mail")

# The Content-Security-Policy of a stored file served as it is (an image): nothing loads from
# it, and no other site may frame it.
FILE_CSP = "default-src 'none'; frame-ancestors 'none'"

# No limit looks further back than this; older hits are deleted as new ones arrive.
MAX_WINDOW = dt.timedelta(days=1)


@dataclass(frozen=True)
class RateLimiter:
    """A named sliding-window limit: at most ``limit`` hits per ``window`` for one key.

    Hits are written in their own transaction, so a failed log-in still counts even though
    the request that saw it rolls back.
    """

    name: str
    limit: int
    window: dt.timedelta

    def _key(self, key: str) -> str:
        return f"{self.name}:{key}"[:200]

    def _count(
        self, conn: sa.Connection, key: str, now: dt.datetime
    ) -> tuple[int, dt.datetime | None]:
        t = _hits
        row = conn.execute(
            sa.select(sa.func.count(), sa.func.min(t.c.at)).where(
                t.c.key == self._key(key), t.c.at > now - self.window
            )
        ).one()
        return int(row[0]), row[1]

    def hit(self, key: str) -> None:
        """Count one hit, and drop hits older than any window so the table stays small."""
        now = utcnow()
        with get_engine().begin() as conn:
            conn.execute(sa.insert(_hits).values(key=self._key(key), at=now))
            conn.execute(sa.delete(_hits).where(_hits.c.at < now - MAX_WINDOW))

    def test(self, key: str) -> bool:
        """True while the key may still act."""
        with get_engine().connect() as conn:
            count, _ = self._count(conn, key, utcnow())
        return count < self.limit

    def resets_in(self, key: str) -> dt.timedelta:
        now = utcnow()
        with get_engine().connect() as conn:
            count, oldest = self._count(conn, key, now)
        if count < self.limit or oldest is None:
            return dt.timedelta(0)
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=dt.UTC)
        return max(dt.timedelta(0), oldest + self.window - now)

    def clear(self, key: str) -> None:
        with get_engine().begin() as conn:
            conn.execute(sa.delete(_hits).where(RateLimitHit.key == self._key(key)))


def hit_counts(*checks: tuple[RateLimiter, str]) -> list[int]:
    """The hits of several (limiter, key) pairs in their windows, in one statement on the
    request's own connection: a page that tests two limits on every request (a voting
    code: per address and overall) pays for one round trip, not two connections."""
    row = get_session().execute(_counts_statement(len(checks)), hit_params(*checks)).one()
    return [int(n or 0) for n in row]


def hit_params(*checks: tuple[RateLimiter, str]) -> dict[str, Any]:
    """The bound parameters of ``hit_columns(len(checks))`` for these (limiter, key) pairs."""
    now = utcnow()
    params: dict[str, Any] = {}
    for i, (rl, key) in enumerate(checks):
        params[f"key{i}"], params[f"since{i}"] = rl._key(key), now - rl.window
    return params


@functools.cache
def hit_columns(n: int) -> tuple[sa.ScalarSelect[Any], ...]:
    """``(count of key0 since since0), (count of key1 since since1), ...`` as scalar
    subqueries with bound parameters (``hit_params``), built once per number of checks: a
    caller may read them in a statement that also reads what the limit guards."""
    t = _hits
    return tuple(
        sa.select(sa.func.count())
        .where(
            t.c.key == sa.bindparam(f"key{i}"),
            t.c.at > sa.bindparam(f"since{i}", type_=t.c.at.type),
        )
        .scalar_subquery()
        for i in range(n)
    )


@functools.cache
def _counts_statement(n: int) -> sa.Select[Any]:
    """``SELECT (count of key0 since since0), (count of key1 since since1), ...``."""
    return sa.select(*hit_columns(n))


def limiter(name: str) -> RateLimiter:
    cfg = current_app.config
    limits = {
        "login.email": (cfg["LOGIN_MAX_ATTEMPTS"], cfg["LOGIN_WINDOW_SECONDS"]),
        "login.ip": (cfg["LOGIN_MAX_ATTEMPTS"] * 4, cfg["LOGIN_WINDOW_SECONDS"]),
        "register.ip": (cfg["REGISTER_MAX_PER_IP"], cfg["REGISTER_WINDOW_SECONDS"]),
        "register.all": (cfg["REGISTER_MAX_TOTAL"], cfg["REGISTER_WINDOW_SECONDS"]),
        # Mails to one address: a brake on filling a stranger's inbox, not a refusal.
        "register.email": (3, cfg["REGISTER_WINDOW_SECONDS"]),
        # Wrong voting codes (and receipts): per address, and in all, across app processes.
        "code.ip": (20, 900),
        "code.all": (2000, 600),
        # Voting codes by e-mail: links asked for per IP and per address (keyed by a digest
        # of the address, never the address), confirmations per IP, and in all.
        "vote-email.ip": (cfg["VOTING_EMAIL_MAX_PER_IP"], 3600),
        "vote-email.address": (3, 86400),
        "vote-email.all": (cfg["VOTING_EMAIL_MAX_TOTAL"], 3600),
        # Links to choose a new password: asked for per IP (a refusal that says so) and mails
        # to one address (a silent brake, as for registering).
        "password-reset.ip": (cfg["REGISTER_MAX_PER_IP"], cfg["REGISTER_WINDOW_SECONDS"]),
        "password-reset.email": (3, cfg["REGISTER_WINDOW_SECONDS"]),
        # Following projects without an account: links asked for per IP and in all (refusals
        # that say so), and mails to one address (keyed by a digest of it; a silent brake).
        "follow.ip": (30, 3600),
        "follow.all": (1000, 3600),
        "follow.address": (3, 86400),
        # Paper ballots: codes an official typed that are unknown, revoked or used, per
        # official (signed in, so keyed by account): entering paper is no way to test codes.
        "paper.official": (30, 3600),
    }
    limit, seconds = limits[name]
    return RateLimiter(name, limit, dt.timedelta(seconds=seconds))


def client_ip() -> str:
    """The client's address. Behind ``TRUSTED_PROXIES`` proxies, ``ProxyFix`` (see
    ``create_app``) has already put the address they forwarded here."""
    return request.remote_addr or "unknown"


def is_safe_redirect(target: str | None) -> TypeGuard[str]:
    """Only same-site relative paths; no scheme, no host, no protocol-relative ``//``, and
    no control character (a line break in a ``Location`` header is refused by Werkzeug, which
    made a 500 of a link with ``?next=/x%0Ay``; browsers also drop tabs and line breaks from
    URLs, so ``/\t/evil.example`` would become ``//evil.example``)."""
    if not target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return False
    parts = urlsplit(target)
    return (
        not parts.scheme
        and not parts.netloc
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
    )


def no_store_when_personal(response: Response) -> Response:
    """Pages made for a logged-in person (their drafts, the moderation queue, admin) and pages
    reached by a personal signed link (an unsubscribe or follow link carries the address it
    was sent to) are never kept by the browser or a proxy: after log-out, Back or a shared
    computer's cache must not show them. Responses that set their own caching (static files,
    images) keep it."""
    if request.endpoint == "static" or "Cache-Control" in response.headers:
        return response
    by_link = bool(request.view_args and "token" in request.view_args)
    if current_user.is_authenticated or by_link or request.path.startswith(PERSONAL_PATHS):
        response.headers["Cache-Control"] = "no-store"
    return response


def role_required(
    check: Callable[[User], bool],
) -> Callable[[Callable[P, R]], Callable[P, R | ResponseReturnValue]]:
    """A view decorator: log-in first (Flask-Login's answer), then 403 unless ``check``."""

    def decorator(view: Callable[P, R]) -> Callable[P, R | ResponseReturnValue]:
        @functools.wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | ResponseReturnValue:
            if not current_user.is_authenticated:
                unauthorized: ResponseReturnValue = login_manager.unauthorized()
                return unauthorized
            if not check(current_user):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


admin_required = role_required(lambda u: u.is_admin)
official_required = role_required(lambda u: u.is_official)


# Flask-Login and Flask-WTF have no type information, so their decorators would leave the views
# they wrap untyped. These are the same decorators, typed; the views use them from here.
def login_required(view: Callable[P, R]) -> Callable[P, R | ResponseReturnValue]:
    """Flask-Login's ``login_required``: anonymous visitors get its log-in answer instead."""
    guarded: Callable[P, R | ResponseReturnValue] = flask_login.login_required(view)
    return guarded


def csrf_exempt(view: Callable[P, R]) -> Callable[P, R]:
    """Flask-WTF's ``csrf.exempt``: the view is registered as exempt and returned unchanged."""
    exempt: Callable[P, R] = csrf.exempt(view)
    return exempt


# The Content-Security-Policy every response carries, directive by directive. A view that
# needs one more source (e.g. map tiles) calls ``extend_csp`` for its own response.
CSP: dict[str, tuple[str, ...]] = {
    "default-src": ("'self'",),
    "img-src": ("'self'", "data:"),
    "style-src": ("'self'",),
    "script-src": ("'self'",),
    "object-src": ("'none'",),
    "base-uri": ("'self'",),
    "frame-ancestors": ("'none'",),
    "form-action": ("'self'",),
}


def extend_csp(directive: str, *sources: str) -> None:
    """Allow more sources for one directive, in this request's response only."""
    if directive not in CSP:
        raise ValueError(f"unknown CSP directive {directive!r}")
    extra: dict[str, list[str]] = g.setdefault("csp_extra", {})
    extra.setdefault(directive, []).extend(s for s in sources if s not in CSP[directive])


def content_security_policy() -> str:
    """The policy for the current response: the base plus what views added."""
    extra: dict[str, list[str]] = g.get("csp_extra") or {}
    return "; ".join(
        " ".join((name, *sources, *dict.fromkeys(extra.get(name, ()))))
        for name, sources in CSP.items()
    )


def init_app(app: Flask) -> None:
    app.after_request(no_store_when_personal)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "basic"
    login_manager.login_message = lazy_gettext("Please log in to continue.")
    login_manager.login_message_category = "info"


def prune_rate_limits(session: Session, now: dt.datetime) -> int:
    """Delete the hits older than any limit looks back (they hold addresses)."""
    return rows_changed(session, sa.delete(_hits).where(_hits.c.at < now - MAX_WINDOW))
