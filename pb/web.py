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

from flask import flash
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
