"""Signed, purpose-bound links (unsubscribe, finishing a registration), as Warehouse does.

Each purpose has its own salt and maximum age, so a token made for one purpose is
worthless for another.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

PURPOSES = {
    "unsubscribe": 60 * 60 * 24 * 365,
    "register": 60 * 60 * 24 * 2,
    # Confirming an address for a voting code by e-mail; it carries only a keyed digest of
    # the address, never the address or anything declared.
    "voting-email": 60 * 60 * 2,
    # Following projects without an account: confirming the address, then stopping.
    "follow": 60 * 60 * 24 * 7,
    "follow-stop": 60 * 60 * 24 * 365 * 3,
    # Choosing a new password for a forgotten one; it also carries a digest of the password
    # hash, so it stops working once the password has changed (used once).
    "password-reset": 60 * 60,
}


class TokenInvalid(ValueError):
    pass


class TokenExpired(TokenInvalid):
    pass


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    if purpose not in PURPOSES:
        raise KeyError(f"unknown token purpose {purpose!r}")
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"pb.{purpose}")


def dumps(purpose: str, data: Any) -> str:
    return _serializer(purpose).dumps(data)


def loads(purpose: str, token: str) -> Any:
    try:
        return _serializer(purpose).loads(token, max_age=PURPOSES[purpose])
    except SignatureExpired as exc:
        raise TokenExpired(str(exc)) from exc
    except BadSignature as exc:
        raise TokenInvalid(str(exc)) from exc
