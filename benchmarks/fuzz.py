"""Hostile requests to every form and API endpoint, as every role, then the invariants.

    .venv/bin/python benchmarks/fuzz.py [--requests 10000] [--seed 1] [--engine sqlite|postgresql]
        [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

It builds a throwaway database with the real migrations (a SQLite file, or a fresh
PostgreSQL database), the world of the access matrix (``tests/trust/world.py``: a process
in its proposal phase, one voting, one with published results, a proposal, a draft, a
comment, codes, a receipt, a funded project with a photo) and a client per role (anonymous,
participant, voter with a code, official of the processes, official of another, admin).
Then hypothesis (``tests/trust/fuzz.py``) sends ``--requests`` requests through the app
as in production (CSRF checked, errors become the 500 page), each from its own address. It
counts answers by status, lists every 500 with its request and traceback, and afterwards runs
the database's integrity check and pb's invariants (``tests/trust/invariants.py``).

The last line is JSON: {"engine", "requests", "by_status", "errors_500", "integrity_ok",
"invariants_ok", "seconds"}. The exit status is 1 if there was a 500 or a check failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--by-route", action="store_true", help="print answers per route")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # hypothesis' own notes on long runs; the JSON says it all

    tmp = Path(tempfile.mkdtemp(prefix="pb-fuzz-"))
    name = f"pb_fuzz_{uuid.uuid4().hex[:8]}"
    if args.engine == "postgresql":
        admin_engine = sa.create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.engine.make_url(args.pg_url).set(database=name).render_as_string(False)
    else:
        url = f"sqlite:///{tmp / 'fuzz.sqlite3'}"
    os.environ["PB_INSTANCE_PATH"] = str(tmp / "instance")
    try:
        result = _run(url, tmp, args)
    finally:
        from pb.db import get_engine  # noqa: F401  (engines are disposed with the process)

        if args.engine == "postgresql":
            with admin_engine.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(json.dumps({"engine": args.engine, **result}))
    sys.exit(0 if result["errors_500"] == 0 and result["integrity_ok"]
             and result["invariants_ok"] else 1)  # fmt: skip


def _run(url: str, tmp: Path, args: argparse.Namespace) -> dict[str, object]:
    from pb import create_app
    from pb.db import get_engine, make_engine
    from pb.migrate import upgrade
    from tests.conftest import TEST_KEY, create_users, process_factory
    from tests.trust import fuzz, invariants
    from tests.trust.world import ROLES, build, client_for

    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    app = create_app({"ENV": "production", "SECRET_KEY": TEST_KEY, "DATABASE_URL": url,
                      "VOTING_CODE_PEPPER": TEST_KEY[::-1], "UPLOAD_DIR": str(tmp / "uploads"),
                      "MAIL_PORT": 1, "ARGON2_MEMORY_KIB": 1024, "ARGON2_TIME_COST": 1})  # fmt: skip
    users = create_users(app)
    world = build(app, process_factory(app, users), users)
    clients = {role: client_for(app, world, role) for role in ROLES}
    started = time.perf_counter()
    outcome = fuzz.run(app, world, clients, args.requests, args.seed)
    seconds = time.perf_counter() - started
    checks = invariants.check(app)
    if args.by_route:
        for (method, endpoint, status), n in sorted(outcome.by_target.items()):
            print(f"{method:5} {endpoint:40} {status} {n}")
    for line in outcome.errors:
        print("500:", line)
    for tb in outcome.tracebacks[:20]:
        print(tb, "\n")
    for check, problems in checks.items():
        for problem in problems:
            print(f"{check}: {problem}")
    get_engine(app).dispose()
    return {**outcome.summary(), "integrity_ok": not checks["integrity"],
            "invariants_ok": not any(v for k, v in checks.items() if k != "integrity"),
            "seconds": round(seconds, 1)}  # fmt: skip


if __name__ == "__main__":
    main()
