"""Time pb.tally against pabutools 1.2.3 on the shared pabulib files, in one run.

    .venv/bin/python benchmarks/tally.py [--quick] [--timeout 600] [--files PATTERN ...]

For every approval, choose-1 and cumulative file it times, on one core:

- ``greedy``: pb ``greedy`` vs pabutools ``greedy_utilitarian_welfare`` (cost satisfaction;
  points x cost for cumulative ballots, i.e. greedy by score);
- ``MES``: pb ``equal-shares-plain`` vs pabutools ``method_of_equal_shares`` (cost utilities;
  points for cumulative ballots);
- ``ES``: pb ``equal-shares`` (add1 as cities use it, every step, then greedy) vs pabutools'
  ``completion_by_rule_combination`` of ``method_of_equal_shares(voter_budget_increment=1)``
  and greedy. (pabutools stops add1 at the first exhaustive outcome, so it often runs fewer
  steps than pb does.)

Times are CPU seconds of one process (``time.process_time``: robust to other load on the
machine) and exclude parsing (each library parses once, outside the timer); pb's parse time is shown
separately. Each pabutools run happens in its own subprocess with ``--timeout`` seconds
(``>T`` in the table when it does not finish). Ordinal files are timed for pb only.
``--pure`` times pb without its compiled add1 loop (``pb/tally/_mesc.c``), i.e. the pure
Python engine that runs where no C compiler built it. Finally it runs ``pb tally`` (load + equal-shares) on Łódź 2022 in a fresh process and reports
its wall time and peak memory (max RSS).

Whole process: ``pb tally FILE --rule equal-shares --json`` (the installed ``pb`` script, a
fresh process each time: interpreter start, imports, parse and count) on Wilanów 2022 and
Łódź 2022, ``--repeat`` times, median CPU (user + system, from the children's rusage) and wall
seconds; the Wilanów ratio is pabutools' add1 + greedy time (its count alone, parse excluded)
over pb's whole process. pb's bytecode is written first, as an installed package has it
(``compile_bytecode``). And a forint look-alike (``--lookalike``, on by default): a
synthetic approval election shaped like a Hungarian city's (29,000 voters, 175 projects,
budget 10^9, costs 3-120 million, unit 1 forint; fixed random seed), counted the same way.
The last line of output is one JSON object with these figures.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pb.tally import load, mes, tally  # noqa: E402

HELPER = ROOT / "tests" / "tally" / "make_pabutools_fixtures.py"
LARGEST = "Poland_Lodz_2022.pb"
WILANOW = "Poland_Warszawa_2022_Wilanow.pb"
QUICK_SKIP_VOTERS = 20_000


def data_dir() -> Path:
    override = os.environ.get("PB_PABULIB_DIR")
    return Path(override) if override else ROOT.parent / "shared" / "pabulib"


def pabutools_time(path: Path, rule: str, timeout: float) -> float | None:
    """Seconds pabutools needs for ``rule`` (parse excluded), or None on timeout."""
    code = (
        "import importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('helper', {str(HELPER)!r})\n"
        "helper = importlib.util.module_from_spec(spec); spec.loader.exec_module(helper)\n"
        f"print(json.dumps(helper.run_rule(__import__('pathlib').Path({str(path)!r}), {rule!r})))\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
    except subprocess.TimeoutExpired:
        return None
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return float(result["seconds"])


def best_of(fn: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()  # type: ignore[operator]
        times.append(time.process_time() - start)
    return min(times)


def fmt(seconds: float | None, timeout: float) -> str:
    if seconds is None:
        return f">{timeout:.0f} s"
    return f"{seconds:.3f}" if seconds < 10 else f"{seconds:.1f}"


def ratio(theirs: float | None, ours: float, timeout: float) -> str:
    if theirs is None:
        return f">{timeout / ours:.0f}x"
    return f"{theirs / ours:.0f}x"


def peak_memory_run(path: Path) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, max RSS in MB) of a fresh ``python -m pb.tally FILE --rule
    equal-shares --json`` process (interpreter start, imports, parse and count). The process
    reports its own peak memory, so earlier pabutools subprocesses do not count."""
    code = (
        "import os, resource, runpy, sys\n"
        f"sys.argv = ['pb.tally', {str(path)!r}, '--rule', 'equal-shares', '--json']\n"
        "try:\n"
        "    runpy.run_module('pb.tally', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "usage = resource.getrusage(resource.RUSAGE_SELF)\n"
        "os.write(2, f'{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}'.encode())\n"
    )
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - start
    rss_kb, cpu = done.stderr.split()[-2:]
    return wall, float(cpu), int(rss_kb) / 1024


