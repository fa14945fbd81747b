"""Officials of a process: added and removed on the admin page and with ``pb officials``;
each change audited; the site-wide role goes back to participant when the account is an
official of no process any more (an admin stays admin)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tests.conftest import login


def _role(db: Any, user: Any) -> str:
    from pb.accounts.models import User

    db.expire_all()
    return str(db.get(User, user.id).role)


def _official_ids(db: Any, process: Any) -> set[int]:
    from pb.processes.models import Process

    db.expire_all()
    return {o.user_id for o in db.get(Process, process.id).officials}


def test_page_says_what_officials_may_do_and_offers_removal(
    client: Any, users: Any, make_process: Any
) -> None:
    make_process(slug="p1")
    login(client, "admin")
    html = client.get("/admin/processes/p1/officials?lang=en").get_data(as_text=True)
    assert "Officials of this process may moderate its proposals and comments" in html
    assert f'name="user_id" value="{users["official"].id}"' in html
    assert "/admin/processes/p1/officials/remove" in html
    sv = client.get("/admin/processes/p1/officials?lang=sv").get_data(as_text=True)
    assert "Tjänstepersoner i den här processen får" in sv
    # The heading names the process in the reader's language (fourth probe).
    from pb.processes.models import Process

    with client.application.app_context():
        from pb.db import get_session

        process = get_session().scalar(sa.select(Process).where(Process.slug == "p1"))
        assert process is not None and process.title_en != process.title_sv
        assert f"Officials of {process.title_en}" in html
        assert process.title_sv in sv


def test_participant_made_official_and_removed_is_participant_again(
    client: Any, users: Any, make_process: Any, db: Any
) -> None:
    from pb.audit import AuditEvent

    p = make_process(slug="p1")
    bob = users["participant"]
    login(client, "admin")
    r = client.post("/admin/processes/p1/officials", data={"email": "participant@example.org"})
    assert r.status_code == 303
    assert _role(db, bob) == "official" and bob.id in _official_ids(db, p)

    # The first POST asks; nothing changes yet.
    r = client.post("/admin/processes/p1/officials/remove?lang=en", data={"user_id": bob.id})
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "Remove this official?" in page and 'name="confirm" value="yes"' in page
    assert bob.id in _official_ids(db, p)

    r = client.post("/admin/processes/p1/officials/remove?lang=en",
                    data={"user_id": bob.id, "confirm": "yes"})  # fmt: skip
    assert r.status_code == 303
    assert bob.id not in _official_ids(db, p)
    assert _role(db, bob) == "participant"
    # Bob can no longer moderate the process.
    client.post("/account/logout")
    login(client, "participant")
    assert client.get("/p/p1/moderation").status_code == 403

    actions = list(db.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))
    assert "process.official-removed" in actions and "user.role" in actions
    # Both role changes belong to the process whose officials changed (the made-official one
    # was not audited at all before).
    roles = db.execute(
        sa.select(AuditEvent.process_id, AuditEvent.data)
        .where(AuditEvent.action == "user.role", AuditEvent.subject_id == bob.id)
        .order_by(AuditEvent.id)
    ).all()
    assert [(pid, data["role"]) for pid, data in roles] == [
        (p.id, ["participant", "official"]), (p.id, ["official", "participant"])]  # fmt: skip
    client.post("/account/logout")
    login(client, "admin")
    log = client.get("/admin/processes/p1/audit?lang=en").get_data(as_text=True)
    assert "removed Participant as an official of the process." in log
    assert "Official removed from the process" in log
    assert "changed the role of Participant from official to participant." in log


def test_role_stays_while_official_elsewhere_and_admin_is_never_demoted(
    client: Any, users: Any, make_process: Any, db: Any
) -> None:
    p1 = make_process(slug="p1")
    make_process(slug="p2")  # "official" is an official of both
    login(client, "admin")
    client.post("/admin/processes/p1/officials", data={"email": "admin@example.org"})
    official, admin = users["official"], users["admin"]
    for user in (official, admin):
        r = client.post("/admin/processes/p1/officials/remove",
                        data={"user_id": user.id, "confirm": "yes"})  # fmt: skip
        assert r.status_code == 303
    assert official.id not in _official_ids(db, p1) and admin.id not in _official_ids(db, p1)
    assert _role(db, official) == "official"  # still an official of p2
    assert _role(db, admin) == "admin"


def test_removing_someone_who_is_not_an_official_is_refused(
    client: Any, users: Any, make_process: Any
) -> None:
    make_process(slug="p1")
    login(client, "admin")
    for data in ({"user_id": users["participant"].id, "confirm": "yes"}, {"user_id": "x"}, {}):
        r = client.post("/admin/processes/p1/officials/remove?lang=en", data=data)
        assert r.status_code == 400
        assert "That account is not an official of this process." in r.get_data(as_text=True)


def test_adding_an_unknown_address_keeps_what_was_typed(
    client: Any, users: Any, make_process: Any
) -> None:
    make_process(slug="p1")
    login(client, "admin")
    r = client.post("/admin/processes/p1/officials?lang=en", data={"email": "typo@exmaple.org"})
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "No account has that e-mail address." in html and 'value="typo@exmaple.org"' in html


def test_officials_command_lists_adds_and_removes(
    runner: Any, client: Any, users: Any, make_process: Any, db: Any
) -> None:
    from pb.processes.cli import officials_command

    p = make_process(slug="p1")
    r = runner.invoke(officials_command, ["list", "p1"])
    assert r.exit_code == 0 and r.output == "official@example.org\tOfficial\n"
    r = runner.invoke(officials_command, ["add", "p1", "Participant@example.org"])
    assert r.exit_code == 0, r.output
    assert _role(db, users["participant"]) == "official"
    r = runner.invoke(officials_command, ["remove", "p1", "participant@example.org"])
    assert r.exit_code == 0, r.output
    assert "no longer an official of p1 (role: participant)" in r.output
    assert users["participant"].id not in _official_ids(db, p)
    assert _role(db, users["participant"]) == "participant"
    r = runner.invoke(officials_command, ["remove", "p1", "participant@example.org"])
    assert r.exit_code != 0 and "not an official of this process" in r.output
    r = runner.invoke(officials_command, ["remove", "p1", "nobody@example.org"])
    assert r.exit_code != 0 and "No account has that e-mail address." in r.output
    r = runner.invoke(officials_command, ["list", "nope"])
    assert r.exit_code != 0 and "no process 'nope'" in r.output
    # The audit log says the change came without an account, possibly from the command line
    # (fourth probe: it read "pb itself made … an official", as if pb had decided).
    login(client, "admin")
    log = client.get("/admin/processes/p1/audit?lang=en").get_data(as_text=True)
    assert "pb (on its own or from the command line)" in log and "pb itself" not in log


def test_adding_an_official_twice_says_nothing_changed(
    client: Any, runner: Any, users: Any, make_process: Any, db: Any
) -> None:
    """Fourth probe (F5): adding someone who already was an official said "is now an
    official", on the page and on the command line."""
    from pb.audit import AuditEvent
    from pb.processes.cli import officials_command

    make_process(slug="p1")
    login(client, "admin")
    before = db.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    r = client.post("/admin/processes/p1/officials?lang=sv",
                    data={"email": users["official"].email})  # fmt: skip
    html = r.get_data(as_text=True)
    assert r.status_code == 409 and "är redan tjänsteperson i den här processen" in html
    assert "är nu tjänsteperson" not in html
    r = runner.invoke(officials_command, ["add", "p1", users["official"].email])
    assert r.exit_code != 0 and "already an official of this process" in r.output
    db.expire_all()
    assert db.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == before
