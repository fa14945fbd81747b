"""benchmarks/ceiling.py keeps running (its figures are read by hand, never asserted): a
short run on SQLite serves the minimal app with gunicorn, sends hello requests and minimal
casts, and finds every receipt held and used codes = held rows. No speed is asserted."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_ceiling_benchmark_runs_and_loses_nothing() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "ceiling.py"), "--engine", "sqlite",
         "--voters", "4", "--ballots", "40", "--hello", "40", "--warmup", "1",
         "--port", str(_free_port())],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["engine"] == "sqlite" and result["lost"] == 0, result
    assert result["hello_per_s"] > 0 and result["minimal_casts_per_s"] > 0, result
    assert result["bare_inserts_per_s"] > 0, result
    # 4 voters x 1 untimed cast + 40 timed casts, each with a receipt that is held.
    assert result["receipts"] == result["held"] == 44, result
    ratio = result["minimal_casts_per_s"] / result["bare_inserts_per_s"]
    assert abs(result["ratio_ceiling"] - ratio) < 0.002, result
