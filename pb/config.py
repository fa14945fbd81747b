"""Every setting pb reads, with its default, in one table.

Order of precedence (later wins): the defaults below, ``instance/config.py``,
``PB_*`` environment variables, then the ``test_config`` passed to ``create_app``.
Unknown keys are warned about; a missing or weak secret key refuses to start
outside development and tests.
"""

from __future__ import annotations

import os
import re
import secrets
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ConfigError(RuntimeError):
    """The configuration cannot work; the message says what to change."""


def _bool(value: str) -> bool:
    v = value.strip().lower()
    if v in {"1", "true", "yes", "on"}:
        return True
    if v in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _synchronous(value: str) -> str:
    v = value.strip().upper()
    if v not in {"FULL", "NORMAL", "EXTRA"}:
        raise ValueError(f"not FULL, NORMAL or EXTRA: {value!r}")
    return v


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    parse: Callable[[str], Any]
    doc: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "ENV",
        "production",
        str,
        "`production`, `development` or `test`. Production refuses a missing or weak "
        "secret key and sets secure cookies.",
    ),
    Setting(
        "INSTANCE_PATH",
        None,
        str,
        "Folder for the deployment's own files (config.py, secrets, SQLite database, "
        "uploads). Default: `instance/` in the repository. Read from the environment only.",
    ),
    Setting(
        "SECRET_KEY",
        None,
        str,
        "Signs sessions, CSRF tokens and links. At least 32 characters. When absent, "
        "development and `pb demo` generate one into `instance/secret_key`; production "
        "reads that file or refuses to start.",
    ),
    Setting(
        "VOTING_CODE_PEPPER",
        None,
        str,
        "Key of the HMAC under which voting codes are stored. Generated into "
        "`instance/voting_pepper` like the secret key; never change it during a vote.",
    ),
    Setting(
        "DATABASE_URL",
        None,
        str,
        "SQLAlchemy URL. Default: SQLite file `instance/pb.sqlite3`. PostgreSQL: "
        "`postgresql+psycopg://user@host/db`.",
    ),
    Setting(
        "SQLITE_SYNCHRONOUS",
        "NORMAL",
        _synchronous,
        "SQLite only: `NORMAL` keeps every commit through a crash of pb (tested by "
        "benchmarks/crash.py) but may lose the last ones to a power cut; `FULL` syncs the "
        "write-ahead log to disk at every commit, so a receipt shown survives that too, at the "
        "cost of one disk flush per commit (see docs/operations.md).",
    ),
    Setting("SQL_ECHO", False, _bool, "Log every SQL statement (debugging)."),
    Setting("DEFAULT_LOCALE", "sv", str, "Language when the browser states none we have."),
    Setting("TIMEZONE", "Europe/Stockholm", str, "Time zone in which dates are shown and entered."),
    Setting(
        "BASE_URL",
        "http://127.0.0.1:5000",
        str,
        "Public address of the site, used in e-mails and printed letters.",
    ),
    Setting(
        "SESSION_COOKIE_SECURE",
        None,
        _bool,
        "Send cookies over HTTPS only. Default: on in production, off otherwise.",
    ),
    Setting(
        "MAX_CONTENT_LENGTH",
        8 * 1024 * 1024,
        int,
        "Largest request body in bytes (uploads included); larger gets a 413 page.",
    ),
    Setting(
        "ARGON2_MEMORY_KIB",
        65536,
        int,
        "Memory per password hash (argon2id, KiB). The default is RFC 9106's second "
        "recommendation (64 MiB); existing hashes are upgraded at the next log-in.",
    ),
    Setting("ARGON2_TIME_COST", 3, int, "Passes per password hash (argon2id)."),
    Setting(
        "LOGIN_MAX_ATTEMPTS",
        5,
        int,
        "Failed log-ins allowed per e-mail address and per IP address in one window.",
    ),
    Setting("LOGIN_WINDOW_SECONDS", 15 * 60, int, "Length of the log-in rate-limit window."),
    Setting(
        "REGISTER_MAX_PER_IP",
        10,
        int,
        "Registrations (e-mails asking to confirm an address) allowed from one IP address in "
        "one window.",
    ),
    Setting(
        "REGISTER_MAX_TOTAL",
        300,
        int,
        "Registrations allowed from all addresses together in one window (a brake on mass "
        "sign-ups and on mail sent to strangers).",
    ),
    Setting(
        "REGISTER_WINDOW_SECONDS", 60 * 60, int, "Length of the registration rate-limit window."
    ),
    Setting(
        "VOTING_EMAIL_MAX_PER_IP",
        30,
        int,
        "Links asking for a voting code by e-mail allowed from one IP address in an hour (a "
        "school or library behind one address needs room).",
    ),
    Setting(
        "VOTING_EMAIL_MAX_TOTAL",
        2000,
        int,
        "Links asking for a voting code by e-mail allowed from all addresses together in an hour.",
    ),
    Setting(
        "TRUSTED_PROXIES",
        0,
        int,
        "How many proxies in front of pb add an `X-Forwarded-For` (and `X-Forwarded-Proto`) "
        "header; the client's IP address, which rate limits count by, is read from them. "
        "0: pb is reached directly and such headers are ignored (anyone could forge them).",
    ),
    Setting("MAIL_SERVER", "127.0.0.1", str, "SMTP host for outgoing mail."),
    Setting("MAIL_PORT", 25, int, "SMTP port."),
    Setting("MAIL_USE_TLS", False, _bool, "Use STARTTLS."),
    Setting("MAIL_USERNAME", None, str, "SMTP user name, if the server wants one."),
    Setting("MAIL_PASSWORD", None, str, "SMTP password."),
    Setting("MAIL_FROM", "pb <noreply@localhost>", str, "Sender of pb's e-mails."),
    Setting("MAIL_MAX_ATTEMPTS", 8, int, "Tries per e-mail before the outbox gives up."),
    Setting(
        "PROPOSALS_PER_PERSON",
        5,
        int,
        "Most proposals one person may submit to one process (drafts not counted).",
    ),
    Setting(
        "REPORTS_TO_HIDE",
        3,
        int,
        "Reports from distinct people after which content is hidden until an official looks.",
    ),
    Setting("UPLOAD_MAX_BYTES", 5 * 1024 * 1024, int, "Largest image (proposal, update, process)."),
    Setting("UPLOAD_DIR", None, str, "Folder for uploaded images. Default: `instance/uploads`."),
    Setting(
        "MAP_TILE_URL",
        "",
        str,
        "Map tiles for choosing a proposal's place, e.g. "
        "`https://tile.openstreetmap.org/{z}/{x}/{y}.png`. Empty: no map, the address field "
        "alone (nothing is loaded from other sites).",
    ),
    Setting(
        "PRIVACY_CONTROLLER",
        "",
        str,
        "Who is responsible for the personal data (GDPR's controller), named on the privacy "
        "page: the municipality, e.g. `Lunds kommun`.",
    ),
    Setting(
        "PRIVACY_CONTACT",
        "",
        str,
        "Where people ask about their data (the data protection officer's address), shown "
        "on the privacy page.",
    ),
    Setting(
        "PRIVACY_CODE_EMAIL_DAYS",
        30,
        int,
        "Days after a process's results are published until `pb privacy purge` deletes the "
        "record of which e-mail addresses got a voting code (the time to raise doubts about "
        "the vote).",
    ),
    Setting(
        "PRIVACY_FOLLOW_DAYS",
        730,
        int,
        "Days after a process's results are published until `pb privacy purge` deletes the "
        "addresses that follow its projects without an account (the follow-up of building "
        "them; they can stop following at any time).",
    ),
    Setting(
        "PRIVACY_SENT_MAIL_DAYS",
        30,
        int,
        "Days an e-mail (address, subject, text) stays in the outbox after it was sent or "
        "given up, until `pb privacy purge` deletes it.",
    ),
    Setting(
        "PAGE_CACHE_SECONDS",
        None,
        float,
        "Seconds each app process serves a public page it rendered (front page, a process, "
        "its proposals, the vote's start page, the results) again to visitors who are not logged in, with "
        "their own form token (pb/pagecache.py). 0 turns it off. Default: 2, and 0 under "
        "`ENV=test`.",
    ),
    Setting(
        "MAP_CENTER",
        "55.7047,13.1910",
        str,
        "Latitude,longitude where the map opens (Lund).",
    ),
    Setting(
        "MUNICIPALITY_NAME",
        "Lunds kommun",
        str,
        "The municipality running pb, shown in the header, the footer and page titles.",
    ),
    Setting(
        "MUNICIPALITY_LOGO",
        "",
        str,
        "Path of the municipality's logo (SVG or PNG), shown in the header and served from "
        "pb itself. Empty: the name alone.",
    ),
    Setting(
        "BRAND_COLOUR",
        "#005a9c",
        str,
        "Main colour (`#rrggbb`) of the header, buttons and links. It must reach a contrast "
        "of 4.5:1 with white text (WCAG 2.1 AA), or pb refuses to start.",
    ),
)

SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}

# Flask's own keys we set from ours; not warned about.
_FLASK_KEYS = {"TESTING", "DEBUG", "WTF_CSRF_ENABLED", "SERVER_NAME", "PREFERRED_URL_SCHEME"}

WEAK_KEYS = {"dev", "secret", "changeme", "change-me", "development", "test", "password"}
MIN_KEY_LENGTH = 32


def _read_instance_py(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    namespace: dict[str, Any] = {"__file__": str(path)}
    code = compile(path.read_text(encoding="utf-8"), str(path), "exec")
    exec(code, namespace)  # noqa: S102 - the deployment's own config file
    return {k: v for k, v in namespace.items() if k.isupper()}


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, raw in environ.items():
        if not key.startswith("PB_") or key in {"PB_TEST_DATABASE_URL", "PB_PABULIB_DIR"}:
            continue
        name = key[3:]
        setting = SETTINGS_BY_NAME.get(name)
        if setting is None:
            warnings.warn(f"unknown setting in environment: {key}", stacklevel=3)
            continue
        try:
            out[name] = setting.parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{key}: {exc}") from exc
    return out


def _secret_file(instance: Path, filename: str, generate: bool) -> str | None:
    path = instance / filename
    if path.is_file():
        return path.read_text(encoding="utf-8").strip() or None
    if not generate:
        return None
    instance.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value + "\n")
    return value


