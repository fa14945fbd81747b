"""The demo shows proposals in every state, with answers and comments, and loads twice."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def test_demo_has_proposals_in_every_state(make_app: Any) -> None:
    from pb.db import get_session
    from pb.demo import load_demo
    from pb.proposals.models import Comment, Project, Proposal, ProposalStatus

    app = make_app()
    with app.app_context():
        load_demo()
    with app.app_context():
        load_demo()  # twice is safe
        session = get_session()
        proposals = session.scalars(sa.select(Proposal)).all()
        assert {p.status for p in proposals} == set(ProposalStatus)
        assert any(p.hidden and p.hidden_reason for p in proposals)
        assert len(proposals) == 10
        # Lund's two accepted proposals; the Dalby youth budget has its own six projects.
        assert (
            session.scalar(sa.select(sa.func.count()).where(Project.proposal_id.is_not(None))) == 2
        )
        assert session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 4
        answered = [p for p in proposals if p.answer]
        assert len(answered) >= 4
    client = app.test_client()
    html = client.get("/p/lund-parker-och-gator-2027/proposals?lang=sv").get_data(as_text=True)
    assert "Utegym i Fäladsparken" in html and "Billiga mobilabonnemang" not in html
    gym = next(p for p in proposals if p.title == "Utegym i Fäladsparken")
    page = client.get(f"/p/lund-parker-och-gator-2027/proposals/{gym.id}?lang=sv")
    text = page.get_data(as_text=True)
    assert (
        "Kom med på röstsedeln" in text and "balansbana" in text and "210\u00a0000\u00a0kr" in text
    )
