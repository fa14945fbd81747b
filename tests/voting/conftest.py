"""Fixtures for voting: a process in its voting phase with projects on the ballot, and
helpers to issue codes and build ballots."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa


@dataclass
class Vote:
    app: Any
    process_id: int
    slug: str

    def process(self, session: Any) -> Any:
        from pb.processes.models import Process

        return session.get(Process, self.process_id)


def add_projects(app: Any, slug: str, projects: list[tuple[str, str, int, str | None]]) -> None:
    """Projects on the ballot: (code, title, cost, area name or None)."""
    from pb.db import get_session
    from pb.processes.models import Area, Process
    from pb.proposals.models import Project

    with app.test_request_context("/?lang=en"):
        session = get_session()
        process = session.scalar(sa.select(Process).where(Process.slug == slug))
        areas = {a.name: a.id for a in session.scalars(sa.select(Area).where(
            Area.process_id == process.id))}  # fmt: skip
        for i, (code, title, cost, area) in enumerate(projects):
            session.add(Project(process_id=process.id, code=code, title=title, cost=cost,
                                area_id=areas[area] if area else None, position=i))  # fmt: skip
        session.commit()


YOUTH_PROJECTS = [
    ("p1", "Skatepark", 120_000, None),
    ("p2", "Musikstudio", 90_000, None),
    ("p3", "Fritidsgård", 150_000, None),
    ("p4", "Utegym", 60_000, None),
    ("p5", "Filmkväll", 20_000, None),
]


def make_vote(app: Any, make_process: Any, slug: str = "rosta", **fields: Any) -> Vote:
    fields.setdefault("areas", [])
    fields.setdefault("running", "voting")
    fields.setdefault("budget", 300_000)
    fields.setdefault("min_projects", 1)
    projects = fields.pop("projects", YOUTH_PROJECTS)
    process = make_process(slug=slug, **fields)
    add_projects(app, slug, projects)
    return Vote(app, process.id, slug)


@pytest.fixture
def vote(app: Any, make_process: Any) -> Vote:
    """Approval within a 300 000 kr budget, no areas, five projects."""
    return make_vote(app, make_process)


def issue(app: Any, vote: Vote, n: int = 1, channel: str = "school", area: str | None = None,
          purpose: str = "Klass 7B") -> list[str]:  # fmt: skip
    from pb.db import get_session, utcnow
    from pb.processes.models import CodeChannel
    from pb.voting import services

    with app.test_request_context("/?lang=en"):
        session = get_session()
        issued = services.issue_codes(
            session, vote.process(session), count=n, channel=CodeChannel(channel),
            purpose=purpose, actor=None, area=area, now=utcnow(),
        )  # fmt: skip
        session.commit()
        return issued.codes


def ballot(*projects: str, area: str | None = None, district: str | None = None,
           points: tuple[int, ...] | None = None, **kw: Any) -> Any:  # fmt: skip
    from pb.voting.services import BallotInput, Part

    return BallotInput(parts=(Part(area, tuple(projects), points),), district=district, **kw)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
