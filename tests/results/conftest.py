"""Fixtures for results: a vote with ballots cast, then closed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from tests.voting.conftest import Vote, ballot, issue, make_vote, now


def cast_all(app: Any, vote: Vote, ballots: list[Any], channel: str = "school",
             area: str | None = None) -> list[str]:  # fmt: skip
    """Cast each ballot with a fresh code; returns the receipts."""
    from pb.db import get_session
    from pb.voting import services

    codes = issue(app, vote, len(ballots), channel=channel, area=area)
    receipts = []
    with app.test_request_context("/?lang=en"):
        session = get_session()
        for code, b in zip(codes, ballots, strict=True):
            receipts.append(services.cast(session, vote.process(session), code, b, now()))
            session.commit()
    return receipts


def close_voting(app: Any, vote: Vote) -> None:
    """Move the end of voting just before now (held ballots stay held)."""
    from pb.db import get_session
    from pb.processes.models import Phase, PhaseKind

    with app.app_context():
        session = get_session()
        phase = session.scalar(sa.select(Phase).where(
            Phase.process_id == vote.process_id, Phase.kind == PhaseKind.VOTING))  # fmt: skip
        phase.ends_at = now() - dt.timedelta(seconds=1)
        session.commit()


__all__ = ["Vote", "ballot", "cast_all", "close_voting", "make_vote", "now"]
