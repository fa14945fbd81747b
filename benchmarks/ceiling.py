"""The ceiling over #9's ratio and #12's cast rate: what the stack alone lets an app reach.

    .venv/bin/python benchmarks/ceiling.py [--engine sqlite|postgresql] [--voters 20]
        [--ballots 2000] [--hello 4000] [--warmup 2] [--port 5403]
        [--workers 2|4] [--worker-class sync|gthread] [--threads 1]
        [--pg-url postgresql+psycopg://...] [--pg-prefix pb_ceiling_]
        [--sqlite-synchronous NORMAL|FULL|EXTRA]

pb is not in the measured path. gunicorn serves, exactly as ``voting.py`` serves pb (same
options and defaults: sync workers, 2 on SQLite, 4 on PostgreSQL), the tiny Flask app in
``benchmarks/_ceiling_app.py``, and the same clients as ``voting.py`` (this process, the same
machine) measure three things in one run:

1. ``hello``: ``--hello`` GETs of a constant 13-byte answer, no database: what the stack
   (Flask, gunicorn, loopback HTTP, the clients) costs per request before an app does
   anything;
2. ``minimal casts``: ``--ballots`` casts reduced to their durable core (the code's HMAC, one
   transaction: a conditional update that marks the code used and an insert of the choices
   with a random id and receipt, then a receipt page): no CSRF, session, template, ORM,
   rules check, rate limit, audit or secrecy mixing, which pb must do and this does not;
3. the bare durable insert of ``voting.py`` (its own function, the same threads and
   durability).

So ``ratio_ceiling`` = minimal casts / bare inserts is the most #9's ratio could be for any
Flask app on this machine with these clients, and ``mixed_casts_ceiling`` = hello/s
divided by the requests ``load.py``'s mix sends per cast (``REQUESTS_PER_CAST``: the ballot
page, the cast, one page view, and 1/16 of a participant's GET and POST, whose redirect is
followed: 3.19) is the most casts a second #12's mixed traffic could reach if every one of
its requests cost no more than "Hello, world!" (locust, which load.py drives, costs more
per request than these clients: the ceiling is generous).

Afterwards it checks that every receipt handed out is held and used codes = held rows.

The last line is JSON: {"engine", "hello_per_s", "minimal_casts_per_s",
"bare_inserts_per_s", "ratio_ceiling", "mixed_casts_ceiling", "hello_p99_ms",
"minimal_p99_ms", "app_cpu_ms_per_hello", "app_cpu_ms_per_minimal_cast",
"client_cpu_ms_per_request", "db_cpu_ms_per_minimal_cast", "receipts", "held", "lost",
"voters", "workers", "threads", "worker_class", "load_avg"}.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa
import voting  # benchmarks/voting.py: its clients, bare inserts and server options

from benchmarks._ceiling_app import code_hash

# load.py's mix per cast at rate R: R ballot pages + R casts + R page views + R/16
# participants' actions of a GET, a POST and the redirect it follows.
REQUESTS_PER_CAST = 1 + 1 + 1 + 3 / 16


def _setup(url: str, n: int) -> list[str]:
    from pb.db import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE ceiling_codes (hash VARCHAR(64) PRIMARY KEY, "
                             "used INTEGER NOT NULL DEFAULT 0)"))  # fmt: skip
        conn.execute(sa.text("CREATE TABLE ceiling_held (id VARCHAR(32) PRIMARY KEY, "
                             "choices TEXT NOT NULL, receipt VARCHAR(16) NOT NULL)"))  # fmt: skip
    engine.dispose()
    return _add_codes(url, n)


def _add_codes(url: str, n: int) -> list[str]:
    """``n`` new codes, stored by their hash (load.py --app ceiling asks for more)."""
    from pb.db import make_engine

    engine = make_engine(url)
    codes = [secrets.token_hex(10) for _ in range(n)]
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO ceiling_codes (hash) VALUES (:h)"),
                     [{"h": code_hash(c)} for c in codes])  # fmt: skip
    engine.dispose()
    return codes


def _check(url: str, receipts: list[str]) -> dict[str, int]:
    """As ``voting._check`` for pb: receipts not held, and used codes against held rows."""
    from pb.db import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        used = conn.execute(sa.text("SELECT count(*) FROM ceiling_codes WHERE used = 1")).scalar()
        held = conn.execute(sa.text("SELECT count(*) FROM ceiling_held")).scalar()
        found = conn.execute(sa.text("SELECT receipt FROM ceiling_held")).scalars().all()
    engine.dispose()
    lost = len(set(receipts) - set(found)) + abs(int(used or 0) - int(held or 0))
    return {"lost": lost, "ballots": int(held or 0), "receipts": len(receipts)}


def _hello_all(port: int, total: int, clients: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)
    failures: list[int] = []

    def run(n: int) -> None:
        client = voting.Client(port)
        client.request("GET", "/hello")  # connect once untimed
        barrier.wait()
        mine = []
        for _ in range(n):
            started = time.perf_counter()
            text = client.request("GET", "/hello")
            mine.append(time.perf_counter() - started)
            if text != "Hello, world!":
                failures.append(client.status)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run, args=(total // clients,)) for _ in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{len(failures)} hello requests failed: {sorted(set(failures))}")
    return wall, latencies


def _pct(latencies: list[float], q: float) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default=voting.PG_URL)
    parser.add_argument("--pg-prefix", default="pb_ceiling_")
    parser.add_argument("--voters", type=int, default=20, help="concurrent clients")
    parser.add_argument("--ballots", type=int, default=2000, help="timed minimal casts")
    parser.add_argument("--hello", type=int, default=4000, help="timed hello requests")
    parser.add_argument("--warmup", type=int, default=2, help="untimed casts per client")
    parser.add_argument("--port", type=int, default=5403)
    voting.add_server_options(parser)
    parser.add_argument(
        "--sqlite-synchronous", type=str.upper, choices=["NORMAL", "FULL", "EXTRA"],
        default=os.environ.get("PB_SQLITE_SYNCHRONOUS", "NORMAL").strip().upper(),
    )  # fmt: skip
    args = parser.parse_args()
    voting.server_defaults(parser, args)
    os.environ["PB_SQLITE_SYNCHRONOUS"] = args.sqlite_synchronous

    tmp = Path(tempfile.mkdtemp(prefix="pb-bench-ceiling-"))
    url, name = voting.throwaway_database(args.engine, args.pg_url, tmp, args.pg_prefix)
    per_voter = -(-args.ballots // args.voters)
    codes = _setup(url, args.voters * (per_voter + args.warmup))
    codes = codes[: args.voters * args.warmup] + codes[args.voters * args.warmup :][: args.ballots]
    env = {**os.environ, "CEILING_URL": url}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    load_before = os.getloadavg()[0]
    server = subprocess.Popen(
        [str(gunicorn), "-w", str(args.workers), "-k", args.worker_class,
         "--threads", str(args.threads), "-b", f"127.0.0.1:{args.port}",
         "--log-level", "warning", "benchmarks._ceiling_app:create_app()"],
        env=env, cwd=str(Path(__file__).resolve().parent.parent),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                voting.Client(args.port).request("GET", "/hello")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.3)
        # 1. hello
        server_cpu = voting._cpu_seconds([server.pid], children=True)
        client_cpu = time.process_time()
        hello_wall, hello_lat = _hello_all(args.port, args.hello, args.voters)
        hello_client_cpu = time.process_time() - client_cpu
        hello_server_cpu = voting._cpu_seconds([server.pid], children=True) - server_cpu
        # 2. minimal casts
        server_cpu = voting._cpu_seconds([server.pid], children=True)
        client_cpu = time.process_time()
        backends = voting._backends(args.pg_url, name) if name else []
        db_cpu = voting._cpu_seconds(backends)
        cast_wall, cast_lat, receipts = voting._cast_all(args.port, codes, args.voters,
                                                         args.warmup)  # fmt: skip
        cast_client_cpu = time.process_time() - client_cpu
        cast_server_cpu = voting._cpu_seconds([server.pid], children=True) - server_cpu
        db_cpu = voting._cpu_seconds(voting._backends(args.pg_url, name)) - db_cpu if name else 0.0
    finally:
        server.terminate()
        server.wait(timeout=30)
    load_after = os.getloadavg()[0]
    # 3. bare inserts, as voting.py measures them
    bare, _, _, durability = voting._bare_inserts(url, args.ballots, args.voters,
                                                  args.sqlite_synchronous)  # fmt: skip
    check = _check(url, receipts)
    voting.drop_database(args.pg_url, name)
    lost, held = check["lost"], check["ballots"]

    hellos = len(hello_lat)
    casts = len(cast_lat)
    hello_per_s = hellos / hello_wall
    minimal_per_s = casts / cast_wall
    print(f"hello: {hellos} requests by {args.voters} clients in {hello_wall:.2f} s, "
          f"{hello_per_s:.0f}/s, p50 {_pct(hello_lat, 0.5):.1f} p99 {_pct(hello_lat, 0.99):.1f} "
          f"ms; CPU ms per request: gunicorn {hello_server_cpu / hellos * 1000:.2f}, "
          f"clients {hello_client_cpu / hellos * 1000:.2f}", file=sys.stderr)  # fmt: skip
    print(f"minimal casts: {casts} in {cast_wall:.2f} s, {minimal_per_s:.0f}/s, p50 "
          f"{_pct(cast_lat, 0.5):.1f} p99 {_pct(cast_lat, 0.99):.1f} ms; CPU ms per cast: "
          f"gunicorn {cast_server_cpu / casts * 1000:.2f}, clients "
          f"{cast_client_cpu / casts * 1000:.2f}, PostgreSQL {db_cpu / casts * 1000:.2f}",
          file=sys.stderr)  # fmt: skip
    print(f"bare inserts {bare:.0f}/s ({durability}); gunicorn {args.workers} "
          f"{args.worker_class} workers x {args.threads} threads; load average "
          f"{load_before:.1f} before, {load_after:.1f} after, on {os.cpu_count()} CPUs",
          file=sys.stderr)  # fmt: skip
    print(
        f"ratio ceiling {minimal_per_s / bare:.3f} (#9 asks pb for 0.5); mixed casts ceiling "
        f"{hello_per_s / REQUESTS_PER_CAST:.0f}/s (#12 asks for 550)",
        file=sys.stderr,
    )
    print(json.dumps({
        "engine": args.engine, "hello_per_s": round(hello_per_s, 1),
        "minimal_casts_per_s": round(minimal_per_s, 1), "bare_inserts_per_s": round(bare, 1),
        "ratio_ceiling": round(minimal_per_s / bare, 3),
        "mixed_casts_ceiling": round(hello_per_s / REQUESTS_PER_CAST, 1),
        "hello_p99_ms": round(_pct(hello_lat, 0.99), 1),
        "minimal_p99_ms": round(_pct(cast_lat, 0.99), 1),
        "app_cpu_ms_per_hello": round(hello_server_cpu / hellos * 1000, 3),
        "app_cpu_ms_per_minimal_cast": round(cast_server_cpu / casts * 1000, 3),
        "client_cpu_ms_per_request": round(
            (hello_client_cpu + cast_client_cpu) / (hellos + casts) * 1000, 3),
        "db_cpu_ms_per_minimal_cast": round(db_cpu / casts * 1000, 3),
        "receipts": len(receipts), "held": int(held or 0), "lost": lost,
        "voters": args.voters, "workers": args.workers,
        "threads": args.threads, "worker_class": args.worker_class,
        "load_avg": round(max(load_before, load_after), 1),
    }))  # fmt: skip
    if lost:
        raise SystemExit(f"{lost} receipts or codes went missing")


if __name__ == "__main__":
    main()