def compile_bytecode() -> None:
    """Write pb's bytecode (``__pycache__``), as ``pip install`` does for an installed package.

    An editable checkout gets none where ``PYTHONDONTWRITEBYTECODE`` is set (it is on our
    machines and in ``.ci/run``), and then every ``pb tally`` compiles pb's modules from source
    again (about 20 ms on Wilanów 2022). pabutools, installed by pip, has its bytecode: this
    gives pb the same."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "pb")],
        stdout=subprocess.DEVNULL,
        check=True,
    )


def whole_process(path: Path, repeat: int) -> tuple[float, float, dict[str, Any]]:
    """Median (CPU, wall) seconds of a fresh ``pb tally PATH --rule equal-shares --json``, and
    its output (pb's bytecode written first: :func:`compile_bytecode`)."""
    compile_bytecode()
    pb = Path(sys.executable).with_name("pb")
    cpus, walls = [], []
    output: dict[str, Any] = {}
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(
            [str(pb), "tally", str(path), "--rule", "equal-shares", "--json"],
            stdout=subprocess.PIPE,
            check=True,
        )
        output = json.loads(done.stdout)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(cpus), statistics.median(walls), output


def forint_look_alike(path: Path, voters: int = 29_000, projects: int = 175, seed: int = 1) -> None:
    """Write a synthetic approval election shaped like a forint-denominated city budget
    (look-alike ``seed``: the benchmark counts look-alike 1; docs/tally.md also 2-5)."""
    rng = random.Random(seed)
    ids = [str(100 + i) for i in range(projects)]
    costs = [rng.randrange(3_000_000, 120_000_000) for _ in ids]
    popularity = [rng.random() ** 2 for _ in ids]
    ballots = []
    votes = [0] * projects
    for _ in range(voters):
        size = rng.choice([1, 1, 2, 3, 3, 4, 5, 5, 6, 8, 10])
        chosen: set[int] = set()
        while len(chosen) < size:
            chosen.add(rng.choices(range(projects), weights=popularity)[0])
        for j in chosen:
            votes[j] += 1
        ballots.append(",".join(ids[j] for j in sorted(chosen)))
    lines = [
        "META",
        "key;value",
        "description;synthetic forint look-alike",
        "country;Hungary",
        "unit;Look-alike",
        "instance;2026",
        f"num_projects;{projects}",
        f"num_votes;{voters}",
        "budget;1000000000",
        "vote_type;approval",
        "rule;equalshares/add1",
        "currency;HUF",
        "PROJECTS",
        "project_id;cost;votes;name",
        *(f"{ids[j]};{costs[j]};{votes[j]};Project {j}" for j in range(projects)),
        "VOTES",
        "voter_id;vote",
        *(f"{v + 1};{ballot}" for v, ballot in enumerate(ballots)),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip pabutools on large files")
    parser.add_argument("--timeout", type=float, default=600.0, help="per pabutools run")
    parser.add_argument("--files", nargs="*", default=["*"], help="glob patterns of files")
    parser.add_argument("--repeat", type=int, default=3, help="pb runs per measure (best)")
    parser.add_argument(
        "--pabutools-cache",
        type=Path,
        default=None,
        help="JSON file of pabutools timings to reuse (and to add new ones to)",
    )
    parser.add_argument(
        "--pure",
        action="store_true",
        help="time pb's pure Python engine (without the compiled add1 loop)",
    )
    parser.add_argument(
        "--no-lookalike",
        dest="lookalike",
        action="store_false",
        help="skip the forint look-alike (about 1.5 s)",
    )
    args = parser.parse_args()
    if args.pure:
        mes._mesc = None
    engine = "pure Python" if mes._mesc is None else "compiled add1 loop (pb/tally/_mesc.c)"
    print(f"pb engine: {engine}\n")
    cache: dict[str, dict[str, float | None]] = {}
    if args.pabutools_cache and args.pabutools_cache.exists():
        cache = json.loads(args.pabutools_cache.read_text())
    directory = data_dir()
    names = sorted(
        p.name
        for p in directory.glob("*.pb")
        if any(fnmatch.fnmatch(p.name, pattern) for pattern in args.files)
    )
    header = (
        "| file | voters | projects | pb parse | greedy pb | greedy pabutools | ratio "
        "| MES pb | MES pabutools | ratio | ES pb (add1 steps) | add1+greedy pabutools | ratio |"
    )
    print(header)
    print("|---" * 13 + "|")
    for name in names:
        path = directory / name
        start = time.perf_counter()
        election = load(path)
        parse = time.perf_counter() - start
        pb_greedy = best_of(lambda e=election: tally(e, "greedy"), args.repeat)
        pb_mes = best_of(lambda e=election: tally(e, "equal-shares-plain"), args.repeat)
        es_outcome = tally(election, "equal-shares")
        pb_es = best_of(lambda e=election: tally(e, "equal-shares"), max(1, args.repeat - 1))
        steps = (
            "all fit"
            if es_outcome.details.get("add1_all_supported_funded")
            else es_outcome.details.get("add1_steps")
        )
        row = [
            name.removesuffix(".pb"),
            f"{len(election.ballots):,}",
            str(len(election.projects)),
            f"{parse:.2f}",
        ]
        skip = election.ballot_type == "ordinal" or (
            args.quick and len(election.ballots) > QUICK_SKIP_VOTERS
        )
        for ours, rule in (
            (pb_greedy, "greedy"),
            (pb_mes, "equal-shares-plain"),
            (pb_es, "add1-greedy"),
        ):
            shown_ours = fmt(ours, args.timeout)
            if rule == "add1-greedy":
                shown_ours += f" ({steps})"
            if skip:
                row += [shown_ours, "-", "-"]
                continue
            if rule in cache.get(name, {}):
                theirs = cache[name][rule]
            else:
                theirs = pabutools_time(path, rule, args.timeout)
                cache.setdefault(name, {})[rule] = theirs
                if args.pabutools_cache:
                    args.pabutools_cache.write_text(json.dumps(cache, indent=1) + "\n")
            row += [shown_ours, fmt(theirs, args.timeout), ratio(theirs, ours, args.timeout)]
        print("| " + " | ".join(row) + " |", flush=True)
    largest = directory / LARGEST
    figures: dict[str, object] = {"engine": engine}
    if largest.exists() and not args.pure:
        wall, cpu, rss = peak_memory_run(largest)
        figures["lodz_2022_peak_memory_mb"] = round(rss)
        print()
        print(
            f"`python -m pb.tally {LARGEST} --rule equal-shares --json` (load + count, fresh "
            f"process): {cpu:.2f} s CPU, {wall:.2f} s wall, peak memory {rss:.0f} MB"
        )
    if not args.pure:
        print()
        for name, key in ((WILANOW, "wilanow_2022"), (LARGEST, "lodz_2022")):
            path = directory / name
            if not path.exists():
                continue
            cpu, wall, _ = whole_process(path, args.repeat)
            figures[f"{key}_whole_process_cpu_s"] = round(cpu, 3)
            figures[f"{key}_whole_process_wall_s"] = round(wall, 3)
            line = f"`pb tally {name} --rule equal-shares --json` (fresh process, median of "
            line += f"{args.repeat}): {cpu:.3f} s CPU, {wall:.3f} s wall"
            theirs = cache.get(name, {}).get("add1-greedy")
            if theirs is not None:
                figures[f"{key}_pabutools_add1_greedy_s"] = round(theirs, 3)
                figures[f"{key}_ratio_whole_process_cpu"] = round(theirs / cpu, 1)
                line += f"; pabutools add1 + greedy {theirs:.1f} s: {theirs / cpu:.0f}x"
            print(line)
        if args.lookalike:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "forint_look_alike.pb"
                forint_look_alike(path)
                cpu, wall, output = whole_process(path, 1)
                steps = output["details"].get("add1_steps")
            figures["forint_look_alike_whole_process_cpu_s"] = round(cpu, 2)
            figures["forint_look_alike_whole_process_wall_s"] = round(wall, 2)
            figures["forint_look_alike_add1_steps"] = steps
            print(
                f"forint look-alike (29,000 voters, 175 projects, budget 10^9, unit 1; "
                f"{steps} add1 steps): `pb tally --rule equal-shares --json` {cpu:.2f} s CPU, "
                f"{wall:.2f} s wall"
            )
    print()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
