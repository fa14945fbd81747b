"""A process's own picture: uploaded on the admin form through the same checks as a
proposal's, described in words, shown on the home page's card and at the top of the process
page (the phase drawing otherwise), served only to those who may see the process, replaced
and removed with the old file gone, and every change in the audit log as a sentence."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import login
from tests.processes.test_processes import form_data

ALT_SV = "Barn leker i en park med stora träd"
ALT_EN = "Children playing in a park with big trees"


def picture(size: tuple[int, int] = (640, 280), fmt: str = "PNG") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (40, 140, 60)).save(out, fmt)
    return out.getvalue()


def stored(app: Any) -> list[str]:
    folder = Path(app.config["UPLOAD_DIR"]) / "processes"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def _process(db: Any, slug: str = "lund-2027") -> Any:
    from pb.processes.models import Process

    db.expire_all()
    return db.scalar(sa.select(Process).where(Process.slug == slug))


def _head(page: str) -> str:
    start = page.index('class="process-head"')
    return page[start : page.index("</header>", start)]


def _create(client: Any, lang: str = "en", **overrides: Any) -> Any:
    data = form_data(**{"image": (io.BytesIO(picture()), "park.png"), "image_alt_sv": ALT_SV,
                        "image_alt_en": ALT_EN, **overrides})  # fmt: skip
    return client.post(f"/admin/processes/new?lang={lang}", data=data,
                       content_type="multipart/form-data")  # fmt: skip


def _edit(client: Any, slug: str = "lund-2027", **overrides: Any) -> Any:
    return client.post(f"/admin/processes/{slug}/edit?lang=en", data=form_data(**overrides),
                       content_type="multipart/form-data")  # fmt: skip


def test_a_picture_is_stored_cleaned_and_shown_with_its_words(
    app: Any, client: Any, users: Any, db: Any
) -> None:
    from PIL import Image

    login(client, "admin")
    r = _create(client, image=(io.BytesIO(picture((3000, 1200), "JPEG")), "park.jpg"))
    assert r.status_code == 303, r.get_data(as_text=True)
    process = _process(db)
    assert process.image.endswith(".jpg") and "park" not in process.image
    assert (process.image_alt_sv, process.image_alt_en) == (ALT_SV, ALT_EN)
    assert stored(app) == [process.image]
    url = f"/uploads/processes/{process.image}"

    anonymous = app.test_client()
    home = anonymous.get("/?lang=sv").get_data(as_text=True)
    card = home[home.index('id="process-lund-2027"') :]
    card = card[: card.index("</li>")]
    assert f'<img src="{url}" alt="{ALT_SV}"' in card and "phase-proposals.svg" not in card
    page = anonymous.get("/p/lund-2027?lang=en").get_data(as_text=True)
    head = _head(page)
    assert f'<img src="{url}" alt="{ALT_EN}"' in head

    r = anonymous.get(url)
    assert r.status_code == 200 and r.mimetype == "image/jpeg"
    assert r.headers["Cache-Control"] == "private, max-age=3600"
    assert r.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert max(Image.open(io.BytesIO(r.data)).size) == 2000  # shrunk like a proposal's
    assert anonymous.get("/uploads/processes/../../secret_key").status_code == 404
    assert anonymous.get("/uploads/processes/nosuchfile0000000000000.jpg").status_code == 404
    # A proposal's address does not serve a process's file, nor the other way round.
    assert anonymous.get(f"/uploads/proposals/{process.image}").status_code == 404


def test_english_readers_see_the_swedish_words_when_there_are_no_english_ones(
    client: Any, users: Any, db: Any
) -> None:
    login(client, "admin")
    assert _create(client, image_alt_en="").status_code == 303
    page = client.get("/p/lund-2027?lang=en").get_data(as_text=True)
    assert f'alt="{ALT_SV}" lang="sv"' in page


def test_without_a_picture_the_card_and_page_show_the_phase_drawing(
    client: Any, make_process: Any
) -> None:
    make_process(slug="p1", running="proposals")
    home = client.get("/").get_data(as_text=True)
    assert "img/phase-proposals.svg" in home and "/uploads/processes/" not in home
    page = client.get("/p/p1").get_data(as_text=True)
    head = _head(page)
    assert "img/phase-proposals.svg" in head and 'alt=""' in head


@pytest.mark.parametrize("lang,message", [
    ("en", "Describe the picture in Swedish, for people who cannot see it."),
    ("sv", "Beskriv bilden på svenska, för dem som inte kan se den."),
])  # fmt: skip
def test_a_picture_without_words_is_refused_and_what_was_typed_stays(
    app: Any, client: Any, users: Any, db: Any, lang: str, message: str
) -> None:
    login(client, "admin")
    r = _create(client, lang, image_alt_sv="  ")
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert message in html and 'id="image_alt_sv-error"' in html
    assert 'value="Medborgarbudget Lund 2027"' in html and f'value="{ALT_EN}"' in html
    assert _process(db) is None and stored(app) == []


@pytest.mark.parametrize(
    "payload,name",
    [
        (b"<script>alert(1)</script>", "x.png"),
        (b"GIF89a" + b"\x00" * 100, "x.gif"),
        (b"%PDF-1.4\n" + b"\x00" * 50, "leaflet.pdf"),
        (b"", "empty.png"),
    ],
)
def test_a_file_that_is_not_a_usable_image_is_refused(
    app: Any, client: Any, users: Any, db: Any, payload: bytes, name: str
) -> None:
    login(client, "admin")
    r = _create(client, image=(io.BytesIO(payload), name))
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert ("The file is empty." if not payload else "not an image we can use") in html
    assert 'value="Medborgarbudget Lund 2027"' in html
    assert _process(db) is None and stored(app) == []


def test_a_picture_that_is_too_large_is_refused_in_swedish(
    make_app: Any, users: Any, db: Any
) -> None:
    app = make_app(UPLOAD_MAX_BYTES=1000)
    client = app.test_client()
    login(client, "admin")
    r = _create(client, "sv", image=(io.BytesIO(picture((800, 800), "JPEG")), "big.jpg"))
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "Bilden är för stor" in html and f'value="{ALT_SV}"' in html
    assert stored(app) == []


def test_a_refused_save_leaves_no_file_behind(
    app: Any, client: Any, users: Any, make_process: Any, db: Any
) -> None:
    make_process(slug="lund-2027", running="proposals")
    login(client, "admin")
    r = _create(client)  # the web address is taken: refused after the file was stored
    assert r.status_code == 400 and "Another process already uses this web address." in (
        r.get_data(as_text=True)
    )
    assert stored(app) == []


def test_replace_and_remove_with_the_old_files_gone_and_each_change_in_the_log(
    app: Any, client: Any, users: Any, db: Any
) -> None:
    from pb.audit import AuditEvent

    login(client, "admin")
    assert _create(client).status_code == 303
    first = _process(db).image
    page = client.get("/admin/processes/lund-2027/edit?lang=en").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    assert f"/uploads/processes/{first}" in page and 'name="remove_image"' in page
    assert f'value="{ALT_SV}"' in page

    # Saving without a file keeps the picture; its words must stay.
    r = _edit(client, image_alt_sv="", image_alt_en=ALT_EN)
    assert r.status_code == 400 and "Describe the picture in Swedish" in r.get_data(as_text=True)
    assert _edit(client, image_alt_sv="En park", image_alt_en=ALT_EN).status_code == 303
    assert _process(db).image == first and _process(db).image_alt_sv == "En park"

    r = _edit(client, image=(io.BytesIO(picture(fmt="WEBP")), "new.webp"),
              image_alt_sv="En ny park", image_alt_en=ALT_EN)  # fmt: skip
    assert r.status_code == 303, r.get_data(as_text=True)
    second = _process(db).image
    assert second.endswith(".webp") and stored(app) == [second]  # the first file is gone
    assert client.get(f"/uploads/processes/{first}").status_code == 404

    assert _edit(client, remove_image="y", image_alt_sv="", image_alt_en="").status_code == 303
    process = _process(db)
    assert (process.image, process.image_alt_sv, process.image_alt_en) == ("", "", "")
    assert stored(app) == []

    events = db.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "process.update").order_by(AuditEvent.id)
    ).all()
    assert [sorted(ev.data) for ev in events] == [
        ["image_alt_sv"],
        ["image", "image_alt_sv"],
        ["image", "image_alt_en", "image_alt_sv"],
    ]
    assert events[1].data["image"] == [first, second]
    assert events[2].data["image"] == [second, ""]
    log = client.get("/admin/processes/lund-2027/audit?lang=sv").get_data(as_text=True)
    name = users["admin"].display_name
    assert f"{name} ändrade orden som beskriver processens bild." in log
    assert f"{name} bytte processens bild." in log
    assert f"{name} tog bort processens bild." in log
    assert "Vad bilden visar (svenska)" in log and "En park → En ny park" in log
    log = client.get("/admin/processes/lund-2027/audit?lang=en").get_data(as_text=True)
    assert f"{name} changed the process's picture." in log.replace("&#39;", "'")


def test_the_picture_alone_reads_as_given(app: Any, users: Any, make_process: Any) -> None:
    from pb.audit import AuditEvent
    from pb.db import get_session, utcnow
    from pb.processes import auditlog, services

    p = make_process(slug="p1", running="proposals")
    with app.test_request_context("/?lang=en"):
        session = get_session()
        process = session.get(type(p), p.id)
        name = _store(app)
        changes = services.ProcessChanges(
            fields={"image_alt_sv": ALT_SV}, areas=[(a.name, a.budget) for a in process.areas],
            categories=[(c.name_sv, c.name_en) for c in process.categories],
            phases={ph.kind: (ph.starts_at, ph.ends_at) for ph in process.phases}, image=name,
        )  # fmt: skip
        diff = services.update_process(session, process, changes, session.merge(users["admin"]),
                                       utcnow())  # fmt: skip
        assert diff == {"image": ["", name], "image_alt_sv": ["", ALT_SV]}
        session.commit()  # the event joins the log when the session commits
        ev = session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        line = auditlog.present(ev, auditlog.Context({users["admin"].id: "Anna"}))
        assert line.sentence == "Anna gave the process a picture."
        assert ("Picture", f"— → {name}") in line.details


def _store(app: Any) -> str:
    from pb import images

    return images.store(io.BytesIO(picture()), app.config["UPLOAD_DIR"], 10**7,
                        folder=images.PROCESSES)  # fmt: skip


def test_the_service_refuses_a_picture_without_words(
    app: Any, users: Any, make_process: Any
) -> None:
    from pb.db import get_session, utcnow
    from pb.processes import services

    p = make_process(slug="p1", running="proposals")
    with app.test_request_context("/"):
        session = get_session()
        process = session.get(type(p), p.id)
        changes = services.ProcessChanges(
            fields={}, areas=[(a.name, a.budget) for a in process.areas],
            categories=[(c.name_sv, c.name_en) for c in process.categories],
            phases={ph.kind: (ph.starts_at, ph.ends_at) for ph in process.phases},
            image=_store(app),
        )  # fmt: skip
        with pytest.raises(services.PictureNeedsText):
            services.update_process(session, process, changes, None, utcnow())
        session.rollback()


def test_a_draft_process_picture_is_only_for_those_who_may_see_the_process(
    app: Any, client: Any, users: Any, db: Any
) -> None:
    login(client, "admin")
    assert _create(client, published=None).status_code == 303
    url = f"/uploads/processes/{_process(db).image}"
    assert client.get(url).status_code == 200
    for who in (None, "participant", "other_official"):
        someone = app.test_client()
        if who:
            login(someone, who)
        assert someone.get(url).status_code == 404, who
    official = app.test_client()
    login(official, "official")
    assert official.get(url).status_code == 404  # not an official of this process
    # Publishing it makes the picture public.
    assert _edit(client, image_alt_sv=ALT_SV).status_code == 303
    assert app.test_client().get(url).status_code == 200


def test_frozen_rules_lock_the_picture_too(client: Any, users: Any, make_process: Any) -> None:
    make_process(slug="voting-now", running="voting")
    login(client, "admin")
    page = client.get("/admin/processes/voting-now/edit?lang=en").get_data(as_text=True)
    fieldset = page[page.index('id="picture"') - 60 : page.index('id="picture"')]
    assert "disabled" in fieldset


def test_the_api_gives_the_picture_and_its_words(
    app: Any, client: Any, users: Any, db: Any
) -> None:
    login(client, "admin")
    assert _create(client).status_code == 303
    anonymous = app.test_client()
    [data] = anonymous.get("/api/v1/processes").get_json()["data"]
    name = _process(db).image
    assert data["image_url"] == f"{app.config['BASE_URL']}/uploads/processes/{name}"
    assert (data["image_alt_sv"], data["image_alt_en"]) == (ALT_SV, ALT_EN)
    assert anonymous.get(f"/uploads/processes/{name}").status_code == 200
    assert _edit(client, remove_image="y", image_alt_sv="", image_alt_en="").status_code == 303
    data = anonymous.get("/api/v1/processes/lund-2027").get_json()["data"]
    assert (data["image_url"], data["image_alt_sv"], data["image_alt_en"]) == (None, None, None)
