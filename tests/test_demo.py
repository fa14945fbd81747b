"""`pb demo` loads a realistic demo, safely twice, and the pages show it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa


def test_demo_loads_twice_and_serves(make_app: Any) -> None:
    from pb.accounts.models import User
    from pb.db import get_session
    from pb.demo import load_demo
    from pb.processes.models import Process

    app = make_app()
    with app.app_context():
        first = load_demo()
        pictures = {s: i for s, i in get_session().execute(sa.select(Process.slug, Process.image))}
    with app.app_context():
        second = load_demo()
        session = get_session()
        processes = session.scalars(sa.select(Process).order_by(Process.slug)).all()
        assert [p.slug for p in processes] == [
            "lund-parker-och-gator-2027",
            "ungdomsbudget-dalby-2026",
        ]
        # Each has its own drawing, described in both languages; a refresh keeps the file.
        assert {p.slug: p.image for p in processes} == pictures
        assert all(p.image.endswith(".png") for p in processes)
        assert all(p.image_alt_sv and p.image_alt_en for p in processes)
        folder = Path(app.config["UPLOAD_DIR"]) / "processes"
        assert sorted(f.name for f in folder.iterdir()) == sorted(pictures.values())
        lund = processes[0]
        assert [a.name for a in lund.areas] == ["Norra Fäladen", "Klostergården"]
        assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 4
    assert first == second
    assert {role for role, _, _ in first} == {"admin", "official", "participant"}
    client = app.test_client()
    home = client.get("/?lang=sv").get_data(as_text=True)
    assert "Nu: Förslag" in home and "Medborgarbudget Lund 2027: parker och gator" in home
    for process in processes:
        assert f'src="/uploads/processes/{process.image}" alt="{process.image_alt_sv}"' in home
        r = client.get(f"/uploads/processes/{process.image}")
        assert r.status_code == 200 and r.mimetype == "image/png"
    page = client.get("/p/lund-parker-och-gator-2027?lang=en").get_data(as_text=True)
    assert "Norra Fäladen" in page and "Method of Equal Shares" in page
    for _, email, password in first:
        c = app.test_client()
        r = c.post("/account/login", data={"email": email, "password": password})
        assert r.status_code == 303, email


def test_pb_demo_command_without_serving(make_app: Any, tmp_path: Any, monkeypatch: Any) -> None:
    from click.testing import CliRunner

    from pb.cli import main

    monkeypatch.setenv("PB_INSTANCE_PATH", str(tmp_path / "demo-instance"))
    monkeypatch.setenv("PB_DATABASE_URL", "sqlite:///" + str(tmp_path / "demo.sqlite3"))
    monkeypatch.delenv("PB_ENV", raising=False)
    result = CliRunner().invoke(main, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "admin@demo.lund.example" in result.output and "demo-admin-2027" in result.output
    assert (tmp_path / "demo-instance" / "secret_key").exists()
    result = CliRunner().invoke(main, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output


def test_pb_demo_serves_on_the_given_port(tmp_path: Any) -> None:
    """The Quick start's first command: `pb demo` loads the demo and answers over HTTP."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PB_INSTANCE_PATH": str(tmp_path / "inst"),
           "PB_DATABASE_URL": "sqlite:///" + str(tmp_path / "demo.sqlite3")}  # fmt: skip
    env.pop("PB_ENV", None)
    pb = Path(sys.executable).with_name("pb")
    proc = subprocess.Popen([str(pb), "demo", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                    html = r.read().decode()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError("pb demo did not serve") from None
                time.sleep(0.3)
        assert "Medborgarbudget Lund 2027" in html
        # Links in the API (and in queued mail) lead to where the demo serves.
        api = f"http://127.0.0.1:{port}/api/v1/processes/lund-parker-och-gator-2027"
        with urllib.request.urlopen(api, timeout=5) as r:
            data = r.read().decode()
        assert f"http://127.0.0.1:{port}/p/lund-parker-och-gator-2027" in data
        assert "127.0.0.1:5000" not in data
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert b"demo-admin-2027" in out


def test_the_demos_plain_texts_agree_with_their_rules(make_app: Any) -> None:
    """Third probe: Lund's easy-to-read summary said "the ideas with the most votes are
    built" while its rule is the Method of Equal Shares, under which a project with more
    votes can lose to a cheaper one; and its decision text repeated the page's own sentence
    on explaining a departure from the result."""
    from pb.db import get_session
    from pb.demo import load_demo
    from pb.processes.contract import Contract
    from pb.processes.models import Process

    app = make_app()
    with app.app_context():
        load_demo()
        for process in get_session().scalars(sa.select(Process)):
            counting = Contract.of(process).counting
            texts = " ".join([process.easy_sv, process.easy_en, process.decision_text_sv,
                              process.decision_text_en, process.purpose_sv, process.purpose_en])  # fmt: skip
            if counting.rule == "equal-shares":
                assert "flest röster" not in texts and "most votes" not in texts, process.slug
                assert "billigt projekt" in process.easy_sv and "cheap project" in process.easy_en
            assert "förklara varför" not in texts and "explain why" not in texts, process.slug
    page = app.test_client().get("/p/lund-parker-och-gator-2027?lang=sv").get_data(as_text=True)
    assert page.count("förklara varför") == 1
