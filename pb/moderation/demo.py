"""The officials' side of the demo: answers, decisions, a merge and a hidden proposal, on the
proposals ``pb.proposals.demo`` made. Everything goes through the real services, mail off."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from pb.moderation import services as moderation
from pb.processes.models import Process
from pb.proposals.models import Feasibility, Proposal


def review_demo_proposals(session: Session, process: Process, made: dict[str, Proposal],
                          users: dict[str, Any], now: dt.datetime) -> None:  # fmt: skip
    """Review the demo proposals ``made`` (by key) as the demo official."""
    official = users["official"]
    review = moderation.ReviewInput
    moderation.review(session, process, made["gym"], official, review(
        Feasibility.FEASIBLE, 210_000,
        "Förslaget går att genomföra. Marken vid lekplatsen räcker för ett utegym med fyra "
        "stationer. Vår kostnadsuppskattning är 210 000 kronor inklusive fallskydd.",
        moderation.Decision.ACCEPT), now, tell=False)  # fmt: skip
    moderation.review(session, process, made["lights"], official, review(
        Feasibility.FEASIBLE, 420_000,
        "Vi kan sätta upp tolv nya stolpar med LED-armatur längs sträckan.",
        moderation.Decision.ACCEPT), now, tell=False)  # fmt: skip
    moderation.review(session, process, made["benches"], official, review(
        Feasibility.NEEDS_WORK, None,
        "Vi behöver veta vilka delar av stigen som är viktigast. Skriv gärna en kommentar.",
    ), now, tell=False)  # fmt: skip
    moderation.review(session, process, made["skate"], official, review(
        Feasibility.NOT_FEASIBLE, 4_800_000,
        "En skatepark i den storleken kostar mer än hela budgeten för Klostergården och "
        "kräver bygglov. Den kan därför inte komma med på röstsedeln.",
        moderation.Decision.REJECT), now, tell=False)  # fmt: skip
    moderation.review(session, process, made["pump2"], official, review(
        None, None, "Samma idé som cykelpumpen vid centrum; vi slår ihop förslagen.",
        moderation.Decision.MERGE, made["pump"].id), now, tell=False)  # fmt: skip
    moderation.hide(session, process, made["ad"], official,
                    "Reklam för ett företag, inte ett förslag för Lund.", now, tell=False)  # fmt: skip
    session.flush()
