"""Counting and publishing: the frozen rule on every ballot, per area, only after voting
closes, once; the snapshot never changes afterwards."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from pb.results.cli import count_command, export_pb_command, publish_command
from tests.results.conftest import ballot, cast_all, close_voting, make_vote


def _ballots() -> list[Any]:
    # p1 120k: 4 votes, p2 90k: 3, p3 150k: 2, p4 60k: 2, p5 20k: 1  (budget 300k)
    return [ballot("p1", "p2"), ballot("p1", "p3"), ballot("p1", "p2", "p4"),
            ballot("p1", "p3"), ballot("p2", "p4", "p5")]  # fmt: skip


def test_count_refused_before_close_and_then_counts_greedy(
    app: Any, make_process: Any, runner: Any
) -> None:
    vote = make_vote(app, make_process)
    cast_all(app, vote, _ballots())
    r = runner.invoke(count_command, [vote.slug, "--json"])
    assert r.exit_code != 0 and "only after voting has closed" in r.output
    r = runner.invoke(publish_command, [vote.slug])
    assert r.exit_code != 0 and "only after voting has closed" in r.output
    close_voting(app, vote)
    r = runner.invoke(count_command, [vote.slug, "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["rule"] == "greedy" and data["selected"] == ["p1", "p2", "p4", "p5"]
    scores = {p["id"]: p["score"] for p in data["projects"]}
    assert scores == {"p1": 4, "p2": 3, "p3": 2, "p4": 2, "p5": 1}
    assert all(p["explanation"] for p in data["projects"])


def test_count_matches_pb_tally_on_the_same_election(
    app: Any, make_process: Any, runner: Any, tmp_path: Any
) -> None:
    """Equal shares with a lottery seed: `pb count --json` is what `pb tally --json` prints
    for the exported file with the same rule, tie-break and seed."""
    from click.testing import CliRunner

    from pb import tally
    from pb.results.services import seed_from_text
    from pb.tally.cli import tally_command

    vote = make_vote(app, make_process, counting_rule="equal-shares", tie_break="lottery",
                     lottery_seed="lund-2027")  # fmt: skip
    cast_all(app, vote, _ballots())
    close_voting(app, vote)
    r = runner.invoke(count_command, [vote.slug, "--json"])
    assert r.exit_code == 0, r.output
    counted = json.loads(r.output)
    assert counted["rule"] == "equal-shares" and counted["tie_break"] == "lottery"
    assert counted["seed"] == seed_from_text("lund-2027")
    assert runner.invoke(publish_command, [vote.slug]).exit_code == 0
    out = tmp_path / "rosta.pb"
    r = runner.invoke(export_pb_command, [vote.slug, "--out", str(out)])
    assert r.exit_code == 0, r.output
    # anyone re-runs the published text seed: pb tally hashes it as the web app does
    assert counted["seed"] == tally.seed_from_text("lund-2027")
    r = CliRunner().invoke(tally_command, [str(out), "--json", "--rule", "equal-shares",
                           "--tie-break", "lottery", "--seed", "lund-2027"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert json.loads(r.output) == counted


def test_per_area_elections(app: Any, make_process: Any, runner: Any) -> None:
    vote = make_vote(
        app, make_process, slug="omraden", areas=[("Norr", 100_000), ("Syd", 100_000)],
        projects=[("n1", "Lekplats", 60_000, "Norr"), ("n2", "Bänkar", 50_000, "Norr"),
                  ("s1", "Träd", 70_000, "Syd"), ("s2", "Lampor", 30_000, "Syd")],
    )  # fmt: skip
    cast_all(app, vote, [ballot("n1", area="norr"), ballot("n2", area="norr"),
                         ballot("n2", area="norr")], area="norr")  # fmt: skip
    cast_all(app, vote, [ballot("s2", area="syd"), ballot("s1", "s2", area="syd")], area="syd")
    close_voting(app, vote)
    r = runner.invoke(count_command, [vote.slug, "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert set(data) == {"norr", "syd"}
    assert data["norr"]["budget"] == 100_000 and data["norr"]["selected"] == ["n2"]
    assert data["syd"]["selected"] == ["s2", "s1"]


def test_publish_freezes_a_snapshot_audited_once(
    app: Any, make_process: Any, runner: Any, db: Any
) -> None:
    from pb.audit import AuditEvent
    from pb.results.models import ResultFile, ResultSnapshot
    from pb.voting.models import Ballot, HeldBallot

    vote = make_vote(app, make_process)
    cast_all(app, vote, _ballots())
    close_voting(app, vote)
    assert db.scalar(sa.select(sa.func.count()).select_from(HeldBallot)) == 5  # not mixed yet
    r = runner.invoke(publish_command, [vote.slug])
    assert r.exit_code == 0, r.output
    assert db.scalar(sa.select(sa.func.count()).select_from(HeldBallot)) == 0
    snap = db.get(ResultSnapshot, vote.process_id)
    assert snap.rule == "greedy" and snap.fingerprint and snap.data["ballots"] == 5
    assert snap.data["elections"][0]["selected"] == ["p1", "p2", "p4", "p5"]
    files = db.scalars(sa.select(ResultFile)).all()
    assert {f.kind for f in files} == {"pb", "csv", "json"}
    event = db.scalar(sa.select(AuditEvent).where(AuditEvent.action == "results.publish"))
    assert event.data["files"][""]["pb"] == snap.data["files"][""]["pb"]
    # The audit log's head as it stood before publishing (this transaction's own entries,
    # e.g. the rules' fingerprint, come after it), frozen into the result and its entry.
    frozen = snap.data["audit_head"]
    assert 0 < frozen["seq"] < event.seq
    before = db.scalar(sa.select(AuditEvent).where(AuditEvent.seq == frozen["seq"]))
    assert frozen["sha256"] == before.sha256
    assert event.data["audit_head"] == snap.data["audit_head"]
    api = app.test_client().get(f"/api/v1/processes/{vote.slug}/results").get_json()
    assert api["audit_head"] == snap.data["audit_head"]
    r = runner.invoke(publish_command, [vote.slug])
    assert r.exit_code != 0 and "already published" in r.output
    # Changing a ballot after publishing changes nothing shown.
    for b in db.scalars(sa.select(Ballot)).all():
        b.choices = [{"area": None, "projects": ["p3"], "points": None}]
    db.commit()
    db.expire_all()
    assert db.get(ResultSnapshot, vote.process_id).data == snap.data


@pytest.mark.parametrize("rule", ["greedy", "equal-shares"])
def test_cumulative_ballots_count_points(
    app: Any, make_process: Any, runner: Any, rule: str
) -> None:
    vote = make_vote(app, make_process, ballot_type="cumulative", points_total=5,
                     max_points_per_project=5, counting_rule=rule)  # fmt: skip
    cast_all(app, vote, [ballot("p1", "p5", points=(1, 4)), ballot("p5", points=(5,)),
                         ballot("p3", "p2", points=(3, 2))])  # fmt: skip
    close_voting(app, vote)
    r = runner.invoke(count_command, [vote.slug, "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert {p["id"]: p["score"] for p in data["projects"]}["p5"] == 9
    assert "p5" in data["selected"]


def test_count_unknown_process(runner: Any, app: Any) -> None:
    r = runner.invoke(count_command, ["nope"])
    assert r.exit_code != 0 and "no process" in r.output


def test_export_before_publishing_is_refused(app: Any, make_process: Any, runner: Any,
                                             tmp_path: Any) -> None:  # fmt: skip
    vote = make_vote(app, make_process)
    close_voting(app, vote)
    out = tmp_path / "x.pb"
    r = runner.invoke(export_pb_command, [vote.slug, "--out", str(out)])
    assert r.exit_code != 0 and "not published" in r.output and not out.exists()
