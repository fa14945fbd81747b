"""Casting ballots through gunicorn on loopback, against a bare durable insert.

    .venv/bin/python benchmarks/voting.py [--engine sqlite|postgresql] [--voters 20]
        [--ballots 600] [--port 5401] [--workers 2] [--pg-url postgresql+psycopg://...]

It builds a throwaway database with the real migrations (a SQLite file, or a fresh
PostgreSQL database), a process in its voting phase with projects, and issues real codes.
Then it serves pb with gunicorn on 127.0.0.1 and ``--voters`` concurrent clients each fetch
the ballot page (session cookie and CSRF token) and cast ballots with their own codes, one
HTTP keep-alive connection per client, timing every cast. In the same run it measures a bare
durable insert: the same number of threads each inserting and committing one row at a time
into a table of the same engine (same pragmas). Afterwards everything held is mixed, and it
checks that every receipt handed out is found and that used codes = ballots.

The last line is JSON: {"engine", "casts_per_s", "bare_inserts_per_s", "ratio", "p99_ms",
"ballots", "receipts", "used_codes", "lost"}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

SLUG = "bench-vote"
PROJECTS = [(f"B{i}", f"Projekt {i}", 10_000 * (i + 1)) for i in range(8)]


def _setup(url: str, instance: Path, ballots: int) -> list[str]:
    os.environ["PB_INSTANCE_PATH"] = str(instance)
    from pb import create_app
    from pb.accounts import services as accounts
    from pb.accounts.models import Role
    from pb.db import get_engine, get_session, utcnow
    from pb.migrate import upgrade
    from pb.processes import services as processes
    from pb.processes.models import CodeChannel, PhaseKind
    from pb.proposals.models import Project
    from pb.voting import services

    app = create_app({"ENV": "development", "DATABASE_URL": url})
    with app.test_request_context():
        upgrade(get_engine())
        session = get_session()
        admin = accounts.register(session, email="bench@example.org", password="bench-pass-123",
                                  display_name="Bench", role=Role.ADMIN)  # fmt: skip
        now = utcnow()
        phases = {}
        start = now - dt.timedelta(days=70)
        for kind in PhaseKind:
            phases[kind] = (start, start + dt.timedelta(days=30))
            start += dt.timedelta(days=30)
        changes = processes.ProcessChanges(
            fields=dict(
                slug=SLUG, published=True, title_sv="Bänk", title_en="Bench", purpose_sv="x",
                purpose_en="x", question_sv="", question_en="", influence_level="co-creation",
                decision_body_sv="Nämnden", decision_body_en="", decision_date=None,
                decision_text_sv="x", decision_text_en="", budget=200_000, min_age=12,
                connections=["lives"], other_connection_sv="", other_connection_en="",
                area_restricted=False, code_channels=["school"], ballot_type="approval-budget",
                max_projects=None, min_projects=1, min_budget_share_pct=None, points_total=None,
                max_points_per_project=None, counting_rule="greedy", tie_break="lexicographic",
                lottery_seed=None,
            ),
            areas=[], categories=[], phases=phases,
        )  # fmt: skip
        process = processes.create_process(session, changes, admin)
        for i, (code, title, cost) in enumerate(PROJECTS):
            session.add(Project(process_id=process.id, code=code, title=title, cost=cost,
                                position=i))  # fmt: skip
        issued = services.issue_codes(
            session, process, count=ballots, channel=CodeChannel.SCHOOL, purpose="bench",
            actor=admin, now=now,
        )  # fmt: skip
        session.commit()
        get_engine().dispose()
    return issued.codes


class Client:
    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie = ""

    def request(self, method: str, path: str, body: dict[str, object] | None = None) -> str:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=data, headers=headers)
        resp = self.conn.getresponse()
        text = resp.read().decode()
        cookie = resp.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        self.status = resp.status
        return text


def _cast_all(port: int, codes: list[str], voters: int) -> tuple[float, list[float], list[str]]:
    latencies: list[float] = []
    receipts: list[str] = []
    failures: list[str] = []
    lock = threading.Lock()
    chunks = [codes[i::voters] for i in range(voters)]
    barrier = threading.Barrier(voters + 1)

    def run(mine: list[str]) -> None:
        client = Client(port)
        page = client.request("GET", f"/p/{SLUG}/vote?lang=en")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        barrier.wait()
        for n, code in enumerate(mine):
            picks = [f"|B{(n + k) % 8}" for k in range(2)]
            started = time.perf_counter()
            html = client.request("POST", f"/p/{SLUG}/vote/ballot?lang=en", {
                "code": code, "pick": picks, "action": "cast",
                "csrf_token": token.group(1) if token else "",
            })  # fmt: skip
            took = time.perf_counter() - started
            m = re.search(r'id="receipt">([^<]+)<', html)
            with lock:
                latencies.append(took)
                if m:
                    receipts.append(m.group(1).strip())
                else:
                    failures.append(f"{client.status}")

    threads = [threading.Thread(target=run, args=(c,)) for c in chunks]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    if failures:
        print(f"failed casts: {len(failures)} (statuses {sorted(set(failures))})", file=sys.stderr)
    return wall, latencies, receipts


def _bare_inserts(url: str, total: int, threads: int) -> float:
    from pb.db import make_engine

    engine = make_engine(url)
    table = f"bench_bare_{uuid.uuid4().hex[:6]}"
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE {table} (id VARCHAR(32) PRIMARY KEY, payload TEXT)"))
    engine.dispose()
    engine = sa.create_engine(url, pool_size=threads, max_overflow=0,
                              connect_args={"timeout": 30} if url.startswith("sqlite") else {})  # fmt: skip
    if url.startswith("sqlite"):
        from sqlalchemy import event

        from pb.db import _sqlite_pragmas

        event.listen(engine, "connect", _sqlite_pragmas)
    barrier = threading.Barrier(threads + 1)

    def run(n: int) -> None:
        with engine.connect() as conn:
            barrier.wait()
            for _ in range(n):
                conn.execute(sa.text(f"INSERT INTO {table} VALUES (:id, :p)"),
                             {"id": uuid.uuid4().hex, "p": '{"choices": []}'})  # fmt: skip
                conn.commit()

    per = total // threads
    ts = [threading.Thread(target=run, args=(per,)) for _ in range(threads)]
    for t in ts:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in ts:
        t.join()
    wall = time.perf_counter() - started
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE {table}"))
    engine.dispose()
    return per * threads / wall


def _check(url: str, instance: Path, receipts: list[str]) -> dict[str, int]:
    os.environ["PB_INSTANCE_PATH"] = str(instance)
    from pb import create_app
    from pb.db import get_engine, get_session
    from pb.processes import services as processes
    from pb.voting import services

    app = create_app({"ENV": "development", "DATABASE_URL": url})
    with app.test_request_context():
        session = get_session()
        process = processes.get_by_slug(session, SLUG)
        assert process is not None
        services.mix(session, process.id, everything=True)
        session.commit()
        found = sum(1 for r in receipts if services.receipt_found(session, process, r))
        counts = services.counts(session, process.id)
        get_engine().dispose()
    return {
        "ballots": counts["ballots"],
        "receipts": len(receipts),
        "used_codes": counts["used_codes"],
        "lost": (len(receipts) - found) + abs(counts["used_codes"] - counts["ballots"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--voters", type=int, default=20)
    parser.add_argument("--ballots", type=int, default=600)
    parser.add_argument("--port", type=int, default=5401)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=10)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="pb-bench-vote-"))
    instance = tmp / "instance"
    admin_engine = None
    if args.engine == "sqlite":
        url = "sqlite:///" + str(tmp / "bench.sqlite3")
    else:
        name = f"pb_bench_{uuid.uuid4().hex[:8]}"
        admin_engine = sa.create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.engine.make_url(args.pg_url).set(database=name).render_as_string(False)
    codes = _setup(url, instance, args.ballots)
    env = {**os.environ, "PB_INSTANCE_PATH": str(instance), "PB_DATABASE_URL": url,
           "PB_ENV": "development"}  # fmt: skip
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "-w", str(args.workers), "-k", "gthread", "--threads", str(args.threads),
         "-b", f"127.0.0.1:{args.port}", "--log-level", "warning", "pb:create_app()"],
        env=env, cwd=str(Path(__file__).resolve().parent.parent),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                Client(args.port).request("GET", "/")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.3)
        wall, latencies, receipts = _cast_all(args.port, codes, args.voters)
    finally:
        server.terminate()
        server.wait(timeout=30)
    bare = _bare_inserts(url, args.ballots, args.voters)
    result = _check(url, instance, receipts)
    if admin_engine is not None:
        with admin_engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    casts = len(receipts) / wall
    print(f"{len(receipts)} casts by {args.voters} clients in {wall:.2f} s; "
          f"bare inserts {bare:.0f}/s", file=sys.stderr)  # fmt: skip
    print(json.dumps({
        "engine": args.engine, "casts_per_s": round(casts, 1),
        "bare_inserts_per_s": round(bare, 1), "ratio": round(casts / bare, 3),
        "p99_ms": round(p99, 1), **result,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
