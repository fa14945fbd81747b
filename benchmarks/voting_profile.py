"""Where one cast request spends its CPU: SQL statements and CPU time per step.

    .venv/bin/python benchmarks/voting_profile.py [--casts 200] [--engine sqlite|postgresql]
        [--pg-url postgresql+psycopg://...] [--pg-prefix pb_bench_]

It builds the same throwaway database as ``benchmarks/voting.py`` (a SQLite file, or a fresh
PostgreSQL database on ``--pg-url``'s server, dropped afterwards), then casts ballots one
after another through Flask's test client (no HTTP, no concurrency, CSRF on), timing the
main steps of ``pb.voting.routes.ballot`` by wrapping them, and counts what one cast sends
to the database: the SQL statements, the connection checkouts from the pool and their pings
(``pool_pre_ping``), and on PostgreSQL psycopg's own commands (BEGIN, COMMIT, ROLLBACK,
DEALLOCATE), each a round trip. Steps nest (``cast`` includes its own look-up of the code),
so they do not add up to the total; the rest is Flask, the form, the session and the commit.
"""

from __future__ import annotations

import argparse
import collections
import functools
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import sqlalchemy as sa
import voting as bench

TIMES: collections.Counter[str] = collections.Counter()


def _wrap(module: Any, name: str, label: str) -> None:
    original = getattr(module, name)

    @functools.wraps(original)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            TIMES[label] += time.process_time() - started

    setattr(module, name, timed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--casts", type=int, default=200)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default=bench.PG_URL)
    parser.add_argument("--pg-prefix", default=bench.PG_PREFIX,
                        help="the throwaway PostgreSQL database's name starts with this")  # fmt: skip
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="pb-profile-vote-"))
    url, name = bench.throwaway_database(args.engine, args.pg_url, tmp, args.pg_prefix)
    try:
        _profile(url, tmp, args.casts)
    finally:
        bench.drop_database(args.pg_url, name)


def _round_trips() -> collections.Counter[str]:
    """psycopg's own commands (BEGIN, COMMIT, ROLLBACK, DEALLOCATE ...), counted by their
    first word; each is a round trip of its own."""
    from psycopg._connection_base import BaseConnection

    counted: collections.Counter[str] = collections.Counter()
    original = BaseConnection._exec_command

    def counting(self: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
        text = command.decode() if isinstance(command, bytes) else str(command)
        counted[text.split()[0].upper() if text.split() else "?"] += 1
        return original(self, command, *args, **kwargs)

    BaseConnection._exec_command = counting  # type: ignore[method-assign]
    return counted


def _profile(url: str, tmp: Path, casts: int) -> None:
    codes = bench._setup(url, tmp / "instance", casts + 21)

    from pb import create_app
    from pb.db import get_engine
    from pb.voting import routes, services

    for name in ("_limited", "_csrf_ok", "_mix_after", "_read_ballot", "_common",
                 "load_process", "render_template", "preload"):  # fmt: skip
        _wrap(routes, name, f"routes.{name}")
    for name in ("ballotpaper", "read_entry", "cast", "check_ballot"):
        _wrap(services, name, f"services.{name}")
    app = create_app({"ENV": "development", "DATABASE_URL": url, "WTF_CSRF_ENABLED": True})
    client = app.test_client()
    page = client.get(f"/p/{bench.SLUG}/vote?lang=en").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    token = found.group(1) if found else ""

    def cast(code: str) -> None:
        r = client.post(f"/p/{bench.SLUG}/vote/ballot?lang=en", data={
            "code": code, "pick": ["|B1", "|B2"], "action": "cast", "csrf_token": token})  # fmt: skip
        if 'id="receipt"' not in r.get_data(as_text=True):
            raise SystemExit(f"cast refused: {r.status_code}")

    for code in codes[:20]:  # warm up
        cast(code)
    statements: list[tuple[float, str]] = []
    engine = get_engine(app)
    commands = _round_trips() if engine.dialect.name == "postgresql" else None
    pool: collections.Counter[str] = collections.Counter()
    ping = engine.dialect.do_ping

    def pinged(dbapi_connection: Any) -> bool:
        pool["ping"] += 1
        return ping(dbapi_connection)

    def checkout(*_a: Any) -> None:
        pool["checkout"] += 1

    engine.dialect.do_ping = pinged  # type: ignore[method-assign]
    sa.event.listen(engine, "checkout", checkout)

    def before(conn: Any, *_a: Any) -> None:
        conn.info.setdefault("pb_t", []).append(time.perf_counter())

    def after(conn: Any, _cursor: Any, statement: str, *_a: Any) -> None:
        statements.append((time.perf_counter() - conn.info["pb_t"].pop(), statement.split()[0]))

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    if commands is not None:
        commands.clear()
    cast(codes[20])
    sa.event.remove(engine, "before_cursor_execute", before)
    sa.event.remove(engine, "after_cursor_execute", after)
    kinds = collections.Counter(kind for _t, kind in statements)
    print(f"one cast on {engine.dialect.name}: {len(statements)} SQL statements "
          f"({dict(kinds)}), {sum(t for t, _k in statements) * 1000:.2f} ms executing them; "
          f"{pool['checkout']} connection checkouts, {pool['ping']} pings"
          + (f"; psycopg's own commands {dict(commands)}" if commands is not None else ""))  # fmt: skip
    TIMES.clear()
    pool.clear()
    if commands is not None:
        commands.clear()
    started = time.process_time()
    for code in codes[21 : 21 + casts]:
        cast(code)
    per = (time.process_time() - started) / casts * 1000
    print(f"per cast: {per:.2f} ms of CPU over {casts} casts (test client, one thread); "
          f"per cast {pool['checkout'] / casts:.2f} checkouts, {pool['ping'] / casts:.2f} pings"
          + (", " + ", ".join(f"{n / casts:.2f} {k}" for k, n in commands.items())
             if commands is not None else ""))  # fmt: skip
    for label, seconds in TIMES.most_common():
        print(f"  {label:<24} {seconds / casts * 1000:6.2f} ms")


if __name__ == "__main__":
    main()
