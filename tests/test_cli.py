"""The `pb` command is Flask's CLI bound to the factory, plus pb's own commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from pb.cli import main


def test_flask_commands_work_through_pb(
    monkeypatch: Any, tmp_path: Path, database_url: str
) -> None:
    monkeypatch.setenv("PB_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PB_ENV", "development")
    monkeypatch.setenv("PB_DATABASE_URL", database_url)
    from flask.cli import ScriptInfo

    from pb import create_app
    from pb.db import get_engine

    made = []

    def factory() -> Any:
        made.append(create_app())
        return made[-1]

    try:
        result = CliRunner().invoke(main, ["routes"], obj=ScriptInfo(create_app=factory))
        assert result.exit_code == 0, result.output
        assert "processes.show" in result.output and "/p/<slug>" in result.output
        result = CliRunner().invoke(main, ["db", "current"], obj=ScriptInfo(create_app=factory))
        assert result.exit_code == 0 and result.output.strip()
    finally:
        for app in made:
            get_engine(app).dispose()


def test_production_without_a_key_fails_with_a_message_not_a_traceback(tmp_path: Path) -> None:
    env = {"PB_INSTANCE_PATH": str(tmp_path), "PB_ENV": "production", "PATH": "/usr/bin:/bin"}
    pb = Path(sys.executable).with_name("pb")
    proc = subprocess.run([str(pb), "routes"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "SECRET_KEY is missing or weak" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_init_secrets(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["init-secrets", "--instance", str(tmp_path)])
    assert result.exit_code == 0 and "secret_key" in result.output
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    result = CliRunner().invoke(main, ["init-secrets", "--instance", str(tmp_path)])
    assert "already exist" in result.output


def test_pb_tally_loads_neither_flask_nor_the_app(tmp_path: Path) -> None:
    """`pb tally` runs from the plain group: a fresh process counts a file and has imported no
    Flask, Werkzeug, SQLAlchemy, Jinja or pb web module."""
    from pb.tally import Election, dump

    path = tmp_path / "small.pb"
    dump(Election.build({"a": 60, "b": 50}, 100, [["a"], ["a", "b"], ["b"]]), path)
    code = (
        "import json, sys\n"
        "from pb.cli import main\n"
        "try:\n"
        f"    main(['tally', {str(path)!r}, '--rule', 'equal-shares', '--json'])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "heavy = ('flask', 'werkzeug', 'sqlalchemy', 'jinja2', 'alembic', 'wtforms')\n"
        "ours = ('pb', 'pb.tally', 'pb.cli')\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in heavy\n"
        "          or (m.startswith('pb.') and m not in ours and not m.startswith('pb.tally.'))]\n"
        "print(json.dumps(loaded), file=sys.stderr)\n"
        "import os\n"
        "print(os.environ.get('OPENBLAS_NUM_THREADS'), file=sys.stderr)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=env,
    )
    assert json.loads(proc.stdout)["selected"] == ["a"]
    *_, loaded, blas_threads = proc.stderr.strip().splitlines()
    assert json.loads(loaded) == []
    # One BLAS thread (unless set otherwise): idle OpenBLAS workers would bill CPU time.
    assert blas_threads == "1"
    # The installed `pb` script takes the same path.
    pb = Path(sys.executable).with_name("pb")
    done = subprocess.run(
        [str(pb), "tally", str(path), "--json"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and json.loads(done.stdout)["selected"] == ["a"]


def test_every_command_is_listed_and_web_commands_still_load_the_app() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    for name in ("db", "demo", "init-secrets", "mail", "routes", "run", "shell", "tally", "users"):
        assert f"  {name} " in result.output, name
    result = CliRunner().invoke(main, ["tally", "--help"])
    assert result.exit_code == 0 and "--seed TEXT" in result.output
    result = CliRunner().invoke(main, ["db", "--help"])
    assert result.exit_code == 0 and "upgrade" in result.output and "current" in result.output
