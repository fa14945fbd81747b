"""Importing, counting and serving the results of Łódź 2022 (90,494 ballots).

    .venv/bin/python benchmarks/results.py [--file /work/shared/pabulib/Poland_Lodz_2022.pb]
        [--pg-url postgresql+psycopg://...] [--requests 200]

It builds a throwaway database with the real migrations (a SQLite file, or a fresh
PostgreSQL database with ``--pg-url``), then in one process: ``pb import-pb FILE`` (the
command itself, through Flask's CLI runner), counts the imported process in the app
(``pb.results.services.count``), publishes it, and fetches the public results page
``--requests`` times from the snapshot (Flask's test client: the app's own time, no network).
It checks that the count selects what ``pb tally`` selects on the file.

The last line is JSON: {"import_s", "count_s", "publish_s", "page_ms_median", "page_ms_p99",
"ballots", "projects", "same_as_pb_tally"}. Targets: import < 30 s, count < 5 s, page median
< 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

DEFAULT_FILE = Path("/work/shared/pabulib/Poland_Lodz_2022.pb")


def _database(pg_url: str | None, tmp: Path) -> tuple[str, object]:
    if not pg_url:
        return f"sqlite:///{tmp / 'bench.db'}", None
    name = f"pb_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return pg_url.rsplit("/", 1)[0] + f"/{name}", (admin, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--pg-url", default=None)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        os.environ["PB_INSTANCE_PATH"] = str(tmp / "instance")
        url, pg = _database(args.pg_url, tmp)
        from pb import create_app
        from pb.db import get_engine, get_session, utcnow
        from pb.migrate import upgrade
        from pb.processes.services import get_by_slug
        from pb.results import services
        from pb.results.cli import import_pb_command
        from pb.tally import load, rule_for, tally

        app = create_app({"ENV": "development", "DATABASE_URL": url,
                          "SECRET_KEY": "bench-" + "x" * 40,
                          "VOTING_CODE_PEPPER": "bench-pepper-" + "y" * 40})  # fmt: skip
        try:
            with app.app_context():
                upgrade(get_engine())
            started = time.perf_counter()
            result = app.test_cli_runner().invoke(import_pb_command, [str(args.file)])
            import_s = time.perf_counter() - started
            if result.exit_code != 0:
                raise SystemExit(result.output)
            slug = result.output.strip().splitlines()[-1]
            print(f"import-pb {args.file.name}: {import_s:.2f} s -> {slug}", file=sys.stderr)

            with app.test_request_context("/?lang=en"):
                session = get_session()
                process = get_by_slug(session, slug)
                assert process is not None
                started = time.perf_counter()
                counted = services.count(session, process, utcnow())
                count_s = time.perf_counter() - started
                session.commit()
                (election,) = counted.elections
                print(f"count: {count_s:.2f} s, {len(election.election.ballots):,} ballots",
                      file=sys.stderr)  # fmt: skip
                started = time.perf_counter()
                services.publish(session, process, None, utcnow())
                session.commit()
                publish_s = time.perf_counter() - started
                print(f"publish: {publish_s:.2f} s", file=sys.stderr)

            on_file = load(args.file)
            same = tally(on_file, rule_for(on_file)).selected == election.outcome.selected

            client = app.test_client()
            assert client.get(f"/p/{slug}/results").status_code == 200  # warm up
            times = []
            for _ in range(args.requests):
                started = time.perf_counter()
                response = client.get(f"/p/{slug}/results?lang=sv")
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
            times.sort()
            p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
            print(json.dumps({
                "import_s": round(import_s, 2),
                "count_s": round(count_s, 2),
                "publish_s": round(publish_s, 2),
                "page_ms_median": round(statistics.median(times), 1),
                "page_ms_p99": round(p99, 1),
                "ballots": len(election.election.ballots),
                "projects": len(election.election.projects),
                "same_as_pb_tally": same,
            }))  # fmt: skip
        finally:
            get_engine(app).dispose()
            if pg is not None:
                engine, name = pg  # type: ignore[misc]
                with engine.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
