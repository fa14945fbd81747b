"""Configuration: precedence, secret generation, and refusal of weak keys in production."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pb import ROOT, config, create_app
from pb.config import ConfigError


def test_defaults_then_instance_file_then_env_then_test_config(tmp_path: Path) -> None:
    (tmp_path / "config.py").write_text("MAIL_PORT = 2525\nPROPOSALS_PER_PERSON = 7\n")
    env = {"PB_PROPOSALS_PER_PERSON": "9", "PB_ENV": "development"}
    cfg = config.load(tmp_path, {"REPORTS_TO_HIDE": 4}, environ=env)
    assert cfg["MAIL_PORT"] == 2525  # instance file over default
    assert cfg["PROPOSALS_PER_PERSON"] == 9  # environment over instance file
    assert cfg["REPORTS_TO_HIDE"] == 4  # test config over everything
    assert cfg["DEFAULT_LOCALE"] == "sv"  # default kept


def test_env_values_are_parsed_and_bad_ones_refused(tmp_path: Path) -> None:
    cfg = config.load(tmp_path, environ={"PB_ENV": "test", "PB_MAIL_USE_TLS": "yes"})
    assert cfg["MAIL_USE_TLS"] is True
    with pytest.raises(ConfigError, match="PB_MAIL_PORT"):
        config.load(tmp_path, environ={"PB_ENV": "test", "PB_MAIL_PORT": "many"})


def test_unknown_keys_are_warned_about(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="PB_NO_SUCH_THING"):
        config.load(tmp_path, environ={"PB_ENV": "test", "PB_NO_SUCH_THING": "1"})
    with pytest.warns(UserWarning, match="TYPO_KEY"):
        config.load(tmp_path, {"TYPO_KEY": 1}, environ={"PB_ENV": "test"})


def test_development_generates_secrets_into_instance_once(tmp_path: Path) -> None:
    cfg = config.load(tmp_path, environ={"PB_ENV": "development"})
    key_file = tmp_path / "secret_key"
    assert key_file.read_text().strip() == cfg["SECRET_KEY"]
    assert len(cfg["SECRET_KEY"]) >= 32
    assert (tmp_path / "voting_pepper").read_text().strip() == cfg["VOTING_CODE_PEPPER"]
    assert key_file.stat().st_mode & 0o077 == 0  # readable by the owner only
    again = config.load(tmp_path, environ={"PB_ENV": "development"})
    assert again["SECRET_KEY"] == cfg["SECRET_KEY"]


@pytest.mark.parametrize("key", [None, "dev", "short-key", "a" * 40, "changeme" * 5])
def test_production_refuses_missing_or_weak_key(tmp_path: Path, key: str | None) -> None:
    env = {
        "PB_ENV": "production",
        "PB_VOTING_CODE_PEPPER": "p" + "0123456789abcdefghijklmnopqrstuv",
    }
    if key is not None:
        env["PB_SECRET_KEY"] = key
    with pytest.raises(ConfigError, match="SECRET_KEY is missing or weak"):
        config.load(tmp_path, environ=env)
    assert not (tmp_path / "secret_key").exists()  # production never invents a key


def test_production_accepts_strong_keys_and_secures_cookies(tmp_path: Path) -> None:
    config.init_secrets(tmp_path)
    cfg = config.load(tmp_path, environ={"PB_ENV": "production"})
    assert cfg["SESSION_COOKIE_SECURE"] is True
    assert cfg["DATABASE_URL"].startswith("sqlite:///")


def test_create_app_refuses_weak_key_in_production(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PB_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PB_ENV", "production")
    monkeypatch.setenv("PB_SECRET_KEY", "dev")
    with pytest.raises(ConfigError):
        create_app()


def test_every_setting_is_documented_in_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\|\s*`PB_([A-Z0-9_]+)`", readme, re.M))
    missing = {s.name for s in config.SETTINGS} - documented
    assert not missing, f"settings missing from README's configuration table: {sorted(missing)}"
    stale = documented - {s.name for s in config.SETTINGS}
    assert not stale, f"README documents settings that do not exist: {sorted(stale)}"
