"""How fast is the public proposal list with 10,000 proposals on SQLite?

Builds a throwaway SQLite database with the real migrations, seeds one process (the demo's
Lund process) with 10,000 public proposals, then times requests through Flask's test client
for several variants of the list and prints the median and 95th percentile of each.

    .venv/bin/python benchmarks/proposals.py [--proposals 10000] [--requests 200]

The target (issue #4) is a median under 50 ms for every variant.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

WORDS = (
    "lekplats",
    "gungor",
    "bänkar",
    "belysning",
    "cykelväg",
    "träd",
    "blommor",
    "utegym",
    "skatepark",
    "parkering",
    "trottoar",
    "övergångsställe",
    "papperskorgar",
    "grillplats",
    "hundrastgård",
    "fotbollsplan",
    "basket",
    "damm",
    "fontän",
    "scen",
    "konst",
    "mural",
    "odling",
    "äng",
    "bin",
    "fjärilar",
    "regnbädd",
    "skugga",
    "vatten",
    "toalett",
)
PLACES = ("Fäladsparken", "Vildandsvägen", "Klostergårdens skola", "Höjeå", "Norra Fäladen",
          "Klostergårdsvägen", "idrottsplatsen", "centrum")  # fmt: skip


def seed(app: object, n: int) -> dict[str, int]:
    import sqlalchemy as sa

    from pb.accounts.models import User
    from pb.db import get_session, utcnow
    from pb.demo import lund_parks
    from pb.processes import services as processes
    from pb.proposals.models import Proposal, ProposalStatus
    from pb.proposals.similarity import fold

    rng = random.Random(2027)
    with app.app_context():  # type: ignore[attr-defined]
        session = get_session()
        process = processes.create_process(session, lund_parks(dt.date.today()), None)
        now = utcnow()
        session.execute(
            sa.insert(User),
            [
                {
                    "email": f"person{i}@example.org",
                    "display_name": f"Person {i}",
                    "password_hash": "x",
                    "role": "participant",
                    "created_at": now,
                    "session_version": 1,
                    "active": True,
                }
                for i in range(300)
            ],
        )
        user_ids = list(session.scalars(sa.select(User.id)))
        areas = [a.id for a in process.areas]
        categories = [c.id for c in process.categories]
        statuses = [ProposalStatus.PUBLISHED] * 6 + [
            ProposalStatus.IN_REVIEW, ProposalStatus.ACCEPTED, ProposalStatus.REJECTED,
            ProposalStatus.WITHDRAWN,
        ]  # fmt: skip
        rows = []
        for i in range(n):
            title = (
                f"{rng.choice(WORDS).capitalize()} och {rng.choice(WORDS)} vid {rng.choice(PLACES)}"
            )
            description = " ".join(rng.choice(WORDS) for _ in range(60)) + "."
            address = rng.choice(PLACES)
            at = now - dt.timedelta(minutes=n - i)
            rows.append({
                "process_id": process.id, "author_id": rng.choice(user_ids),
                "status": rng.choice(statuses), "title": title, "description": description,
                "category_id": rng.choice(categories), "area_id": rng.choice(areas),
                "address": address, "cost_estimate": rng.randrange(5_000, 900_000, 1000),
                "image": "", "consent": True, "created_at": at, "updated_at": at,
                "published_at": at, "answer": "", "hidden": i % 97 == 0, "auto_hidden": False,
                "hidden_reason": "", "support_count": rng.randrange(0, 400),
                "comment_count": rng.randrange(0, 30),
                "search_text": fold(title, description, address),
            })  # fmt: skip
        session.execute(sa.insert(Proposal), rows)
        session.commit()
        return {"area": areas[0], "category": categories[1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--proposals", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["PB_INSTANCE_PATH"] = tmp
        from pb import create_app
        from pb.db import get_engine
        from pb.migrate import upgrade

        app = create_app({
            "ENV": "test", "SECRET_KEY": "benchmark-secret-key-0123456789abcdefghijkl",
            "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3", "WTF_CSRF_ENABLED": False,
        })  # fmt: skip
        upgrade(get_engine(app))
        started = time.perf_counter()
        ids = seed(app, args.proposals)
        print(f"seeded {args.proposals} proposals in {time.perf_counter() - started:.1f} s")
        base = "/p/lund-parker-och-gator-2027/proposals?lang=sv"
        variants = {
            "newest (page 1)": base,
            "newest (page 200)": base + "&page=200",
            "most supported": base + "&sort=supported",
            "random (seeded)": base + "&sort=random&seed=12345",
            "area + category": base + f"&area={ids['area']}&category={ids['category']}",
            "status filter": base + "&status=accepted",
            "text search": base + "&q=fäladsparken+gungor",
        }
        client = app.test_client()
        print(f"{'variant':<20} {'median ms':>10} {'p95 ms':>8}")
        worst = 0.0
        for name, url in variants.items():
            for _ in range(5):  # warm up
                assert client.get(url).status_code == 200
            times = []
            for _ in range(args.requests):
                t0 = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200
            median = statistics.median(times)
            p95 = statistics.quantiles(times, n=20)[-1]
            worst = max(worst, median)
            print(f"{name:<20} {median:>10.1f} {p95:>8.1f}")
        print(f"slowest median: {worst:.1f} ms (target: under 50 ms)")
        get_engine(app).dispose()


if __name__ == "__main__":
    main()
