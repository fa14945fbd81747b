"""``pb tally`` (the click command) and ``python -m pb.tally``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from pb.tally import Election, dump, seed_from_text
from pb.tally.cli import tally_command

ROOT = Path(__file__).resolve().parents[2]


def small_file(tmp_path: Path) -> Path:
    election = Election.build(
        {"a": 60, "b": 50, "c": 40}, 100, [["a"], ["a", "b"], ["b", "c"], ["c"], ["a"]]
    )
    path = tmp_path / "small.pb"
    dump(election, path)
    return path


def test_human_output(tmp_path: Path) -> None:
    result = CliRunner().invoke(tally_command, [str(small_file(tmp_path))])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "rule:      greedy" in out
    assert "selected (2): a, c" in out
    lines = [line for line in out.splitlines() if line.startswith(("a ", "b ", "c "))]
    assert len(lines) == 3
    assert "yes" in lines[0] and "Funded" in lines[0]
    assert "no" in lines[1] and "Not funded" in lines[1]


def test_json_output_shape(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        tally_command, [str(small_file(tmp_path)), "--rule", "equal-shares", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"rule", "tie_break", "budget", "spent", "selected", "projects"} <= set(data)
    assert data["rule"] == "equal-shares" and data["tie_break"] == "lexicographic"
    assert data["budget"] == 100
    for project in data["projects"]:
        assert {"id", "cost", "score", "selected", "explanation"} <= set(project)
        assert isinstance(project["explanation"], str)
    assert [p["id"] for p in data["projects"] if p["selected"]] == sorted(data["selected"])


def test_swedish_and_lottery(tmp_path: Path) -> None:
    path = str(small_file(tmp_path))
    result = CliRunner().invoke(
        tally_command, [path, "--lang", "sv", "--tie-break", "lottery", "--seed", "5"]
    )
    assert result.exit_code == 0, result.output
    assert "Finansierat" in result.output
    assert f"seed 5, as a number {seed_from_text('5')}" in result.output


def test_errors_exit_2_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pb"
    bad.write_text(
        "META\nkey;value\nbudget;x\nvote_type;approval\nPROJECTS\nproject_id;cost\nVOTES\nvoter_id;vote\n"
    )
    runner = CliRunner()
    for args in (
        [str(bad)],
        [str(tmp_path / "missing.pb")],
        [str(small_file(tmp_path)), "--rule", "nope"],
        [str(small_file(tmp_path)), "--tie-break", "nope"],
        [str(small_file(tmp_path)), "--tie-break", "lottery"],
    ):
        result = runner.invoke(tally_command, args)
        assert result.exit_code == 2, (args, result.output)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stderr.startswith("Error: ")
        assert "Traceback" not in result.output
    result = runner.invoke(tally_command, [str(bad)])
    assert "line 3" in result.stderr and "budget" in result.stderr


def test_python_dash_m(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    path = str(small_file(tmp_path))
    done = subprocess.run(
        [sys.executable, "-m", "pb.tally", path, "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["selected"] == ["a", "c"]
    assert done.stderr == ""  # no progress output when stderr is not a terminal
    bad = subprocess.run(
        [sys.executable, "-m", "pb.tally", path, "--rule", "nope"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
        timeout=120,
    )
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "unknown rule" in bad.stderr


def test_progress_on_a_terminal(tmp_path: Path) -> None:
    """With a pseudo-terminal as stderr, progress is shown there."""
    import pty

    path = str(small_file(tmp_path))
    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "pb.tally", path, "--rule", "equal-shares-add1"],
        stdout=subprocess.PIPE,
        stderr=follower,
        env=env,
        cwd=ROOT,
        check=False,
        timeout=120,
    )
    os.close(follower)
    shown = os.read(leader, 65536).decode()
    os.close(leader)
    assert done.returncode == 0
    assert "counting" in shown and "add1 step" in shown
