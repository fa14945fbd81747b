"""A small real world for the access matrix and the fuzzer: one process in each phase that
matters, with real objects for every parameter a route takes, and a client per role.

Processes (slugs): ``forslag`` in its proposal phase (a published proposal, a draft, the
participant's own proposal with an image, a comment), ``rosta`` in its voting phase (codes
by letter, school and e-mail; one ballot cast with its receipt), ``resultat`` with voting
closed and results published (a funded project with an update and a photo), and ``annan``,
the process whose official is the "official of another process". ``forslag`` has a picture,
and so has ``utkast``, a draft process that only its officials and admins may see. The official of every
other process is the ``official`` account (``tests/conftest.py``'s ``make_process``).

Roles: ``anon``; ``participant`` (a logged-in account); ``voter`` (no account: a client that
entered a valid code on the ballot page, and sends it with every vote form); ``official``
(of these processes); ``other`` (official of ``annan`` only); ``admin``.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from tests.proposals.helpers import make_proposal
from tests.results.conftest import ballot, cast_all, close_voting, make_vote
from tests.voting.conftest import issue

ROLES = ("anon", "participant", "voter", "official", "other", "admin")
ACCOUNTS = {"participant": "participant", "official": "official", "other": "other_official",
            "admin": "admin"}  # fmt: skip
SLUGS = {"P": "forslag", "V": "rosta", "R": "resultat", "O": "annan"}


@dataclass
class World:
    app: Any
    slugs: dict[str, str] = field(default_factory=lambda: dict(SLUGS))
    ids: dict[str, Any] = field(default_factory=dict)  # pub, draft, own, comment, batch, ...
    codes: list[str] = field(default_factory=list)  # unused codes of ``rosta``
    voter_code: str = ""
    used_code: str = ""
    receipt: str = ""
    tokens: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # stored image names


def png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 6), (20, 120, 40)).save(out, "PNG")
    return out.getvalue()


def _store_image(app: Any, folder: str = "proposals") -> str:
    from pb import images

    return images.store(io.BytesIO(png()), app.config["UPLOAD_DIR"], 10_000_000, folder=folder)


def build(app: Any, make_process: Any, users: dict[str, Any]) -> World:
    """Everything above, committed. ``make_process`` and ``users`` are the conftest fixtures."""
    from pb import tokens
    from pb.accounts.services import reset_token
    from pb.db import get_session, utcnow
    from pb.processes import services as processes
    from pb.processes.models import Process
    from pb.proposals import services as proposals
    from pb.proposals.models import Comment, Proposal
    from pb.results import services as results
    from pb.results.followup import add_update, funded
    from pb.voting.models import CodeBatch
    from pb.voting.services import cast

    w = World(app)
    make_process(slug=SLUGS["P"], running="proposals")
    other = make_process(slug=SLUGS["O"], running="proposals")
    pp = _process(app, SLUGS["P"])
    w.ids["pub"] = make_proposal(app, pp, users["participant2"], title="Fler bänkar")
    w.ids["draft"] = make_proposal(app, pp, users["participant2"], title="Utkast", publish=False)
    w.ids["own"] = make_proposal(app, pp, users["participant"], title="Mitt eget förslag")
    w.names["image"] = _store_image(app)
    # Pictures of processes: ``forslag``'s (public) and that of ``utkast``, a draft process.
    draft = make_process(slug="utkast", published=False, running="proposals")
    w.names["process_image"] = _store_image(app, "processes")
    w.names["draft_process_image"] = _store_image(app, "processes")
    with app.test_request_context("/?lang=en"):
        session = get_session()
        for process_id, name in ((pp.id, "process_image"), (draft.id, "draft_process_image")):
            with_picture = session.get(Process, process_id)
            with_picture.image, with_picture.image_alt_sv = w.names[name], "En park i solsken"
        processes.assign_official(session, session.get(Process, other.id),
                                  session.merge(users["other_official"]), None)  # fmt: skip
        session.get(Proposal, w.ids["own"]).image = w.names["image"]
        proc = session.get(Process, pp.id)
        phase_now = proc.phases[0].starts_at + dt.timedelta(days=1)
        c = proposals.add_comment(session, proc, session.get(Proposal, w.ids["pub"]),
                                  session.merge(users["participant2"]), "Bra idé!",
                                  phase_now)  # fmt: skip
        session.commit()
        w.ids["comment"] = c.id if isinstance(c, Comment) else c

    vote = make_vote(app, make_process, slug=SLUGS["V"],
                     code_channels=["letter", "school", "library", "email"])  # fmt: skip
    # The first batch (the one the tables revoke) holds the cast code; the codes voters use
    # are in a second batch of their own.
    w.used_code = issue(app, vote, 2)[0]
    w.codes = issue(app, vote, 40, channel="library", purpose="Stadsbiblioteket")
    w.voter_code = w.codes.pop()
    with app.test_request_context("/?lang=en"):
        session = get_session()
        w.receipt = cast(session, vote.process(session), w.used_code, ballot("p1", "p2"), utcnow())
        session.commit()
        w.ids["batch"] = session.scalar(
            sa.select(sa.func.min(CodeBatch.id)).where(CodeBatch.process_id == vote.process_id)
        )
        w.tokens["voting-email"] = tokens.dumps("voting-email", {"p": vote.process_id, "k": "x"})

    done = make_vote(app, make_process, slug=SLUGS["R"])
    cast_all(app, done, [ballot("p1", "p2"), ballot("p1", "p3"), ballot("p2", "p4", "p5")])
    close_voting(app, done)
    w.names["photo"] = _store_image(app)
    with app.test_request_context("/?lang=en"):
        session = get_session()
        process = done.process(session)
        results.publish(session, process, session.merge(users["admin"]), utcnow())
        session.flush()
        project = funded(session, process)[0].project
        w.ids["funded"] = project.id
        add_update(session, process, project.id, body="Bygget har börjat.",
                   image=w.names["photo"], actor=None, now=utcnow())  # fmt: skip
        session.commit()
        w.tokens["follow"] = tokens.dumps(
            "follow", {"e": "kim@example.org", "s": done.process_id, "p": [project.id], "l": "sv"}
        )
        w.tokens["follow-stop"] = tokens.dumps(
            "follow-stop", {"e": "kim@example.org", "s": done.process_id}
        )
        w.tokens["unsubscribe"] = tokens.dumps("unsubscribe", {"e": "participant@example.org"})
        w.tokens["register"] = tokens.dumps("register", {"e": "new@example.org", "l": "sv"})
        w.tokens["password-reset"] = reset_token(session.merge(users["participant2"]))
    return w


def _process(app: Any, slug: str) -> Any:
    from pb.db import get_session
    from pb.processes.services import get_by_slug

    with app.app_context():
        session = get_session()
        process = get_by_slug(session, slug)
        session.expunge_all()
        return process


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def client_for(app: Any, world: World, role: str, base_url: str = "https://localhost") -> Any:
    """A test client logged in as ``role`` (or the voter who entered a code), and the CSRF
    token of its session in ``client.csrf``."""
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = base_url.split(":", 1)[0]
    page = client.get("/")
    m = CSRF_RE.search(page.get_data(as_text=True))
    assert m, "no CSRF token on the home page"
    client.csrf = m.group(1)
    if role in ACCOUNTS:
        key = ACCOUNTS[role]
        r = client.post("/account/login", data={"email": f"{key}@example.org",
                                                "password": f"password-{key}",
                                                "csrf_token": client.csrf})  # fmt: skip
        assert r.status_code == 303, (role, r.status_code)
        m = CSRF_RE.search(client.get("/").get_data(as_text=True))  # a new session, a new token
        assert m
        client.csrf = m.group(1)
    elif role == "voter":
        r = client.post(f"/p/{world.slugs['V']}/vote",
                        data={"code": world.voter_code, "csrf_token": client.csrf})  # fmt: skip
        assert r.status_code == 200, r.status_code
    return client
