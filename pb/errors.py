"""Domain errors, and the error pages (HTML, or JSON for the API) in the reader's language;
rollback on 500.

``DomainError`` is the one base of every refusal a service raises: it carries a message for
the user and knows nothing of HTTP. Its three kinds say what sort of refusal it is; the web
layer (``pb.web``) turns the kind into a status, and a route may pick another.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, default_exceptions


class DomainError(Exception):
    """A refused action; ``message`` says why in the reader's language (a lazy string, so
    it is translated when shown). Raised by services, which only flush: the caller rolls back."""

    message: Any = _l("This cannot be done.")

    def __init__(self, message: Any = None) -> None:
        super().__init__(str(message or self.message))
        if message is not None:
            self.message = message

    def __str__(self) -> str:
        return str(self.message)


class Invalid(DomainError):
    """What was sent cannot be accepted as it is (shown as 400)."""


class NotAllowed(DomainError):
    """The rules, the phase or the person's role do not allow this (shown as 403)."""


class Conflict(DomainError):
    """The thing is not in a state that allows this, e.g. already done (shown as 409)."""


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (
            _("Bad request"),
            _("The request could not be understood. Please go back and try again."),
        ),
        403: (_("Not allowed"), _("You do not have permission to do this.")),
        404: (
            _("Page not found"),
            _("We could not find that page. It may have moved or never existed."),
        ),
        405: (_("Not allowed"), _("That action cannot be done this way.")),
        409: (
            _("Conflict"),
            _("Someone else changed this at the same time. Please reload and try again."),
        ),
        413: (_("Too large"), _("What you sent is too large.")),
        429: (_("Too many attempts"), _("Please wait a moment and try again.")),
        500: (
            _("Something went wrong"),
            _(
                "An error on our side stopped this. Nothing you did caused it; please try again later."
            ),
        ),
    }


FALLBACK_500 = (
    "<!doctype html><title>500</title><h1>Något gick fel / Something went wrong</h1>"
    "<p>Försök igen senare. / Please try again later.</p>"
)


FALLBACK_HTTP = (
    "<!doctype html><title>{code}</title><h1>{code}</h1>"
    "<p>Sidan kunde inte visas för den här förfrågan. / "
    "The page could not be shown for this request.</p>"
)


def wants_json() -> bool:
    return request.path.startswith("/api/") or (request.accept_mimetypes.best == "application/json")


def render_error(code: int, detail: str | None = None) -> tuple[Any, int]:
    title, text = _messages().get(code, (str(code), ""))
    if detail:
        text = detail
    if wants_json():
        return jsonify({"error": {"code": code, "title": title, "message": text}}), code
    return render_template("error.html", code=code, title=title, text=text), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> tuple[Any, int]:
        return render_error(
            400,
            _(
                "The form had expired or was not sent from this site. Please go back, reload the page and try again."
            ),
        )

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        if exc.code is None or exc.code < 400:
            return exc
        detail = exc.description if getattr(exc, "pb_detail", False) else None
        try:
            return render_error(exc.code, detail)
        except Exception:  # e.g. a Host header Werkzeug refused: no URL can be built for it
            app.logger.warning("the %s page could not be rendered", exc.code, exc_info=True)
            return FALLBACK_HTTP.format(code=exc.code), exc.code

    @app.errorhandler(InternalServerError)
    def _internal(exc: InternalServerError) -> tuple[Any, int]:
        session = g.get("pb_session")
        if session is not None:
            session.rollback()
        try:
            return render_error(500)
        except Exception:  # the page itself failed (e.g. the database is down): plain text
            app.logger.exception("the error page could not be rendered")
            return FALLBACK_500, 500


def user_error(code: int, message: str) -> HTTPException:
    """An HTTP error whose message (already translated) is shown to the user."""
    exc = default_exceptions[code](message)
    exc.pb_detail = True  # type: ignore[attr-defined]
    return exc
