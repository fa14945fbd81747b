"""Submitting, drafts, editing until review, withdrawing, limits, phase gates and bad input,
in English and Swedish."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import login
from tests.proposals.conftest import make_proc
from tests.proposals.helpers import get, make_proposal, proposal_data


def _post(client: Any, proc: Any, lang: str = "en", **overrides: Any) -> Any:
    data = proposal_data(**{"category": str(proc.parks), "area": str(proc.north), **overrides})
    return client.post(f"/p/{proc.slug}/proposals/new?lang={lang}", data=data,
                       content_type="multipart/form-data")  # fmt: skip


def _proposals(db: Any) -> list[Any]:
    from pb.proposals.models import Proposal

    db.expire_all()
    return list(db.scalars(sa.select(Proposal).order_by(Proposal.id)))


@pytest.mark.parametrize(
    "lang,thanks", [("en", "Thank you! Your proposal is published."),
                    ("sv", "Tack! Ditt förslag är publicerat.")],
)  # fmt: skip
def test_participant_submits_a_proposal(
    client: Any, users: Any, proc: Any, db: Any, lang: str, thanks: str
) -> None:
    from pb.audit import AuditEvent

    login(client, "participant")
    r = _post(client, proc, lang)
    assert r.status_code == 303, r.get_data(as_text=True)
    [p] = _proposals(db)
    assert r.headers["Location"] == f"/p/parker/proposals/{p.id}"
    assert p.status.value == "published" and p.published_at is not None
    assert p.cost_estimate == 45000  # "45 000 kr" as people write it
    assert p.category_id == proc.parks and p.area_id == proc.north
    assert p.author_id == users["participant"].id
    assert "hojea" in p.search_text and "hojeastigen" in p.search_text
    html = client.get(f"/p/parker/proposals/{p.id}?lang={lang}").get_data(as_text=True)
    assert thanks in html
    assert "Fler bänkar längs Höjeå" in html
    assert '<a href="https://lund.se/hojea" rel="nofollow ugc noopener"' in html
    events = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "proposal.submit")).all()
    assert [(e.actor_id, e.subject_id) for e in events] == [(users["participant"].id, p.id)]
    # The public history shows the submission.
    assert ("Submitted" if lang == "en" else "Inskickat") in html


def test_a_proposal_published_at_once_is_written_once(
    app: Any, client: Any, users: Any, proc: Any, db: Any
) -> None:
    """Published from the form, the proposal is inserted published (no draft row changed
    afterwards), with its submission event and audit entry; a refusal writes nothing."""
    from pb.audit import AuditEvent
    from pb.db import get_engine
    from pb.proposals.models import EventKind, ProposalEvent

    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    login(client, "participant")
    sa.event.listen(get_engine(app), "before_cursor_execute", record)
    try:
        assert _post(client, proc).status_code == 303
        written = [s for s in seen if s.startswith(("INSERT INTO proposals ", "UPDATE proposals "))]
        seen.clear()
        assert _post(client, proc, consent=None).status_code == 400
        refused = [s for s in seen if s.startswith(("INSERT", "UPDATE", "DELETE"))]
    finally:
        sa.event.remove(get_engine(app), "before_cursor_execute", record)
    assert len(written) == 1 and written[0].startswith("INSERT INTO proposals "), written
    assert refused == []
    [p] = _proposals(db)
    assert p.status.value == "published" and p.published_at == p.created_at == p.updated_at
    kinds = db.scalars(sa.select(ProposalEvent.kind).where(ProposalEvent.proposal_id == p.id))
    assert list(kinds) == [EventKind.SUBMITTED]
    actions = db.scalars(
        sa.select(AuditEvent.subject_id).where(AuditEvent.action == "proposal.submit")
    )
    assert list(actions) == [p.id]


def test_draft_is_private_until_published(client: Any, users: Any, proc: Any, db: Any) -> None:
    login(client, "participant")
    r = _post(client, proc, action="draft", description="", cost_estimate="", consent=None)
    assert r.status_code == 303
    [p] = _proposals(db)
    assert p.status.value == "draft" and p.published_at is None
    url = f"/p/parker/proposals/{p.id}"
    assert "Only you can see it" in client.get(url + "?lang=en").get_data(as_text=True)
    # Nobody else sees a draft, nor does it appear in the list.
    other = client.application.test_client()
    assert other.get(url + "?lang=en").status_code == 404
    assert "Fler bänkar" not in other.get("/p/parker/proposals?lang=en").get_data(as_text=True)
    login(other, "official")
    assert other.get(url).status_code == 404
    # Publishing needs the description, the estimate and the consent.
    r = client.post(url + "/edit?lang=en", data=proposal_data(category=str(proc.parks), area=str(proc.north),
                    description="", cost_estimate="", consent=None))  # fmt: skip
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "Describe your proposal." in html and "Give your cost estimate." in html
    assert "agree that your proposal is shown to everyone" in html
    r = client.post(
        url + "/edit?lang=en", data=proposal_data(category=str(proc.parks), area=str(proc.north))
    )
    assert r.status_code == 303
    assert _proposals(db)[0].status.value == "published"


def test_author_edits_until_review_starts(
    app: Any, client: Any, users: Any, proc: Any, db: Any
) -> None:
    from pb.audit import AuditEvent

    pid = make_proposal(app, proc.process, users["participant"], category_id=proc.parks)
    login(client, "participant")
    url = f"/p/parker/proposals/{pid}"
    form = client.get(url + "/edit?lang=en").get_data(as_text=True)
    assert 'value="Lekplats i parken"' in form and 'value="10000"' in form
    r = client.post(url + "/edit?lang=en", data=proposal_data(title="Lekplats i stora parken",
                    category=str(proc.parks), area=str(proc.north), action="save"))  # fmt: skip
    assert r.status_code == 303
    assert get(app, __import__("pb.proposals.models", fromlist=["Proposal"]).Proposal,
               pid).title == "Lekplats i stora parken"  # fmt: skip
    assert db.scalars(sa.select(AuditEvent.action).where(AuditEvent.subject_id == pid,
                      AuditEvent.action == "proposal.edit")).all()  # fmt: skip
    # Someone else cannot edit it.
    other = client.application.test_client()
    login(other, "participant2")
    assert other.get(url + "/edit").status_code == 403
    assert other.post(url + "/edit", data=proposal_data()).status_code == 403
    # Once an official records a review, the author can no longer edit.
    official = client.application.test_client()
    login(official, "official")
    r = official.post(f"/p/parker/review/{pid}?lang=en",
                      data={"feasibility": "needs-work", "answer": "", "decision": ""})  # fmt: skip
    assert r.status_code == 303
    r = client.post(
        url + "/edit?lang=en",
        data=proposal_data(title="Ändrad", category=str(proc.parks), area=str(proc.north)),
    )
    assert r.status_code == 303
    html = client.get(url + "?lang=en").get_data(as_text=True)
    assert "can no longer be edited" in html and "Ändrad" not in html


def test_submit_outside_the_proposal_phase_is_refused(
    app: Any, client: Any, users: Any, make_process: Any, db: Any
) -> None:
    review = make_proc(app, make_process, slug="granskas", running="review")
    login(client, "participant")
    for lang, text in (("en", "only be submitted and edited while the process is in its proposal"),
                       ("sv", "bara lämna och ändra förslag medan det är dags för förslag")):  # fmt: skip
        r = client.get(f"/p/granskas/proposals/new?lang={lang}")
        assert r.status_code == 403 and text in r.get_data(as_text=True)
        r = _post(client, review, lang)
        assert r.status_code == 403 and text in r.get_data(as_text=True)
    assert _proposals(db) == []


def test_limit_per_person_is_configurable(
    make_app: Any, users: Any, make_process: Any, db: Any
) -> None:
    app = make_app(PROPOSALS_PER_PERSON=2)
    client = app.test_client()
    proc = make_proc(app, make_process)
    login(client, "participant")
    for n in range(2):
        assert _post(client, proc, title=f"Idé nummer {n}").status_code == 303
    assert _post(client, proc, action="draft", title="Ett utkast").status_code == 303  # drafts ok
    r = _post(client, proc, title="Idé nummer 3")
    assert r.status_code == 403
    assert "already submitted 2 proposals" in r.get_data(as_text=True)
    r = _post(client, proc, "sv", title="Idé nummer 3")
    assert "redan lämnat 2 förslag" in r.get_data(as_text=True)
    assert len(_proposals(db)) == 3


@pytest.mark.parametrize(
    "overrides,field_error",
    [
        ({"title": ""}, "Give your proposal a title."),
        ({"title": "   "}, "Give your proposal a title."),
        ({"title": "x" * 121}, "Use between 3 and 120 characters."),
        ({"description": "y" * 5001}, "Use at most 5000 characters."),
        ({"address": "z" * 201}, "Use at most 200 characters."),
        ({"cost_estimate": "-500"}, "whole number of kronor above zero"),
        ({"cost_estimate": "0"}, "whole number of kronor above zero"),
        ({"cost_estimate": "lots"}, "whole number of kronor above zero"),
        ({"cost_estimate": "12.5"}, "whole number of kronor above zero"),
        ({"cost_estimate": "9" * 30}, "whole number of kronor above zero"),
        ({"category": "99999"}, "Choose one of the options."),
        ({"latitude": "100", "longitude": "13"}, "Not a valid latitude."),
        ({"latitude": "55.7"}, "Give both latitude and longitude"),
    ],
)
def test_bad_input_is_explained_and_nothing_changes(
    client: Any, users: Any, proc: Any, db: Any, overrides: dict[str, str], field_error: str
) -> None:
    login(client, "participant")
    r = _post(client, proc, **overrides)
    html = r.get_data(as_text=True)
    assert r.status_code == 400, html
    assert field_error in html
    assert "Please correct the fields marked below." in html
    if "title" not in overrides:
        assert 'value="Fler bänkar längs Höjeå"' in html  # what was typed is kept
    assert _proposals(db) == []


def test_bad_input_messages_in_swedish(client: Any, users: Any, proc: Any) -> None:
    login(client, "participant")
    html = _post(client, proc, "sv", title="", cost_estimate="-1").get_data(as_text=True)
    assert "Ge ditt förslag en rubrik." in html
    assert "Ange kostnaden som ett helt antal kronor över noll" in html


def _jpeg_with_gps() -> bytes:
    from PIL import Image

    img = Image.new("RGB", (3000, 1500), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (55.0, 42.0, 17.0), 3: "E", 4: (13.0, 11.0, 28.0)}  # GPS
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_image_is_checked_reencoded_and_stripped(
    app: Any, client: Any, users: Any, proc: Any, db: Any
) -> None:
    from PIL import Image

    raw = _jpeg_with_gps()
    assert Image.open(io.BytesIO(raw)).getexif().get(0x8825)  # the upload carries GPS
    login(client, "participant")
    r = _post(client, proc, image=(io.BytesIO(raw), "photo.jpg"))
    assert r.status_code == 303, r.get_data(as_text=True)
    [p] = _proposals(db)
    assert p.image.endswith(".jpg") and "photo" not in p.image
    page = client.get(f"/p/parker/proposals/{p.id}").get_data(as_text=True)
    assert f"/uploads/proposals/{p.image}" in page
    anonymous = app.test_client()
    r = anonymous.get(f"/uploads/proposals/{p.image}")
    assert r.status_code == 200 and r.mimetype == "image/jpeg"
    stored = Image.open(io.BytesIO(r.data))
    assert stored.format == "JPEG" and max(stored.size) == 2000
    assert not stored.getexif()  # no GPS, no camera
    assert b"PhoneMaker" not in r.data
    assert anonymous.get("/uploads/proposals/../../secret_key").status_code == 404
    assert anonymous.get("/uploads/proposals/nosuchfile0000000000000.jpg").status_code == 404


@pytest.mark.parametrize(
    "payload,name",
    [
        (b"<script>alert(1)</script>", "x.jpg"),
        (b"GIF89a" + b"\x00" * 100, "x.gif"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "broken.png"),
        (b"", "empty.png"),  # a file with a name but no bytes
    ],
)
def test_a_file_that_is_not_a_usable_image_is_refused(
    client: Any, users: Any, proc: Any, db: Any, payload: bytes, name: str
) -> None:
    login(client, "participant")
    r = _post(client, proc, image=(io.BytesIO(payload), name))
    assert r.status_code == 400
    text = "The file is empty." if payload == b"" else "not an image we can use"
    assert text in r.get_data(as_text=True)
    assert _proposals(db) == []


def test_too_large_image_is_refused(make_app: Any, users: Any, make_process: Any, db: Any) -> None:
    app = make_app(UPLOAD_MAX_BYTES=1000)
    client = app.test_client()
    proc = make_proc(app, make_process)
    login(client, "participant")
    r = _post(client, proc, "sv", image=(io.BytesIO(_jpeg_with_gps()), "big.jpg"))
    assert r.status_code == 400 and "Bilden är för stor" in r.get_data(as_text=True)
    assert _proposals(db) == []


YES = {"confirm": "yes"}  # what the confirmation page sends


@pytest.mark.parametrize("lang,text,note", [
    ("en", "Your proposal is withdrawn.", "The author has withdrawn this proposal."),
    ("sv", "Ditt förslag är tillbakadraget.", "Den som skrev förslaget har dragit tillbaka det."),
])  # fmt: skip
def test_author_withdraws_before_the_vote(
    app: Any, client: Any, users: Any, proc: Any, db: Any, lang: str, text: str, note: str
) -> None:
    from pb.proposals.models import Proposal

    pid = make_proposal(app, proc.process, users["participant"])
    other = app.test_client()
    login(other, "participant2")
    assert other.post(f"/p/parker/proposals/{pid}/withdraw", data=YES).status_code == 403
    login(client, "participant")
    r = client.post(f"/p/parker/proposals/{pid}/withdraw?lang={lang}", data=YES)
    assert r.status_code == 303
    assert get(app, Proposal, pid).status.value == "withdrawn"
    html = client.get(f"/p/parker/proposals/{pid}?lang={lang}").get_data(as_text=True)
    assert text in html
    # Everyone reading it is told it was withdrawn.
    assert note in other.get(f"/p/parker/proposals/{pid}?lang={lang}").get_data(as_text=True)
    # Twice is refused with a message.
    client.post(f"/p/parker/proposals/{pid}/withdraw?lang=en", data=YES)
    html = client.get(f"/p/parker/proposals/{pid}?lang=en").get_data(as_text=True)
    assert "can no longer be withdrawn" in html


def test_withdrawing_an_accepted_proposal_takes_it_off_the_ballot(
    app: Any, client: Any, users: Any, proc: Any, db: Any
) -> None:
    from pb.proposals.models import Project

    pid = make_proposal(app, proc.process, users["participant"], area_id=proc.north)
    official = app.test_client()
    login(official, "official")
    r = official.post(f"/p/parker/review/{pid}", data={"feasibility": "feasible",
                      "official_cost": "80000", "answer": "Bra!", "decision": "accept"})  # fmt: skip
    assert r.status_code == 303
    assert db.scalar(sa.select(sa.func.count()).select_from(Project)) == 1
    login(client, "participant")
    assert client.post(f"/p/parker/proposals/{pid}/withdraw", data=YES).status_code == 303
    db.expire_all()
    assert db.scalar(sa.select(sa.func.count()).select_from(Project)) == 0


def test_withdraw_refused_once_voting_opened(
    app: Any, client: Any, users: Any, make_process: Any
) -> None:
    from pb.proposals.models import Proposal

    proc = make_proc(app, make_process)
    pid = make_proposal(app, proc.process, users["participant"])
    voting = make_proc(app, make_process, slug="rostning", running="voting")
    with app.app_context():
        from pb.db import get_session

        session = get_session()
        session.get(Proposal, pid).process_id = voting.process.id
        session.commit()
    login(client, "participant")
    r = client.post(f"/p/rostning/proposals/{pid}/withdraw?lang=en", data=YES)
    assert r.status_code == 303
    assert get(app, Proposal, pid).status.value == "published"


def test_map_only_when_tiles_are_configured(make_app: Any, users: Any, make_process: Any) -> None:
    plain = make_app()
    make_proc(plain, make_process)
    client = plain.test_client()
    login(client, "participant")
    r = client.get("/p/parker/proposals/new?lang=en")
    html = r.get_data(as_text=True)  # no map: the address field alone, no coordinates asked
    assert "map-picker" not in html and 'name="latitude"' not in html
    assert "img-src 'self' data:;" in r.headers["Content-Security-Policy"]
    assert 'name="address"' in r.get_data(as_text=True)
    tiles = make_app(MAP_TILE_URL="https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    client = tiles.test_client()
    login(client, "participant")
    r = client.get("/p/parker/proposals/new?lang=en")
    assert 'data-tiles="https://tile.openstreetmap.org/{z}/{x}/{y}.png"' in r.get_data(as_text=True)
    csp = r.headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://tile.openstreetmap.org;" in csp
    assert "script-src 'self';" in csp


def test_without_a_map_a_point_given_earlier_is_kept(
    app: Any, client: Any, users: Any, proc: Any
) -> None:
    """No map: the form asks for no coordinates, yet saving keeps a point the proposal has."""
    from pb.proposals.models import Proposal

    pid = make_proposal(app, proc.process, users["participant"], category_id=proc.parks,
                        latitude=55.71, longitude=13.19)  # fmt: skip
    login(client, "participant")
    url = f"/p/parker/proposals/{pid}"
    form = client.get(url + "/edit?lang=en").get_data(as_text=True)
    assert 'type="hidden" name="latitude" value="55.71' in form and "Exact point" not in form
    hidden = dict(re.findall(r'type="hidden" name="(latitude|longitude)" value="([^"]+)"', form))
    r = client.post(url + "/edit?lang=en",
                    data=proposal_data(action="save", category=str(proc.parks), area=str(proc.north), **hidden))  # fmt: skip
    assert r.status_code == 303
    saved = get(app, Proposal, pid)
    assert (round(saved.latitude, 2), round(saved.longitude, 2)) == (55.71, 13.19)
