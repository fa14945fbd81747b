"""The `pb` command is Flask's CLI bound to the factory, plus pb's own commands."""

from __future__ import annotations

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
