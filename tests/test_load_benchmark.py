"""benchmarks/load.py keeps running (its figures are read by hand, never asserted): one short
stage of the mixed traffic against pb, and against the ceiling app (``--app ceiling``), each
served by gunicorn on loopback, with every receipt found afterwards and used codes = ballots.
No speed is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_ceiling_benchmark import _free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("app", ["pb", "ceiling"])
def test_load_benchmark_runs_one_stage_and_loses_nothing(app: str) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "load.py"), "--app", app,
         "--engine", "sqlite", "--voters", "4", "--start", "4", "--max-rate", "4",
         "--duration", "3", "--stage", "3", "--settle", "1", "--warmup", "1",
         "--port", str(_free_port())],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["engine"] == "sqlite" and result.get("app", "pb") == app, result
    assert result["lost"] == 0 and result["warmup_errors"] == 0, result
    assert result["receipts"] == result["ballots"] > 0, result
    stage = result["stages"][0]
    assert stage["asked"] == 4 and stage["requests_per_s"] > 0, stage
    assert {"casts_per_s_held", "p99_ms", "errors", "rss_growth_mb"} <= set(result), result
