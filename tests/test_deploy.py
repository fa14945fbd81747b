"""Production shape: gunicorn with several worker processes on one database. State that must
be shared (sessions, rate limits) is, because the processes keep none of their own."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from pb.config import init_secrets


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _opener() -> urllib.request.OpenerDirector:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)


def _post(opener: Any, url: str, data: dict[str, str]) -> int:
    body = urllib.parse.urlencode(data).encode()
    try:
        with opener.open(urllib.request.Request(url, data=body), timeout=10) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _get(opener: Any, url: str) -> tuple[int, str]:
    try:
        with opener.open(url, timeout=10) as r:
            return int(r.status), r.read().decode()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode()


def test_gunicorn_workers_share_sessions_and_rate_limits(
    app: Any, users: Any, database_url: str, tmp_path: Path
) -> None:
    instance = tmp_path / "prod-instance"
    init_secrets(instance)
    port = _free_port()
    env = {
        **os.environ,
        "PB_ENV": "production",
        "PB_INSTANCE_PATH": str(instance),
        "PB_DATABASE_URL": database_url,
        "PB_SESSION_COOKIE_SECURE": "false",  # plain http on loopback in this test
        "PB_LOGIN_MAX_ATTEMPTS": "3",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen(
        [str(gunicorn), "-w", "3", "-b", f"127.0.0.1:{port}", "pb:create_app()"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _get(_opener(), base + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                out = proc.stdout.read().decode() if proc.stdout else ""
                pytest.fail(f"gunicorn did not start: {out[-2000:]}")
            time.sleep(0.2)

        # A session made by one worker is honoured by the others.
        browser = _opener()
        _, page = _get(browser, base + "/account/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert token
        assert _post(browser, base + "/account/login", {
            "csrf_token": token.group(1), "email": "admin@example.org", "password": "password-admin",
        }) == 303  # fmt: skip
        for _ in range(6):  # new connections, spread over the workers
            assert _get(browser, base + "/admin/processes/")[0] == 200

        # Failed log-ins counted by any worker stop the next attempt on every worker.
        codes = []
        for _ in range(5):
            other = _opener()
            _, page = _get(other, base + "/account/login")
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
            assert token
            codes.append(_post(other, base + "/account/login", {
                "csrf_token": token.group(1), "email": "participant@example.org", "password": "wrong",
            }))  # fmt: skip
        assert codes == [400, 400, 400, 429, 429]
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
        if any(line.startswith("Traceback") for line in out.decode().splitlines()):
            print(out.decode()[-5000:])
