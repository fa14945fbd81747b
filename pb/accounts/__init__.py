"""Accounts: registration, log-in, roles (participant, official, admin) and passwords."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """Teach the log-in manager (``pb.security``) how to load the account of a session."""
    from pb.accounts.models import User
    from pb.db import get_session
    from pb.security import login_manager

    def load_user(user_id: str) -> User | None:
        try:
            raw_id, version = user_id.split(":")
            user = get_session().get(User, int(raw_id))
        except (ValueError, TypeError):
            return None
        if user is None or str(user.session_version) != version:
            return None
        return user

    login_manager.user_loader(load_user)
