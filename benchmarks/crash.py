"""Crash safety: SIGKILL the server at random moments while voters cast, and lose nothing.

    .venv/bin/python benchmarks/crash.py [--engine sqlite|postgresql] [--kills 20]
        [--voters 8] [--port 5310] [--workers 2] [--threads 4] [--seed N]
        [--pg-url postgresql+psycopg://...]

It builds a throwaway database with the real migrations (a SQLite file, run with
``synchronous=FULL``, or a fresh PostgreSQL database), a process in its voting phase and
real codes, as ``benchmarks/voting.py`` does. Then it serves pb with gunicorn on 127.0.0.1,
``--voters`` clients cast ballots with their own codes (a client whose request fails
reconnects and sends the same code again: a cast whose answer was lost shows up as "code
already used"), and an official's client keeps making audited requests (a refused edit of
the frozen rules is recorded in the audit log, in a transaction of its own). ``--kills``
times, at a random moment, the whole server (master and workers) is killed with SIGKILL and
started again. Ballots are mixed in batches during the run (after casts, as pb does), so
kills land in casting and in mixing transactions alike.

Afterwards, with the server stopped, it checks: every receipt a client was shown is in the
count; used codes = ballots + held ballots not yet mixed (before and after mixing
everything); every code whose receipt a client holds is used; no receipt is both held and
mixed, or mixed twice; the database's integrity check passes (SQLite ``integrity_check``
and ``foreign_key_check``; PostgreSQL amcheck's ``bt_index_check`` on every index); and
``pb audit verify`` passes. ``lost`` counts ballots gone (receipts not in the count, or used
codes without a ballot, whichever is more) and receipted codes left unused; ``duplicated``
counts ballots without a used code, or receipts held and mixed or mixed twice.

The last line is JSON: {"engine", "kills", "receipts", "counted", "lost", "duplicated",
"used_codes", "integrity", "audit_verify", "audit_entries", "unanswered", "refused",
"audited_requests", "seconds"}.
``unanswered`` is how many casts were committed but their answer was lost to a kill (the
voter saw no receipt; the ballot counts).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from benchmarks.voting import SLUG, Client, _setup, benchmark_process

ROOT = Path(__file__).resolve().parent.parent

ADMIN = {"email": "bench@example.org", "password": "bench-pass-123"}  # made by _setup
DOWN = (OSError, http.client.HTTPException)


class Server:
    """gunicorn in a process group of its own, so that one SIGKILL takes all of it."""

    def __init__(self, port: int, env: dict[str, str], workers: int, threads: int) -> None:
        self.port, self.env, self.workers, self.threads = port, env, workers, threads
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90) -> None:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.proc = subprocess.Popen(
            [str(gunicorn), "-w", str(self.workers), "-k", "gthread", "--threads",
             str(self.threads), "-b", f"127.0.0.1:{self.port}", "--log-level", "critical",
             "pb:create_app()"],
            env=self.env, cwd=str(ROOT), start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            probe = Client(self.port)
            try:
                probe.request("GET", "/")
                return
            except DOWN:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.1)
            finally:
                probe.conn.close()

    def kill(self) -> None:
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


@dataclass
class Tally:
    receipts: dict[str, str] = field(default_factory=dict)  # code -> receipt shown
    unanswered: list[str] = field(default_factory=list)  # cast, answer lost: "already used"
    refused: list[str] = field(default_factory=list)  # anything else that gave up
    audited: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _reconnect(client: Client) -> Client:
    """A new connection with the same session cookie: the session, its CSRF token and a
    log-in outlive a restart (they are signed with the instance's secret key)."""
    client.conn.close()
    time.sleep(0.05)
    fresh = Client(client.conn.port)
    fresh.cookie = client.cookie
    return fresh


def _token(client: Client, path: str) -> str:
    page = client.request("GET", path)
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    return m.group(1) if m else ""


def _voter(port: int, codes: list[str], tally: Tally, stop: threading.Event) -> None:
    client, token = Client(port), ""
    try:
        for n, code in enumerate(codes):
            picks = [f"|B{(n + k) % 8}" for k in range(2)]
            while not stop.is_set():
                try:
                    if not token:
                        token = _token(client, f"/p/{SLUG}/vote?lang=en")
                    html = client.request("POST", f"/p/{SLUG}/vote/ballot?lang=en", {
                        "code": code, "pick": picks, "action": "cast", "csrf_token": token,
                    })  # fmt: skip
                except DOWN:  # the server died under us: reconnect, send the same code again
                    client = _reconnect(client)
                    continue
                m = re.search(r'id="receipt">([^<]+)<', html)
                with tally.lock:
                    if m:
                        tally.receipts[code] = m.group(1).strip()
                    elif client.status == 409 and "already" in html:
                        tally.unanswered.append(code)
                    elif client.status >= 500 or client.status == 409:
                        continue  # busy or half-started server: the same code again
                    else:
                        tally.refused.append(f"{client.status}")
                break
            if stop.is_set():
                return
    finally:
        client.conn.close()


def _official(port: int, tally: Tally, stop: threading.Event) -> None:
    """Log in as the admin and keep trying to edit the frozen rules: each try is refused
    and recorded in the audit log in a transaction of its own."""
    client, token = Client(port), ""
    while not stop.is_set():
        try:
            if not token:
                login = _token(client, "/account/login?lang=en")
                client.request("POST", "/account/login?lang=en",
                               {**ADMIN, "csrf_token": login})  # fmt: skip
                token = _token(client, f"/admin/processes/{SLUG}/edit?lang=en")
            client.request("POST", f"/admin/processes/{SLUG}/edit?lang=en",
                           {"csrf_token": token, "title_sv": "Ändrad"})  # fmt: skip
            if client.status == 409:
                with tally.lock:
                    tally.audited += 1
            elif client.status < 500:
                token = ""  # logged out or a stale token: log in again
            time.sleep(0.05)
        except DOWN:
            client = _reconnect(client)
    client.conn.close()


def _integrity(engine: sa.Engine) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            check = conn.exec_driver_sql("PRAGMA integrity_check").scalar()
            orphans = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
            return "ok" if check == "ok" and not orphans else f"{check}; {len(orphans)} orphans"
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS amcheck")
        indexes = conn.exec_driver_sql(
            "SELECT c.oid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE a.amname = 'btree' AND n.nspname = 'public'"
        ).scalars().all()  # fmt: skip
        for index in indexes:
            conn.exec_driver_sql(f"SELECT bt_index_check('{index}'::regclass, true)")
        conn.commit()
        return "ok" if indexes else "no indexes"


def _check(url: str, instance: Path, tally: Tally) -> dict[str, Any]:
    from pb.db import get_engine
    from pb.voting import codes, services
    from pb.voting.models import Ballot, HeldBallot, VotingCode

    with benchmark_process(url, instance) as (session, process):
        integrity = _integrity(get_engine())

        def receipts_in(model: Any) -> list[str]:
            return list(session.scalars(sa.select(model.receipt_digest)))

        before = services.counts(session, process.id)
        held, mixed = receipts_in(HeldBallot), receipts_in(Ballot)
        duplicated = len(mixed) - len(set(mixed)) + len(set(held) & set(mixed))
        digests = [codes.digest(services.pepper(), c) for c in tally.receipts]
        unused = session.scalar(
            sa.select(sa.func.count()).select_from(VotingCode).where(
                VotingCode.digest.in_(digests), VotingCode.used.is_(False))
        ) or 0  # fmt: skip
        gap = before["used_codes"] - before["ballots"] - before["held"]
        services.mix(session, process.id, everything=True)  # as the count does
        session.commit()
        after = services.counts(session, process.id)
        counted_receipts = set(receipts_in(Ballot))
        missing = sum(
            1 for r in tally.receipts.values()
            if codes.digest(services.pepper(), r, purpose="receipt") not in counted_receipts
        )  # fmt: skip
        gap_after = after["used_codes"] - after["ballots"]
        session.close()
        get_engine().dispose()
    verify = subprocess.run(
        [str(Path(sys.executable).with_name("pb")), "audit", "verify"],
        env={**os.environ, "PB_DATABASE_URL": url, "PB_INSTANCE_PATH": str(instance),
             "PB_ENV": "development"},
        capture_output=True, text=True, check=False, cwd=str(ROOT),
    )  # fmt: skip
    entries = re.search(r"intact: (\d+) entries", verify.stdout)
    return {
        "counted": after["ballots"],
        # A ballot gone shows as a receipt not counted, a used code without a ballot, or
        # both: counted once. A receipted code left unused is a loss of its own.
        "lost": max(missing, gap, gap_after, 0) + unused,
        "duplicated": max(duplicated, -gap, -gap_after, 0),
        "used_codes": after["used_codes"],
        "integrity": integrity,
        "audit_verify": "ok" if verify.returncode == 0 else (verify.stderr or verify.stdout)[-500:],
        "audit_entries": int(entries.group(1)) if entries else None,
    }


def run(
    engine: str = "sqlite",
    kills: int = 20,
    *,
    voters: int = 8,
    port: int = 5310,
    workers: int = 2,
    threads: int = 4,
    seed: int | None = None,
    pg_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    gap: tuple[float, float] = (0.5, 3.0),
    codes_per_voter: int = 400,
) -> dict[str, Any]:
    """Serve, cast, kill ``kills`` times, restart each time; then check. The result's
    figures are as described in the module's docstring."""
    rng = random.Random(seed)
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="pb-crash-"))
    instance = tmp / "instance"
    admin_engine = None
    if engine == "sqlite":
        url = "sqlite:///" + str(tmp / "crash.sqlite3")
    else:
        name = f"pb_crash_{uuid.uuid4().hex[:8]}"
        admin_engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.engine.make_url(pg_url).set(database=name).render_as_string(False)
    try:
        codes = _setup(url, instance, voters * codes_per_voter)
        env = {**os.environ, "PB_INSTANCE_PATH": str(instance), "PB_DATABASE_URL": url,
               "PB_ENV": "development", "PB_SQLITE_SYNCHRONOUS": "FULL",
               "PYTHONPATH": str(ROOT)}  # fmt: skip
        server = Server(port, env, workers, threads)
        tally, stop = Tally(), threading.Event()
        server.start()
        clients = [threading.Thread(target=_voter, args=(port, codes[i::voters], tally, stop))
                   for i in range(voters)]  # fmt: skip
        clients.append(threading.Thread(target=_official, args=(port, tally, stop)))
        for t in clients:
            t.start()
        try:
            for k in range(kills):
                time.sleep(rng.uniform(*gap))
                server.kill()
                print(f"kill {k + 1}/{kills}: {len(tally.receipts)} receipts so far",
                      file=sys.stderr)  # fmt: skip
                server.start()
            time.sleep(rng.uniform(*gap))  # some casting after the last restart
        finally:
            stop.set()
            for t in clients:
                t.join(timeout=120)
            server.stop()
        result = {"engine": engine, "kills": kills, "receipts": len(tally.receipts)}
        result |= _check(url, instance, tally)
        result["unanswered"] = len(tally.unanswered)
        result["refused"] = len(tally.refused)
        result["audited_requests"] = tally.audited
        result["seconds"] = round(time.monotonic() - started, 1)
        return result
    finally:
        if admin_engine is not None:
            with admin_engine.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin_engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--voters", type=int, default=8)
    parser.add_argument("--port", type=int, default=5310)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    result = run(args.engine, args.kills, voters=args.voters, port=args.port,
                 workers=args.workers, threads=args.threads, seed=args.seed,
                 pg_url=args.pg_url)  # fmt: skip
    print(json.dumps(result))
    ok = (result["lost"] == 0 and result["duplicated"] == 0 and result["integrity"] == "ok"
          and result["audit_verify"] == "ok")  # fmt: skip
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
