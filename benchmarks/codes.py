"""How fast are voting codes issued? (issue #9: 100,000 codes as CSV in under 20 s)

Loads the demo into a fresh instance (its Dalby youth budget is voting), then times
``pb codes issue SLUG --count N --format csv`` in a process of its own, and, in the same run,
the baseline: generating the same number of codes and their keyed digests in pure Python
(no database). The last line is JSON.

    .venv/bin/python benchmarks/codes.py [--count 100000] [--database-url URL]

Without ``--database-url`` the embedded SQLite file of the temporary instance is used; give a
PostgreSQL URL (an empty database of its own) to measure that engine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pb.voting import codes  # noqa: E402

SLUG = "ungdomsbudget-dalby-2026"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    pb = str(Path(sys.executable).with_name("pb"))
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PB_INSTANCE_PATH": tmp, "PB_ENV": "development"}
        if args.database_url:
            env["PB_DATABASE_URL"] = args.database_url
        engine = "postgresql" if args.database_url else "sqlite"
        subprocess.run([pb, "demo", "--no-serve"], env=env, check=True, capture_output=True)
        out = Path(tmp) / "codes.csv"
        started = time.perf_counter()
        subprocess.run([pb, "codes", "issue", SLUG, "--count", str(args.count), "--format",
                        "csv", "--purpose", "benchmark", "--out", str(out)],
                       env=env, check=True, capture_output=True)  # fmt: skip
        issue_s = time.perf_counter() - started
        rows = sum(1 for _ in out.open(encoding="utf-8")) - 1
    started = time.perf_counter()
    pepper = "benchmark-pepper-0123456789abcdefghijklmnopqrstuvwxyz"
    for _ in range(args.count):
        codes.digest(pepper, codes.generate())
    baseline_s = time.perf_counter() - started
    print(f"{engine}: {rows} codes issued as CSV in {issue_s:.2f} s (target 20 s); "
          f"generating and hashing them alone took {baseline_s:.2f} s")  # fmt: skip
    print(json.dumps({"engine": engine, "codes": rows, "issue_s": round(issue_s, 2),
                      "baseline_s": round(baseline_s, 2),
                      "ratio": round(issue_s / baseline_s, 2), "target_s": 20}))  # fmt: skip


if __name__ == "__main__":
    main()