def is_weak(key: str | None) -> bool:
    return key is None or len(key) < MIN_KEY_LENGTH or key.lower() in WEAK_KEYS or len(set(key)) < 8


def load(
    instance_path: Path,
    test_config: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Build the configuration dictionary in the documented order and validate it."""
    config: dict[str, Any] = {s.name: s.default for s in SETTINGS}
    layers = [
        _read_instance_py(instance_path / "config.py"),
        _from_env(os.environ if environ is None else environ),
        dict(test_config or {}),
    ]
    for layer in layers:
        for key in layer:
            if key not in SETTINGS_BY_NAME and key not in _FLASK_KEYS:
                warnings.warn(f"unknown setting: {key}", stacklevel=2)
        config.update(layer)

    env = config["ENV"]
    if env not in {"production", "development", "test"}:
        raise ConfigError(f"ENV must be production, development or test, not {env!r}")
    generate = env != "production"
    for key, filename in (("SECRET_KEY", "secret_key"), ("VOTING_CODE_PEPPER", "voting_pepper")):
        if not config[key]:
            config[key] = _secret_file(instance_path, filename, generate)
        if env == "production" and is_weak(config[key]):
            raise ConfigError(
                f"{key} is missing or weak (it needs at least {MIN_KEY_LENGTH} random "
                f"characters). Set PB_{key}, or run `pb init-secrets` to write "
                f"instance/{filename}."
            )
    if config["DATABASE_URL"] is None:
        config["DATABASE_URL"] = "sqlite:///" + str(instance_path / "pb.sqlite3")
    if config["UPLOAD_DIR"] is None:
        config["UPLOAD_DIR"] = str(instance_path / "uploads")
    if config["PAGE_CACHE_SECONDS"] is None:
        config["PAGE_CACHE_SECONDS"] = 0.0 if env == "test" else 2.0
    if not 0 <= float(config["PAGE_CACHE_SECONDS"]) <= 60:
        raise ConfigError("PAGE_CACHE_SECONDS must be between 0 (off) and 60")
    if config["SESSION_COOKIE_SECURE"] is None:
        config["SESSION_COOKIE_SECURE"] = env == "production"
    if config["DEFAULT_LOCALE"] not in {"sv", "en"}:
        raise ConfigError("DEFAULT_LOCALE must be sv or en")
    colour = str(config["BRAND_COLOUR"]).strip().lower()
    if not re.fullmatch(r"#[0-9a-f]{6}", colour):
        raise ConfigError(f"BRAND_COLOUR must be written #rrggbb, not {colour!r}")
    if contrast(colour, "#ffffff") < 4.5:
        raise ConfigError(
            f"BRAND_COLOUR {colour} is too light: white text on it has a contrast of "
            f"{contrast(colour, '#ffffff'):.2f}:1, WCAG 2.1 AA needs 4.5:1. Choose a darker shade."
        )
    config["BRAND_COLOUR"] = colour
    return config


def _luminance(colour: str) -> float:
    def channel(hex2: str) -> float:
        c = int(hex2, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG 2.1 contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def init_secrets(instance_path: Path) -> list[str]:
    """Write missing secret files into the instance folder; return the names written."""
    written = []
    for filename in ("secret_key", "voting_pepper"):
        if not (instance_path / filename).exists():
            _secret_file(instance_path, filename, generate=True)
            written.append(filename)
    return written
