"""Casting ballots through gunicorn on loopback, against a bare durable insert.

    .venv/bin/python benchmarks/voting.py [--engine sqlite|postgresql] [--voters 20]
        [--ballots 600] [--warmup 2] [--port 5401] [--workers 2|4] [--threads 1]
        [--worker-class sync|gthread]
        [--pg-url postgresql+psycopg://...] [--pg-prefix pb_bench_]
        [--sqlite-synchronous NORMAL|FULL|EXTRA]

It builds a throwaway database with the real migrations (a SQLite file, or a fresh
PostgreSQL database), a process in its voting phase with projects, and issues real codes.
Then it serves pb with gunicorn on 127.0.0.1 as the deployment docs show it: gunicorn's
sync workers (one request at a time per process, no keep-alive: each cast opens a TCP
connection), 2 of them on SQLite (docs/operations.md) and 4 on PostgreSQL (README); or
with ``--worker-class gthread --threads N`` threaded workers (until 1 December 2026 the
default was ``--worker-class gthread --workers 2 --threads 2``). ``--voters`` concurrent
clients each fetch the ballot page (session cookie and CSRF token), cast ``--warmup``
ballots untimed (templates compiled, statement caches and connection pools filled), and
then, all at once, cast ``--ballots`` ballots between them with their own codes, back to
back (no think time: 20 voters means 20 casts in flight), one HTTP keep-alive connection
per client (opened again when the server closes it), timing every cast. The clients run on
the same machine, in this process: their CPU is part of what the machine spends (reported
separately).

In the same run it measures a bare durable insert: as many threads as voters each insert
and commit one row at a time into a table of the same engine, with the same durability:
on SQLite pb's own pragmas (WAL) with the ``synchronous`` level the server runs with
(``--sqlite-synchronous``, by default ``PB_SQLITE_SYNCHRONOUS`` or NORMAL, handed to
gunicorn as ``PB_SQLITE_SYNCHRONOUS``); on PostgreSQL the server's settings. Each side's
settings are read back from its own connections and printed, and the run stops if they
differ. Afterwards everything held is mixed, and it checks that every receipt handed out
is found and that used codes = ballots.

Besides the wall-clock figures it reports the CPU spent per cast by gunicorn (master and
workers), by the clients, by PostgreSQL's backends serving each side, and per bare insert,
and the load average: the machine may be shared.

The last line is JSON: {"engine", "casts_per_s", "bare_inserts_per_s", "ratio", "p99_ms",
"ballots", "receipts", "used_codes", "lost"} followed by the details ("p50_ms",
"voters", "workers", "threads", "worker_class", "app_cpu_ms_per_cast",
"client_cpu_ms_per_cast", "db_cpu_ms_per_cast", "bare_cpu_ms_per_insert", "load_avg",
"durability": the settings each side read back, "casts" and "bare").
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

SLUG = "bench-vote"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_PREFIX = "pb_bench_"
PROJECTS = [(f"B{i}", f"Projekt {i}", 10_000 * (i + 1)) for i in range(8)]


def throwaway_database(
    engine: str, pg_url: str, tmp: Path, prefix: str = PG_PREFIX
) -> tuple[str, str]:
    """The URL of a new empty database (a SQLite file in ``tmp``, or a fresh PostgreSQL
    database on ``pg_url``'s server, named ``prefix`` and 8 random hex digits) and the
    PostgreSQL database's name ("" for SQLite)."""
    if engine == "sqlite":
        return "sqlite:///" + str(tmp / "bench.sqlite3"), ""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", prefix):
        raise SystemExit(f"--pg-prefix {prefix!r}: lower-case letters, digits and _ only")
    name = f"{prefix}{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return sa.engine.make_url(pg_url).set(database=name).render_as_string(False), name


def drop_database(pg_url: str, name: str) -> None:
    if not name:
        return
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def make_process(session: Any, admin: Any, slug: str, current: Any, now: dt.datetime) -> Any:
    """A published process whose phase ``current`` (a ``PhaseKind``) is under way, with the
    benchmark's projects on its ballot."""
    from pb.processes import services as processes
    from pb.processes.models import PhaseKind
    from pb.proposals.models import Project

    phases = {}
    start = now - dt.timedelta(days=10 + 30 * list(PhaseKind).index(current))
    for kind in PhaseKind:
        phases[kind] = (start, start + dt.timedelta(days=30))
        start += dt.timedelta(days=30)
    changes = processes.ProcessChanges(
        fields=dict(
            slug=slug, published=True, title_sv="Bänk", title_en="Bench", purpose_sv="x",
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
    return process


def _setup(url: str, instance: Path, ballots: int) -> list[str]:
    os.environ["PB_INSTANCE_PATH"] = str(instance)
    from pb import create_app
    from pb.accounts import services as accounts
    from pb.accounts.models import Role
    from pb.db import get_engine, get_session, utcnow
    from pb.migrate import upgrade
    from pb.processes.models import CodeChannel, PhaseKind
    from pb.voting import services

    app = create_app({"ENV": "development", "DATABASE_URL": url})
    with app.test_request_context():
        upgrade(get_engine())
        session = get_session()
        admin = accounts.register(session, email="bench@example.org", password="bench-pass-123",
                                  display_name="Bench", role=Role.ADMIN)  # fmt: skip
        now = utcnow()
        process = make_process(session, admin, SLUG, PhaseKind.VOTING, now)
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


def _cast_all(
    port: int, codes: list[str], voters: int, warmup: int
) -> tuple[float, list[float], list[str]]:
    latencies: list[float] = []
    receipts: list[str] = []
    failures: list[str] = []
    lock = threading.Lock()
    chunks = [codes[i::voters] for i in range(voters)]
    barrier = threading.Barrier(voters + 1)

    def run(mine: list[str]) -> None:
        client = Client(port)
        page = client.request("GET", f"/p/{SLUG}/vote?lang=en")
        found = re.search(r'name="csrf_token" value="([^"]+)"', page)
        token = found.group(1) if found else ""

        def cast(n: int, code: str) -> float:
            picks = [f"|B{(n + k) % 8}" for k in range(2)]
            started = time.perf_counter()
            html = client.request("POST", f"/p/{SLUG}/vote/ballot?lang=en", {
                "code": code, "pick": picks, "action": "cast", "csrf_token": token,
            })  # fmt: skip
            took = time.perf_counter() - started
            m = re.search(r'id="receipt">([^<]+)<', html)
            with lock:
                if m:
                    receipts.append(m.group(1).strip())
                else:
                    failures.append(f"{client.status}")
            return took

        for n, code in enumerate(mine[:warmup]):
            cast(n, code)
        barrier.wait()
        for n, code in enumerate(mine[warmup:]):
            took = cast(n, code)
            with lock:
                latencies.append(took)

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


def _cpu_seconds(pids: list[int], children: bool = False) -> float:
    """CPU time (user + system) of processes, with their children if asked (gunicorn's
    master and workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    every = list(pids)
    if children:
        for pid in pids:
            try:
                for task in Path(f"/proc/{pid}/task").iterdir():
                    every += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
    total = 0.0
    for pid in every:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _backends(admin_url: str, database: str) -> list[int]:
    """The PostgreSQL backends connected to ``database`` (the server runs on this machine)."""
    engine = sa.create_engine(admin_url)
    with engine.connect() as conn:
        pids = conn.execute(
            sa.text("SELECT pid FROM pg_stat_activity WHERE datname = :d"), {"d": database}
        ).scalars()
        out = [int(p) for p in pids]
    engine.dispose()
    return out


SQLITE_SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


def _durability_of(conn: sa.Connection) -> str:
    """The durability settings as this very connection has them."""
    if conn.dialect.name == "sqlite":
        mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        sync = conn.exec_driver_sql("PRAGMA synchronous").scalar()
        return f"journal_mode={mode}, synchronous={SQLITE_SYNCHRONOUS.get(sync, sync)}"
    names = ("fsync", "synchronous_commit", "wal_sync_method", "full_page_writes")
    return ", ".join(f"{n}={conn.exec_driver_sql(f'SHOW {n}').scalar()}" for n in names)


def _server_durability(url: str, instance: Path) -> str:
    """The durability the server's casts commit under: a connection made the way gunicorn's
    workers make theirs (``create_app`` with the same environment, ``pb.db``'s engine)."""
    from pb.db import get_engine

    with benchmark_process(url, instance):
        engine = get_engine()
        with engine.connect() as conn:
            text = _durability_of(conn)
        engine.dispose()
    return text


def _bare_inserts(
    url: str, total: int, threads: int, synchronous: str
) -> tuple[float, float, float, str]:
    """Rows per second, CPU seconds of this process and of PostgreSQL's backends, and the
    durability settings the inserting connections had (SQLite: pb's pragmas with
    ``synchronous``, as the server's)."""
    from pb.db import make_engine

    engine = make_engine(url, sqlite_synchronous=synchronous)
    table = f"bench_bare_{uuid.uuid4().hex[:6]}"
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE {table} (id VARCHAR(32) PRIMARY KEY, payload TEXT)"))
    engine.dispose()
    engine = sa.create_engine(url, pool_size=threads, max_overflow=0,
                              connect_args={"timeout": 30} if url.startswith("sqlite") else {})  # fmt: skip
    postgres = not url.startswith("sqlite")
    if not postgres:
        from sqlalchemy import event

        from pb.db import _sqlite_pragmas

        event.listen(engine, "connect", functools.partial(_sqlite_pragmas,
                                                          synchronous=synchronous))  # fmt: skip
    barrier = threading.Barrier(threads + 1)
    backends: list[int] = []
    settings: list[str] = []

    def run(n: int) -> None:
        with engine.connect() as conn:
            settings.append(_durability_of(conn))
            conn.commit()
            if postgres:
                backends.append(int(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()))
                conn.commit()
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
    db_cpu = _cpu_seconds(backends)
    cpu = time.process_time()
    started = time.perf_counter()
    for t in ts:
        t.join()
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    db_cpu = _cpu_seconds(backends) - db_cpu
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE {table}"))
    engine.dispose()
    if len(set(settings)) != 1:
        raise SystemExit(f"bare inserts ran under different settings: {sorted(set(settings))}")
    return per * threads / wall, cpu, db_cpu, settings[0]


@contextlib.contextmanager
def benchmark_process(url: str, instance: Path) -> Iterator[tuple[Any, Any]]:
    """The benchmark's database session and process, in an app of its own (for the checks
    after a run; crash.py uses it too)."""
    os.environ["PB_INSTANCE_PATH"] = str(instance)
    from pb import create_app
    from pb.db import get_session
    from pb.processes import services as processes

    app = create_app({"ENV": "development", "DATABASE_URL": url})
    with app.test_request_context():
        session = get_session()
        process = processes.get_by_slug(session, SLUG)
        assert process is not None
        yield session, process


def _check(url: str, instance: Path, receipts: list[str]) -> dict[str, int]:
    from pb.db import get_engine
    from pb.voting import services

    with benchmark_process(url, instance) as (session, process):
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


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """gunicorn's worker options, shared with load.py."""
    parser.add_argument("--workers", type=int, default=None,
                        help="default: as the docs deploy, 2 on SQLite, 4 on PostgreSQL")  # fmt: skip
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--worker-class", choices=["sync", "gthread"], default="sync",
                        help="sync (gunicorn's default, the deployment the docs show): one "
                        "request at a time, --threads 1")  # fmt: skip


def server_defaults(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.worker_class == "sync" and args.threads != 1:
        parser.error("--worker-class sync takes --threads 1 (gunicorn runs gthread otherwise)")
    if args.workers is None:
        args.workers = 2 if args.engine == "sqlite" else 4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--pg-prefix", default=PG_PREFIX,
                        help="the throwaway PostgreSQL database's name starts with this")  # fmt: skip
    parser.add_argument("--voters", type=int, default=20)
    parser.add_argument("--ballots", type=int, default=600, help="timed casts")
    parser.add_argument("--warmup", type=int, default=2, help="untimed casts per voter first")
    parser.add_argument("--port", type=int, default=5401)
    add_server_options(parser)
    parser.add_argument(
        "--sqlite-synchronous", type=str.upper, choices=["NORMAL", "FULL", "EXTRA"],
        default=os.environ.get("PB_SQLITE_SYNCHRONOUS", "NORMAL").strip().upper(),
        help="SQLite's synchronous level, for the server and the bare inserts alike",
    )  # fmt: skip
    args = parser.parse_args()
    server_defaults(parser, args)
    # The server (gunicorn inherits it), the setup and the checks all read this.
    os.environ["PB_SQLITE_SYNCHRONOUS"] = args.sqlite_synchronous

    tmp = Path(tempfile.mkdtemp(prefix="pb-bench-vote-"))
    instance = tmp / "instance"
    url, name = throwaway_database(args.engine, args.pg_url, tmp, args.pg_prefix)
    per_voter = -(-args.ballots // args.voters)
    codes = _setup(url, instance, args.voters * (per_voter + args.warmup))
    # Voter i casts codes i, i + voters, ...: its first ``warmup`` are the untimed ones.
    codes = codes[: args.voters * args.warmup] + codes[args.voters * args.warmup :][: args.ballots]
    load_before = os.getloadavg()[0]
    env = {**os.environ, "PB_INSTANCE_PATH": str(instance), "PB_DATABASE_URL": url,
           "PB_ENV": "development"}  # fmt: skip
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "-w", str(args.workers), "-k", args.worker_class,
         "--threads", str(args.threads),
         "-b", f"127.0.0.1:{args.port}", "--log-level", "warning", "pb:create_app()"],
        env=env, cwd=str(Path(__file__).resolve().parent.parent),
    )  # fmt: skip
    db_cpu = 0.0
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
        server_cpu = _cpu_seconds([server.pid], children=True)
        client_cpu = time.process_time()
        backends = _backends(args.pg_url, name) if name else []
        db_cpu = _cpu_seconds(backends)
        wall, latencies, receipts = _cast_all(args.port, codes, args.voters, args.warmup)
        client_cpu = time.process_time() - client_cpu
        server_cpu = _cpu_seconds([server.pid], children=True) - server_cpu
        # Backends opened during the warm-up are counted whole: a slight overestimate.
        db_cpu = _cpu_seconds(_backends(args.pg_url, name)) - db_cpu if name else 0.0
    finally:
        server.terminate()
        server.wait(timeout=30)
    load_after = os.getloadavg()[0]
    durability = _server_durability(url, instance)
    bare, bare_cpu, bare_db_cpu, bare_durability = _bare_inserts(
        url, args.ballots, args.voters, args.sqlite_synchronous
    )
    result = _check(url, instance, receipts)
    drop_database(args.pg_url, name)
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * q))] * 1000

    timed = len(latencies)
    casts = timed / wall
    per_cast = {
        "app": server_cpu / timed * 1000,
        "client": client_cpu / timed * 1000,
        "db": db_cpu / timed * 1000,
    }
    bare_ms = (bare_cpu + bare_db_cpu) / args.ballots * 1000
    print(f"{timed} timed casts by {args.voters} clients (after {args.warmup} each untimed) "
          f"in {wall:.2f} s against gunicorn {args.workers} {args.worker_class} workers x "
          f"{args.threads} threads; "
          f"latency ms p50 {pct(0.5):.1f} p90 {pct(0.9):.1f} p99 {pct(0.99):.1f} "
          f"max {latencies[-1] * 1000:.1f}", file=sys.stderr)  # fmt: skip
    print(f"bare inserts {bare:.0f}/s by {args.voters} threads; durability of the casts: "
          f"{durability}; of the bare inserts: {bare_durability}", file=sys.stderr)  # fmt: skip
    print(f"CPU ms per cast: app {per_cast['app']:.2f}, clients {per_cast['client']:.2f}, "
          f"PostgreSQL {per_cast['db']:.2f}; per bare insert {bare_ms:.3f} (this process, "
          f"SQLite in it, and PostgreSQL); load average {load_before:.1f} before, "
          f"{load_after:.1f} after, on {os.cpu_count()} CPUs", file=sys.stderr)  # fmt: skip
    print(json.dumps({
        "engine": args.engine, "casts_per_s": round(casts, 1),
        "bare_inserts_per_s": round(bare, 1), "ratio": round(casts / bare, 3),
        "p99_ms": round(pct(0.99), 1), **result,
        "p50_ms": round(pct(0.5), 1), "voters": args.voters, "workers": args.workers,
        "threads": args.threads, "worker_class": args.worker_class,
        "app_cpu_ms_per_cast": round(per_cast["app"], 2),
        "client_cpu_ms_per_cast": round(per_cast["client"], 2),
        "db_cpu_ms_per_cast": round(per_cast["db"], 2),
        "bare_cpu_ms_per_insert": round(bare_ms, 3),
        "load_avg": round(max(load_before, load_after), 1),
        "durability": {"casts": durability, "bare": bare_durability},
    }))  # fmt: skip
    if durability != bare_durability:
        raise SystemExit("the casts and the bare inserts ran with different durability")


if __name__ == "__main__":
    main()
