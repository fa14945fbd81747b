"""What each kind of request in ``benchmarks/load.py`` costs: CPU, SQL statements, size.

    .venv/bin/python benchmarks/load_profile.py [--engine sqlite|postgresql] [--repeat 100]
        [--proposals 200]

It builds the same throwaway database as ``benchmarks/load.py`` (a voting process with codes,
a process in its proposal phase with participants), adds ``--proposals`` published
proposals (the list grows while the load runs), then sends each kind of request the load
sends through Flask's test client (no HTTP, no concurrency, CSRF on) ``--repeat`` times,
after two untimed ones (templates compiled). Per kind: CPU milliseconds per request
(``time.process_time`` of this one process: the app and, on SQLite, the database), wall
milliseconds, SQL statements per request (by their first word) and the size of the answer.
It exits non-zero if an answer is not the one expected. Last line, JSON: per kind
``{"cpu_ms", "wall_ms", "statements", "bytes"}``, the engine and the load average.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import sqlalchemy as sa  # noqa: E402
import voting  # noqa: E402

PASSWORD = "bench-pass-123"


def _token(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    return m.group(1) if m else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--proposals", type=int, default=200)
    parser.add_argument("--sql", action="store_true", help="print each kind's statements")
    parser.add_argument(
        "--cprofile", metavar="KIND", help="profile one kind (cProfile, by own time)"
    )
    args = parser.parse_args()
    import load

    tmp = Path(tempfile.mkdtemp(prefix="pb-profile-load-"))
    instance = tmp / "instance"
    url, name = voting.throwaway_database(args.engine, args.pg_url, tmp)
    try:
        _run(args, load, url, instance, tmp)
    finally:
        voting.drop_database(args.pg_url, name)


def _run(args: argparse.Namespace, load: Any, url: str, instance: Path, tmp: Path) -> None:
    out = tmp / "setup.json"
    load._setup(url, instance, args.repeat * 2 + 20, 2, out)
    data = json.loads(out.read_text())
    codes: list[str] = data["codes"]
    os.environ["PB_PROPOSALS_PER_PERSON"] = "1000000"

    from pb import create_app
    from pb.db import get_engine

    app = create_app({"ENV": "development", "DATABASE_URL": url, "WTF_CSRF_ENABLED": True})
    visitor = app.test_client()
    voter = app.test_client()
    participant = app.test_client()
    slug, propose = voting.SLUG, load.PROPOSE_SLUG

    def ok(r: Any, status: int = 200, contains: str = "") -> str:
        text = r.get_data(as_text=True)
        if r.status_code != status or (contains and contains not in text):
            raise SystemExit(f"{r.request.path}: {r.status_code}, expected {status} {contains}")
        return str(text)

    page = ok(participant.get("/account/login?lang=en"))
    ok(participant.post("/account/login?lang=en", data={
        "email": data["emails"][0], "password": PASSWORD, "csrf_token": _token(page)}), 303)  # fmt: skip
    form = ok(participant.get(f"/p/{propose}/proposals/new?lang=en"))
    token = _token(form)

    def publish(follow: bool = True) -> str:
        # As load.py's participants (and a browser): the redirect is followed, which also
        # shows (and so clears) the flash message; unread ones would pile up in the session.
        return ok(participant.post(f"/p/{propose}/proposals/new?lang=en", data={
            "title": f"Idé {uuid.uuid4().hex[:8]}", "description": "Bänkar och träd.",
            "cost_estimate": "50000", "consent": "y", "action": "publish",
            "csrf_token": token}, follow_redirects=follow), 200 if follow else 303)  # fmt: skip

    for _ in range(args.proposals):
        publish(follow=False)
    with participant.session_transaction() as flashes:
        flashes.pop("_flashes", None)
    listing = ok(visitor.get(f"/p/{propose}/proposals"))
    ids = re.findall(rf"/p/{propose}/proposals/(\d+)", listing)
    ballot = ok(voter.get(f"/p/{slug}/vote?lang=en"))
    vote_token = _token(ballot)
    supported: set[str] = set()
    counter = iter(range(10**9))

    def cast() -> str:
        code = codes.pop()
        return ok(voter.post(f"/p/{slug}/vote/ballot?lang=en", data={
            "code": code, "pick": ["|B1", "|B4"], "action": "cast",
            "csrf_token": vote_token}), 200, 'id="receipt"')  # fmt: skip

    def support() -> str:
        pid = ids[next(counter) % len(ids)]
        action = "unsupport" if pid in supported else "support"
        supported.symmetric_difference_update({pid})
        return ok(participant.post(f"/p/{propose}/proposals/{pid}/{action}",
                                   data={"csrf_token": token}, follow_redirects=True))  # fmt: skip

    def login() -> str:
        c = app.test_client()
        page = ok(c.get("/account/login?lang=en"))
        return ok(c.post("/account/login?lang=en", data={
            "email": data["emails"][1], "password": PASSWORD, "csrf_token": _token(page)}), 303)  # fmt: skip

    kinds: dict[str, Callable[[], str]] = {
        "front page": lambda: ok(visitor.get("/")),
        "process page": lambda: ok(visitor.get(f"/p/{slug}")),
        "proposal list": lambda: ok(visitor.get(f"/p/{propose}/proposals")),
        "proposal page": lambda: ok(visitor.get(f"/p/{propose}/proposals/{ids[3]}")),
        "proposal list (logged in)": lambda: ok(participant.get(f"/p/{propose}/proposals")),
        "proposal page (logged in)": lambda: ok(
            participant.get(f"/p/{propose}/proposals/{ids[3]}")
        ),
        "ballot page": lambda: ok(voter.get(f"/p/{slug}/vote?lang=en")),
        "cast": cast,
        "propose form": lambda: ok(participant.get(f"/p/{propose}/proposals/new?lang=en")),
        "publish (and its redirect)": publish,
        "support (and its redirect)": support,
        "log in (page and post)": login,
    }
    engine = get_engine(app)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_a: Any) -> None:
        statements.append(statement)

    if args.cprofile:
        import cProfile
        import pstats

        send = kinds[args.cprofile]
        send(), send()
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [send() for _ in range(args.repeat)])
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(40)
        return
    results: dict[str, dict[str, Any]] = {}
    for kind, send in kinds.items():
        send(), send()  # templates compiled, caches filled
        repeat = max(5, args.repeat // 10) if kind.startswith("log in") else args.repeat
        statements.clear()
        sa.event.listen(engine, "after_cursor_execute", count)
        size = len(send())
        sa.event.remove(engine, "after_cursor_execute", count)
        by_word = dict(collections.Counter(s.split()[0].upper() for s in statements))
        if args.sql:
            for statement in statements:
                print(f"    {' '.join(statement.split())[:300]}", file=sys.stderr)
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(repeat):
            send()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        results[kind] = {"cpu_ms": round(cpu / repeat * 1000, 2),
                         "wall_ms": round(wall / repeat * 1000, 2),
                         "statements": len(statements), "bytes": size}  # fmt: skip
        print(f"{kind:<28} CPU {cpu / repeat * 1000:6.2f} ms  wall {wall / repeat * 1000:6.2f} ms"
              f"  SQL {len(statements):3} {by_word}  {size} bytes", file=sys.stderr)  # fmt: skip
    get_engine(app).dispose()
    print(json.dumps({"engine": args.engine, "kinds": results, "proposals": args.proposals,
                      "load_avg": round(os.getloadavg()[0], 1)}))  # fmt: skip


if __name__ == "__main__":
    main()
