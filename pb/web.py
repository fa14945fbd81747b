"""What every route that changes something shares: call services, then commit once or roll
back, and turn a refusal into a message and a status.

    with attempt() as done:
        services.report(db, ...)
    if done.error:
        form.form_errors.append(done.message)
        return render_template(...), done.status
    flash(...)
    return redirect(..., code=303)

Services raise a ``pb.errors.DomainError``; ``attempt`` rolls the session back and keeps
the error (no other exception is caught: those are bugs and become a 500 with a rollback).
The status follows the error's kind (``Invalid`` 400, ``NotAllowed`` 403, ``Conflict``
409); a route may map error classes to other statuses with ``statuses=``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, flash
from flask.globals import _cv_request
from sqlalchemy.orm import Session

from pb.db import get_session
from pb.errors import Conflict, DomainError, Invalid, NotAllowed

STATUS_BY_KIND: dict[type[DomainError], int] = {Invalid: 400, NotAllowed: 403, Conflict: 409}


def status_for(
    exc: DomainError, statuses: Mapping[type[DomainError], int] | None = None, default: int = 409
) -> int:
    """The HTTP status for a refusal: the route's own choice first, then the error's kind."""
    for cls in type(exc).__mro__:
        if statuses and cls in statuses:
            return statuses[cls]
        if cls in STATUS_BY_KIND:
            return STATUS_BY_KIND[cls]
    return default


@dataclass
class Attempt:
    """The outcome of an ``attempt`` block: ``error`` is None when it committed."""

    statuses: Mapping[type[DomainError], int] | None = None
    error: DomainError | None = None
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def message(self) -> str:
        return str(self.error.message) if self.error is not None else ""

    @property
    def status(self) -> int:
        return status_for(self.error, self.statuses) if self.error is not None else 200

    def on_failure(self, cleanup: Callable[[], None]) -> None:
        """Run ``cleanup`` (e.g. remove a stored file) if the block is refused."""
        self.cleanups.append(cleanup)

    def flash_error(self) -> bool:
        """Flash the refusal, if any; True when there was one."""
        if self.error is not None:
            flash(self.message, "error")
            return True
        return False


@contextmanager
def attempt(
    session: Session | None = None,
    *,
    statuses: Mapping[type[DomainError], int] | None = None,
    also: tuple[type[Exception], ...] = (),
    as_error: Callable[[Exception], DomainError] | None = None,
) -> Iterator[Attempt]:
    """Run the block; commit if it ends normally, roll back and keep the error if a service
    refused. ``also`` names other exceptions to treat as refusals (e.g. an IntegrityError of
    a double click), turned into a ``DomainError`` by ``as_error``."""
    db = session if session is not None else get_session()
    result = Attempt(statuses=statuses)
    try:
        yield result
        db.commit()  # inside the try: a unique-key race shows up here, as one of ``also``
        return
    except DomainError as exc:
        db.rollback()
        result.error = exc
    except also as exc:
        db.rollback()
        result.error = as_error(exc) if as_error is not None else Conflict()
    for cleanup in result.cleanups:
        cleanup()


__all__ = ["Attempt", "attempt", "status_for"]


# -- URLs in templates -------------------------------------------------------------------

URL_MEMO_SIZE = 2048
_MEMO_KEYS = frozenset({"filename", "slug", "pid", "lang"})


def template_url_for(app: Flask) -> Callable[..., str]:
    """``url_for`` for ``app``'s templates (about eighteen calls on every page, one or two per
    proposal in a list), remembering URLs that can only ever be the same: an endpoint
    without values, or with at most two of a static ``filename``, a process's ``slug``, a
    proposal's ``pid`` and a ``lang`` (strings or whole numbers, as pb's templates pass
    them). Building one walks Flask's and Werkzeug's layers (endpoint, URL defaults, rule,
    quoting), about 5 us; a remembered one is a dict look-up.

    Exact: once an app has served its first request its URL rules cannot change, pb has no
    URL-default functions (checked at each call), and a URL without a host (all that is
    remembered) depends only on the rule, the values (in their order) and the script name
    and subdomain of the request's URL adapter, which are all part of the key. Anything
    else (``_external``, ``_anchor``, other values, a blueprint-relative ``.endpoint``,
    outside a request, a URL with a host) is built each time. The memo is emptied when it
    holds ``URL_MEMO_SIZE`` URLs."""
    memo: dict[tuple[Any, ...], str] = {}
    build = app.url_for

    def url_for(endpoint: str, /, **values: Any) -> str:
        key = None
        req = _cv_request.get(None)
        if (
            req is not None
            and req.url_adapter is not None
            and len(values) <= 2
            and endpoint[:1] != "."
            and not any(app.url_default_functions.values())
            and all(
                name in _MEMO_KEYS and (type(value) is str or type(value) is int)
                for name, value in values.items()
            )
        ):
            adapter = req.url_adapter
            key = (adapter.script_name, adapter.subdomain, endpoint, *values.items())
            found = memo.get(key)
            if found is not None:
                return found
        url = build(endpoint, **values)
        if key is not None and url[:1] == "/" and url[:2] != "//":
            if len(memo) >= URL_MEMO_SIZE:
                memo.clear()
            memo[key] = url
        return url

    return url_for
