"""Regenerate ``fixtures/pabutools_outcomes.json``: pabutools 1.2.3's outcomes on every shared
approval, choose-1 and cumulative file, for the rules pb must agree with.

    .venv/bin/python tests/tally/make_pabutools_fixtures.py [--jobs 2] [FILE ...]

Rules (lexicographic tie-break, pabutools' default):

- ``greedy``: ``greedy_utilitarian_welfare`` with cost satisfaction for approval ballots
  (its density approvals*cost/cost ranks by approvals) and points*cost satisfaction for
  cumulative ballots (density = points), i.e. greedy by score;
- ``equal-shares-plain``: ``method_of_equal_shares`` with ``Cost_Sat`` (approval) or
  ``Additive_Cardinal_Sat`` (cumulative, points as utilities).

The same functions are used by the live tests and by ``benchmarks/tally.py``. Set
``PB_PABULIB_DIR`` to read the files from elsewhere.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "fixtures" / "pabutools_outcomes.json"


def data_dir() -> Path:
    override = os.environ.get("PB_PABULIB_DIR")
    return Path(override) if override else HERE.parents[1].parent / "shared" / "pabulib"


def _points_cost_sat() -> Any:
    from pabutools.election.satisfaction.additivesatisfaction import AdditiveSatisfaction

    def func(instance: Any, profile: Any, ballot: Any, project: Any, precomputed: Any) -> Any:
        return ballot[project] * project.cost if project in ballot else 0

    class PointsCostSat(AdditiveSatisfaction):  # type: ignore[misc]
        def __init__(self, instance: Any, profile: Any, ballot: Any) -> None:
            AdditiveSatisfaction.__init__(self, instance, profile, ballot, func)

    return PointsCostSat


def parse(path: Path) -> tuple[Any, Any, str]:
    from pabutools.election import parse_pabulib

    instance, profile = parse_pabulib(str(path))
    vote_type = instance.meta.get("vote_type", "approval")
    return instance, profile, vote_type


def sat_classes(vote_type: str) -> tuple[Any, Any]:
    """(greedy sat class, MES sat class)."""
    from pabutools.election import Additive_Cardinal_Sat, Cost_Sat

    if vote_type == "cumulative":
        return _points_cost_sat(), Additive_Cardinal_Sat
    return Cost_Sat, Cost_Sat


def run_rule(path: Path, rule: str) -> dict[str, Any]:
    """Run one pabutools rule; returns selected ids (in pabutools' order) and CPU seconds."""
    from pabutools.rules import (
        completion_by_rule_combination,
        greedy_utilitarian_welfare,
        method_of_equal_shares,
    )

    instance, profile, vote_type = parse(path)
    greedy_sat, mes_sat = sat_classes(vote_type)
    start = time.process_time()
    if rule == "greedy":
        outcome = greedy_utilitarian_welfare(instance, profile, sat_class=greedy_sat)
    elif rule == "equal-shares-plain":
        outcome = method_of_equal_shares(instance, profile, sat_class=mes_sat)
    elif rule == "add1-greedy":
        outcome = completion_by_rule_combination(
            instance,
            profile,
            [method_of_equal_shares, greedy_utilitarian_welfare],
            [
                {"sat_class": mes_sat, "voter_budget_increment": 1},
                {"sat_class": greedy_sat},
            ],
        )
    else:
        raise ValueError(rule)
    seconds = time.process_time() - start
    return {"selected": [p.name for p in outcome], "seconds": seconds}


def _job(args: tuple[str, str]) -> tuple[str, str, dict[str, Any]]:
    name, rule = args
    return name, rule, run_rule(data_dir() / name, rule)


def eligible(path: Path) -> bool:
    with path.open(encoding="utf-8-sig") as handle:
        for line in handle:
            if line.startswith("vote_type;"):
                return line.strip().split(";")[1] in ("approval", "choose-1", "cumulative")
            if line.strip().upper() == "PROJECTS":
                break
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*")
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    names = args.files or sorted(p.name for p in data_dir().glob("*.pb") if eligible(p))
    existing: dict[str, Any] = json.loads(FIXTURE.read_text()) if FIXTURE.exists() else {}
    import pabutools  # noqa: F401

    version = "1.2.3"
    jobs = [(name, rule) for name in names for rule in ("greedy", "equal-shares-plain")]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for name, rule, result in pool.map(_job, jobs):
            entry = existing.setdefault(name, {})
            entry[rule] = result["selected"]
            entry[f"{rule}_seconds"] = round(result["seconds"], 3)
            print(f"{name:60s} {rule:20s} {result['seconds']:8.2f} s", flush=True)
            FIXTURE.parent.mkdir(exist_ok=True)
            payload = {
                "_pabutools": version,
                **{k: existing[k] for k in sorted(existing) if k != "_pabutools"},
            }
            FIXTURE.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n")
    sys.exit(0)


if __name__ == "__main__":
    main()
