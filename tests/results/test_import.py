"""`pb import-pb` of every pabulib file in ../shared/pabulib, then `pb count`, gives the
selection and explanations `pb tally` gives on the file; files with errors create nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from pb.results.cli import count_command, import_pb_command

PABULIB = Path(__file__).resolve().parents[3] / "shared" / "pabulib"
if not PABULIB.is_dir():
    PABULIB = Path("/work/shared/pabulib")
FILES = sorted(PABULIB.glob("*.pb"))


def _tally_json(path: Path) -> dict[str, Any]:
    from pb.tally import load, rule_for, tally
    from pb.tally.cli import outcome_as_json

    election = load(path)
    return outcome_as_json(tally(election, rule_for(election)), "en")


@pytest.mark.skipif(not FILES, reason="no pabulib files")
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_import_then_count_equals_tally(runner: Any, path: Path) -> None:
    r = runner.invoke(import_pb_command, [str(path)])
    assert r.exit_code == 0, r.output
    slug = r.output.strip().splitlines()[-1]
    r = runner.invoke(count_command, [slug, "--json"])
    assert r.exit_code == 0, r.output
    counted = json.loads(r.output)
    expected = _tally_json(path)
    assert counted["rule"] == expected["rule"]
    assert counted["selected"] == expected["selected"]
    assert {p["id"]: p["explanation"] for p in counted["projects"]} == {
        p["id"]: p["explanation"] for p in expected["projects"]
    }
    assert counted["spent"] == expected["spent"]


BAD = """META
key;value
budget;1000
vote_type;approval
PROJECTS
project_id;cost
a;600
b;oops
VOTES
voter_id;vote
1;a
"""


def test_a_file_with_errors_is_refused_with_its_line_and_creates_nothing(
    runner: Any, tmp_path: Path, db: Any
) -> None:
    from pb.processes.models import Process

    bad = tmp_path / "bad.pb"
    bad.write_text(BAD, encoding="utf-8")
    r = runner.invoke(import_pb_command, [str(bad)])
    assert r.exit_code != 0
    assert "line 8" in r.output, r.output
    assert db.scalar(sa.select(sa.func.count()).select_from(Process)) == 0


def test_slug_is_chosen_and_taken_slugs_refused(runner: Any, tmp_path: Path) -> None:
    good = tmp_path / "Small_Town.pb"
    good.write_text(BAD.replace("b;oops", "b;500"), encoding="utf-8")
    r = runner.invoke(import_pb_command, [str(good), "--slug", "liten"])
    assert r.exit_code == 0 and r.output.strip() == "liten", r.output
    r = runner.invoke(import_pb_command, [str(good), "--slug", "liten"])
    assert r.exit_code != 0 and "already exists" in r.output
    r = runner.invoke(import_pb_command, [str(good)])
    assert r.output.strip() == "small-town"
    r = runner.invoke(import_pb_command, [str(good)])
    assert r.output.strip() == "small-town-2"
    r = runner.invoke(count_command, ["liten", "--json"])
    assert json.loads(r.output)["selected"] == ["a"]


def test_an_imported_file_publishes_in_its_own_currency(runner: Any, tmp_path: Path,
                                                         app: Any) -> None:  # fmt: skip
    from pb.results.cli import publish_command

    good = tmp_path / "Zloty.pb"
    good.write_text(BAD.replace("b;oops", "b;500").replace("vote_type;approval",
                    "vote_type;approval\ncurrency;PLN"), encoding="utf-8")  # fmt: skip
    r = runner.invoke(import_pb_command, [str(good)])
    slug = r.output.strip()
    assert runner.invoke(publish_command, [slug]).exit_code == 0
    page = app.test_client().get(f"/p/{slug}/results?lang=en").text
    assert "600\u00a0PLN" in page and "SEK" not in page
