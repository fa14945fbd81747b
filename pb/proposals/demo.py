"""Demo proposals for Lund's parks-and-streets process: one in every state, with supports,
comments and replies. Their official answers, the merge and the hidden one come from
``pb.moderation.demo`` (moderation sits above proposals).

Everything goes through the real services (so the audit log and history are real), with
e-mail turned off. Loading twice leaves the first set alone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pb.db import utcnow
from pb.processes.models import Process
from pb.proposals import services
from pb.proposals.models import Proposal

DEMO = [
    # key, author, title, description, category, area, address, cost
    ("gym", "citizen", "Utegym i Fäladsparken",
     "Ett enkelt utegym med räckhäck, bänk och ringar nära lekplatsen, så att föräldrar kan "
     "träna medan barnen leker.\n\nLiknande utegym finns i Sankt Hans backar och används "
     "mycket: https://www.lund.se/uppleva-och-gora/idrott-och-motion",
     "Lek och idrott", "Norra Fäladen", "Fäladsparken, vid lekplatsen", 180_000),
    ("lights", "pupil", "Belysning på cykelvägen till Klostergårdens skola",
     "Cykelvägen mellan Klostergårdsvägen och skolan är helt mörk på vintermorgnarna. Många "
     "barn cyklar där och det känns otryggt.",
     "Belysning och trygghet", "Klostergården", "Cykelvägen öster om Klostergårdens skola",
     350_000),
    ("benches", "citizen", "Bänkar längs Höjeå",
     "Fler bänkar längs promenadstigen vid Höjeå, ungefär var tvåhundrade meter, så att äldre "
     "orkar gå hela sträckan.",
     "Parker och grönområden", "Klostergården", "Höjeåstigen", 60_000),
    ("meadow", "pupil", "Ängsmark i stället för gräsmatta",
     "Låt en del av den stora gräsmattan bli äng med blommor för bin och fjärilar.",
     "Natur och klimat", "Norra Fäladen", "Gräsytan norr om Vildandsvägen", 40_000),
    ("pump", "citizen", "Cykelpump vid Norra Fäladens centrum",
     "En fast cykelpump med verktyg vid cykelställen.",
     "Gator och cykelvägar", "Norra Fäladen", "Norra Fäladens centrum", 15_000),
    ("pump2", "pupil", "Pumpstation för cyklar på Norra Fäladen",
     "Det behövs någonstans att pumpa cykeln på Norra Fäladen.",
     "Gator och cykelvägar", "Norra Fäladen", "", 12_000),
    ("skate", "pupil", "Skatepark på Klostergårdens idrottsplats",
     "En stor skatepark i betong med ramper och rails.",
     "Lek och idrott", "Klostergården", "Klostergårdens idrottsplats", 4_500_000),
    ("flowers", "citizen", "Blomlådor på Klostergårdsvägen",
     "Blomlådor längs trottoaren skulle göra gatan trevligare.",
     "Parker och grönområden", "Klostergården", "Klostergårdsvägen", 30_000),
    ("ad", "pupil", "Billiga mobilabonnemang här!!!",
     "Köp billiga abonnemang på vår webbplats.",
     "Parker och grönområden", "Norra Fäladen", "", 1),
    ("draft", "citizen", "Hundrastgård (utkast)",
     "Inhägnad hundrastgård. Jag skriver mer senare.",
     "Parker och grönområden", "Norra Fäladen", "", None),
]  # fmt: skip


def load_demo_proposals(session: Session, process: Process, users: dict[str, Any],
                        now: dt.datetime | None = None) -> dict[str, Proposal]:  # fmt: skip
    """Create the demo proposals in ``process`` (which must be in its proposal phase).
    ``users`` maps "citizen", "pupil", "official" and "admin" to accounts. Returns them by
    key (empty when they already exist); ``pb.moderation.demo`` reviews them."""
    now = now or utcnow()
    titles = [d[2] for d in DEMO]
    if session.scalar(
        sa.select(sa.func.count())
        .select_from(Proposal)
        .where(Proposal.process_id == process.id, Proposal.title.in_(titles))
    ):
        return {}
    categories = {c.name_sv: c.id for c in process.categories}
    areas = {a.name: a.id for a in process.areas}
    made: dict[str, Proposal] = {}
    for n, (key, author, title, text, category, area, address, cost) in enumerate(DEMO):
        fields = services.ProposalFields(
            title=title, description=text, category_id=categories.get(category),
            area_id=areas.get(area), address=address, cost_estimate=cost, consent=True,
        )  # fmt: skip
        made[key] = services.create(
            session, process, users[author], fields, publish=key != "draft", limit=100,
            now=now - dt.timedelta(days=9, hours=-n * 7),
        )  # fmt: skip
    official, citizen, pupil = users["official"], users["citizen"], users["pupil"]

    for key, supporters in (("gym", [pupil, official, users["admin"]]), ("lights", [citizen]),
                            ("benches", [pupil]), ("meadow", [citizen, users["admin"]])):  # fmt: skip
        for user in supporters:
            services.support(session, process, made[key], user, now)
    first = services.add_comment(
        session, process, made["gym"], pupil,
        "Bra idé! Kan det finnas något för lite yngre också, typ en balansbana?", now,
    )  # fmt: skip
    services.add_comment(session, process, made["gym"], citizen,
                         "Absolut, en balansbana passar fint bredvid.", now, parent_id=first.id)  # fmt: skip
    services.add_comment(
        session, process, made["gym"], official,
        "Tack för förslaget. Vi undersöker marken vid lekplatsen under granskningen.", now,
    )  # fmt: skip
    services.add_comment(session, process, made["lights"], citizen,
                         "Håller med, det är väldigt mörkt där på morgonen.", now)  # fmt: skip
    services.follow(session, made["gym"], pupil)

    services.withdraw(session, process, made["flowers"], users["citizen"], now)
    session.flush()
    return made
