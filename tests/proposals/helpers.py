"""Helpers shared by the proposal and moderation tests."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def proposal_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "title": "Fler bänkar längs Höjeå",
        "description": "Sittplatser var hundrade meter.\n\nSe https://lund.se/hojea för kartan.",
        "address": "Höjeåstigen, Klostergården",
        "cost_estimate": "45 000 kr",
        "consent": "y",
        "action": "publish",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def ids(app: Any, process_slug: str) -> dict[str, Any]:
    """Category and area ids of a process, by name."""
    from pb.db import get_session
    from pb.processes.services import get_by_slug

    with app.app_context():
        p = get_by_slug(get_session(), process_slug)
        assert p is not None
        return {
            "process": p.id,
            **{c.name_sv: c.id for c in p.categories},
            **{a.name: a.id for a in p.areas},
        }


def submit(client: Any, slug: str, **overrides: Any) -> Any:
    return client.post(f"/p/{slug}/proposals/new?lang=en", data=proposal_data(**overrides))


def make_proposal(app: Any, process: Any, author: Any, *, title: str = "Lekplats i parken",
                  publish: bool = True, **fields: Any) -> int:  # fmt: skip
    """A proposal made through the service (in the process's proposal phase); published, in
    the process's first area where it has areas but none for the whole municipality."""
    import datetime as dt

    from pb.db import get_session
    from pb.processes.models import PhaseKind, Process
    from pb.proposals import services

    with app.test_request_context():
        session = get_session()
        proc = session.get(Process, process.id)
        user = session.merge(author)
        phase = proc.phase(PhaseKind.PROPOSALS)
        now = phase.starts_at + dt.timedelta(days=1)
        values = {"description": "En beskrivning.", "cost_estimate": 10000, "consent": True}
        if proc.areas and proc.whole_area is None and publish:
            values["area_id"] = proc.areas[0].id  # a published proposal names its area there
        values.update(fields)
        p = services.create(session, proc, user, services.ProposalFields(title=title, **values),
                            publish=publish, limit=100, now=now)  # fmt: skip
        session.commit()
        return p.id


def get(app: Any, model: Any, pk: Any) -> Any:
    from pb.db import get_session

    with app.app_context():
        session = get_session()
        obj = session.get(model, pk)
        session.expunge_all()
        return obj


def count(app: Any, stmt: Any) -> int:
    from pb.db import get_session

    with app.app_context():
        return int(get_session().scalar(sa.select(sa.func.count()).select_from(stmt.subquery())))
