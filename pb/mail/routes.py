"""One-click unsubscribe. GET shows a confirmation button (GET never changes state); POST
unsubscribes. Mail clients may POST directly (RFC 8058), so the signed token, not a CSRF
token, protects this one endpoint."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask_babel import gettext as _

from pb import tokens
from pb.db import get_session
from pb.errors import user_error
from pb.mail import services
from pb.security import csrf_exempt
from pb.web import attempt

bp = Blueprint("mail", __name__, url_prefix="/mail")


def _email(token: str) -> str:
    try:
        data = tokens.loads("unsubscribe", token)
    except tokens.TokenInvalid:
        raise user_error(
            400,
            _(
                "This unsubscribe link is not valid. Use the link in the latest e-mail you got from us."
            ),
        ) from None
    return str(data["e"])


@bp.get("/unsubscribe/<token>")
def unsubscribe(token: str) -> Any:
    email = _email(token)
    return render_template("mail/unsubscribe.html", email=email, token=token, done=False)


@bp.post("/unsubscribe/<token>")
@csrf_exempt
def unsubscribe_post(token: str) -> Any:
    email = _email(token)
    with attempt():
        services.opt_out(get_session(), email)
    return render_template("mail/unsubscribe.html", email=email, token=token, done=True)
