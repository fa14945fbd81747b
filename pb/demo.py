"""A realistic demo: Lund's citizen budget for parks and streets, and a youth budget.

Dates are set relative to today so that the main process is always in its proposal
phase. Loading twice updates the same rows (demo accounts keep their printed passwords).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from pb.accounts import services as accounts
from pb.accounts.models import Role, User
from pb.db import get_engine, get_session, utcnow
from pb.migrate import upgrade
from pb.processes import services as processes
from pb.processes.models import PhaseKind, Process

DEMO_ACCOUNTS = (
    (Role.ADMIN, "admin@demo.lund.example", "Anna Admin", "demo-admin-2027"),
    (Role.OFFICIAL, "tjansteperson@demo.lund.example", "Omar Tjänsteperson", "demo-official-2027"),
    (Role.PARTICIPANT, "invanare@demo.lund.example", "Ingrid Invånare", "demo-citizen-2027"),
    (Role.PARTICIPANT, "elev@demo.lund.example", "Elsa Elev", "demo-pupil-2027"),
)


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def _at(day: dt.date, hour: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=_tz())


def _phases(start: dt.date, lengths: list[int]) -> dict[PhaseKind, tuple[dt.datetime, dt.datetime]]:
    out = {}
    day = start
    for kind, days in zip(PhaseKind, lengths, strict=True):
        out[kind] = (_at(day), _at(day + dt.timedelta(days=days)))
        day += dt.timedelta(days=days)
    return out


def lund_parks(today: dt.date) -> processes.ProcessChanges:
    phases = _phases(today - dt.timedelta(days=10), [45, 30, 21, 7, 30, 540])
    decision = phases[PhaseKind.RESULTS][0].date() + dt.timedelta(days=14)
    return processes.ProcessChanges(
        fields=dict(
            slug="lund-parker-och-gator-2027",
            published=True,
            title_sv="Medborgarbudget Lund 2027: parker och gator",
            title_en="Lund citizen budget 2027: parks and streets",
            purpose_sv=(
                "Lunds kommun avsätter 5 miljoner kronor till idéer från dig som bor, studerar, "
                "arbetar eller driver företag i Lund. Föreslå hur parker, lekplatser och gator i "
                "Norra Fäladen och Klostergården kan bli bättre, och rösta sedan på de förslag "
                "du tycker mest om.\n\nDe vinnande projekten byggs under 2027–2028."
            ),
            purpose_en=(
                "The City of Lund sets aside SEK 5 million for ideas from you who live, study, "
                "work or run a business in Lund. Propose how parks, playgrounds and streets in "
                "Norra Fäladen and Klostergården can be improved, then vote for the proposals "
                "you like most.\n\nThe winning projects are built in 2027–2028."
            ),
            easy_sv=(
                "Lunds kommun har 5 miljoner kronor till parker och gator.\n\n"
                "Kom med idéer och rösta sedan. Alla som röstar styr lika mycket av pengarna, "
                "så ett billigt projekt kan slå ett dyrt med fler röster."
            ),
            easy_en=(
                "The City of Lund has SEK 5 million for parks and streets.\n\n"
                "Send in ideas, then vote. Every voter controls the same amount of money, "
                "so a cheap project can beat a dearer one with more votes."
            ),
            question_sv="Hur vill du göra parker och gator i ditt område bättre?",
            question_en="How would you make the parks and streets in your area better?",
            influence_level="co-creation",
            decision_body_sv="Tekniska nämnden",
            decision_body_en="The Technical Services Committee",
            decision_date=decision,
            decision_text_sv=(
                "Tekniska nämnden bygger de vinnande projekten för pengarna i budgeten. Det är "
                "nämnden som bestämmer. Den kan till exempel välja bort ett projekt som visar "
                "sig inte gå att bygga."
            ),
            decision_text_en=(
                "The Technical Services Committee builds the winning projects with the money in "
                "the budget. The committee decides. It may, for example, leave out a project "
                "that turns out impossible to build."
            ),
            budget=5_000_000,
            min_age=12,
            connections=["lives", "studies", "works", "business"],
            other_connection_sv="",
            other_connection_en="",
            area_restricted=False,
            code_channels=["letter", "email", "school", "library"],
            ballot_type="approval-budget",
            max_projects=None,
            min_projects=1,
            min_budget_share_pct=None,
            points_total=None,
            max_points_per_project=None,
            counting_rule="equal-shares",
            tie_break="project-number",
            lottery_seed=None,
        ),
        areas=[("Norra Fäladen", 2_500_000), ("Klostergården", 2_500_000)],
        categories=[
            ("Parker och grönområden", "Parks and green spaces"),
            ("Gator och cykelvägar", "Streets and cycle paths"),
            ("Lek och idrott", "Play and sport"),
            ("Belysning och trygghet", "Lighting and safety"),
            ("Natur och klimat", "Nature and climate"),
        ],
        phases=phases,
    )


def dalby_youth(today: dt.date) -> processes.ProcessChanges:
    phases = _phases(today - dt.timedelta(days=80), [30, 30, 25, 7, 30, 365])
    return processes.ProcessChanges(
        fields=dict(
            slug="ungdomsbudget-dalby-2026",
            published=True,
            title_sv="Ungdomsbudget Dalby 2026",
            title_en="Dalby youth budget 2026",
            purpose_sv=(
                "Unga i Dalby bestämmer över 300 000 kronor till mötesplatser och aktiviteter. "
                "Alla från 10 år som bor eller studerar i Lunds kommun, eller är med i en "
                "förening i Dalby, får rösta på upp till tre projekt med sin röstkod från "
                "skolan eller biblioteket."
            ),
            purpose_en=(
                "Young people in Dalby decide on SEK 300,000 for meeting places and activities. "
                "Everyone aged 10 or over who lives or studies in the municipality of Lund, or "
                "is a member of an association in Dalby, can vote for up to three projects with "
                "the voting code they get at school or at the library."
            ),
            easy_sv=(
                "Unga i Dalby får bestämma över 300 000 kronor.\n\n"
                "Är du 10 år eller äldre? Då får du rösta på upp till tre projekt. "
                "Du får en röstkod i skolan eller på biblioteket."
            ),
            easy_en=(
                "Young people in Dalby decide on SEK 300,000.\n\n"
                "Are you 10 or older? Then you can vote for up to three projects. "
                "You get a voting code at school or at the library."
            ),
            question_sv="Vad saknas för unga i Dalby?",
            question_en="What is missing for young people in Dalby?",
            influence_level="co-creation",
            decision_body_sv="Kultur- och fritidsnämnden",
            decision_body_en="The Culture and Leisure Committee",
            decision_date=phases[PhaseKind.RESULTS][0].date() + dt.timedelta(days=10),
            decision_text_sv=(
                "Kultur- och fritidsnämnden gör de projekt som får flest röster, så länge "
                "pengarna räcker. Nämnden berättar hur arbetet går."
            ),
            decision_text_en=(
                "The Culture and Leisure Committee carries out the projects with the most votes, "
                "as long as the money lasts. The committee tells you how the work is going."
            ),
            budget=300_000,
            min_age=10,
            connections=["lives", "studies", "other"],
            other_connection_sv="Du är med i en förening i Dalby",
            other_connection_en="You are a member of an association in Dalby",
            area_restricted=False,
            code_channels=["school", "library"],
            ballot_type="approval-k",
            max_projects=3,
            min_projects=1,
            min_budget_share_pct=None,
            points_total=None,
            max_points_per_project=None,
            counting_rule="greedy",
            tie_break="lottery",
            lottery_seed="dalby-2026-ungdom",
        ),
        areas=[],
        categories=[
            ("Mötesplatser", "Meeting places"),
            ("Idrott", "Sport"),
            ("Kultur", "Culture"),
        ],
        phases=phases,
    )


def load_demo(today: dt.date | None = None) -> list[tuple[str, str, str]]:
    """Create or refresh the demo; returns (role, e-mail, password) for each demo account."""
    upgrade(get_engine())
    session = get_session()
    today = today or dt.datetime.now(_tz()).date()
    admin = None
    shown = []
    for role, email, name, password in DEMO_ACCOUNTS:
        user = accounts.find_by_email(session, email)
        if user is None:
            user = accounts.register(
                session, email=email, password=password, display_name=name, role=role,
                locale="sv",
            )  # fmt: skip
        else:
            user.password_hash = accounts.hash_password(password)
            user.role = role
        if role == Role.ADMIN:
            admin = user
        shown.append((role.value, email, password))
    official = session.scalar(sa.select(User).where(User.email == DEMO_ACCOUNTS[1][1]))

    for changes in (lund_parks(today), dalby_youth(today)):
        process: Process | None = processes.get_by_slug(session, changes.fields["slug"])
        changes = _with_picture(process, changes)
        if process is None:
            process = processes.create_process(session, changes, admin)
        else:
            processes.refresh_demo(session, process, changes, admin)
        processes.assign_official(session, process, official, admin)
    _load_proposals(session, admin, official)
    codes = _load_dalby_ballot(session, admin)
    session.commit()
    _show_codes(codes)
    return shown


def _with_picture(
    process: Process | None, changes: processes.ProcessChanges
) -> processes.ProcessChanges:
    """The demo process's drawing (pb.demo_pictures) and its words in both languages. The
    drawing is made and stored through pb.images once; a refresh keeps the stored file."""
    from pb import images
    from pb.demo_pictures import PICTURES

    draw, alt_sv, alt_en = PICTURES[changes.fields["slug"]]
    fields = {**changes.fields, "image_alt_sv": alt_sv, "image_alt_en": alt_en}
    upload_dir = current_app.config["UPLOAD_DIR"]
    if process is not None and images.path_of(upload_dir, process.image, folder=images.PROCESSES):
        return dataclasses.replace(changes, fields=fields)
    name = images.store(io.BytesIO(draw()), upload_dir, current_app.config["UPLOAD_MAX_BYTES"],
                        folder=images.PROCESSES)  # fmt: skip
    return dataclasses.replace(changes, fields=fields, image=name)


# The Dalby youth budget is voting now: these projects are on its ballot.
DALBY_PROJECTS = (
    ("D1", "Skatepark vid idrottsplatsen", "Skate park by the sports ground", 120_000,
     "En plats att åka skateboard på, nära idrottsplatsen.",
     "A place to skateboard, near the sports ground."),
    ("D2", "Musikstudio på fritidsgården", "Music studio at the youth centre", 90_000,
     "Ett rum på fritidsgården där du kan spela och spela in musik.",
     "A room at the youth centre where you can play and record music."),
    ("D3", "Utegym i Dalby park", "Outdoor gym in Dalby park", 60_000,
     "Redskap i parken där du kan träna gratis, när du vill.",
     "Equipment in the park where you can work out for free, whenever you like."),
    ("D4", "Graffitivägg vid stationen", "Graffiti wall by the station", 35_000,
     "En vägg vid stationen där det är tillåtet att måla graffiti.",
     "A wall by the station where painting graffiti is allowed."),
    ("D5", "Wifi och laddning vid busstorget", "Wifi and charging at the bus square", 45_000,
     "Gratis wifi och ställen att ladda mobilen medan du väntar på bussen.",
     "Free wifi and places to charge your phone while you wait for the bus."),
    ("D6", "Filmkvällar på biblioteket", "Film nights at the library", 20_000,
     "Gratis film på biblioteket en kväll i månaden.",
     "Free films at the library one evening a month."),
)  # fmt: skip

# The English titles of the Lund projects (proposals the demo official accepted), by their
# official Swedish title.
LUND_TITLES_EN = {
    "Utegym i Fäladsparken": "Outdoor gym in Fäladsparken",
    "Belysning på cykelvägen till Klostergårdens skola":
        "Lighting on the cycle path to Klostergården school",
}  # fmt: skip
DEMO_CODES = 5


def _load_dalby_ballot(session: sa.orm.Session, admin: User | None) -> list[tuple[str, str]]:
    """Put the Dalby projects on its ballot (once) and issue a handful of voting codes;
    returns (code, link) pairs, the only place the plain codes ever appear."""
    from pb.db import utcnow
    from pb.processes.models import CodeChannel
    from pb.proposals.models import Project
    from pb.voting import services as voting
    from pb.voting.cli import ballot_link

    dalby = processes.get_by_slug(session, "ungdomsbudget-dalby-2026")
    if dalby is None:
        return []
    have = {
        p.code: p for p in session.scalars(sa.select(Project).where(Project.process_id == dalby.id))
    }
    for position, (code, title, title_en, cost, easy_sv, easy_en) in enumerate(DALBY_PROJECTS):
        if code not in have:
            session.add(Project(process_id=dalby.id, code=code, title=title, title_en=title_en,
                                cost=cost, position=position, easy_sv=easy_sv,
                                easy_en=easy_en))  # fmt: skip
        else:  # the English title and easy-to-read texts are not rules: a refresh may bring
            # them up to date (the official Swedish title, a rule, stays)
            project = have[code]
            project.title_en, project.easy_sv, project.easy_en = title_en, easy_sv, easy_en
    session.flush()
    if not dalby.in_phase(PhaseKind.VOTING, utcnow()):
        return []
    issued = voting.issue_codes(
        session, dalby, count=DEMO_CODES, channel=CodeChannel.SCHOOL,
        purpose="Demo: pb demo", actor=admin, now=utcnow(),
    )  # fmt: skip
    base = str(current_app.config.get("BASE_URL") or "http://127.0.0.1:5000")
    return [(code, ballot_link(base, dalby.slug, code)) for code in issued.codes]


def _show_codes(codes: list[tuple[str, str]]) -> None:
    import click

    if not codes:
        return
    click.echo("Voting codes for the Dalby youth budget (each casts one ballot):")
    for code, link in codes:
        click.echo(f"  {code}  {link}")


def _load_proposals(session: sa.orm.Session, admin: User | None, official: User | None) -> None:
    from pb.moderation.demo import review_demo_proposals
    from pb.proposals.demo import load_demo_proposals

    parks = processes.get_by_slug(session, "lund-parker-och-gator-2027")
    people = {
        "admin": admin,
        "official": official,
        "citizen": accounts.find_by_email(session, DEMO_ACCOUNTS[2][1]),
        "pupil": accounts.find_by_email(session, DEMO_ACCOUNTS[3][1]),
    }
    if parks is not None:
        now = utcnow()
        made = load_demo_proposals(session, parks, people, now)
        if made:
            review_demo_proposals(session, parks, made, people, now)
        _title_lund_projects(session, parks, official, now)


def _title_lund_projects(session: sa.orm.Session, parks: Process, official: User | None,
                         now: dt.datetime) -> None:  # fmt: skip
    """Give the Lund projects their English titles as the demo official would (audited),
    while the ballot is open; a title already there is not written again."""
    from pb.proposals import projects

    if parks.is_frozen(now):
        return
    for project in projects.ballot(session, parks):
        title_en = LUND_TITLES_EN.get(project.title)
        if title_en:
            projects.set_texts(session, parks, project, title_en=title_en,
                               easy_sv=project.easy_sv, easy_en=project.easy_en,
                               actor=official, now=now)  # fmt: skip
