"""The ``project-number`` tie-break (numbers as numbers: 2 before 10 before 11, then other ids
as text) beside ``lexicographic`` (ids as text, pabutools' default: 10 before 11 before 2), with
every rule, the compiled add1 loop and ``pb tally``; and the singular "1 more vote"."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

from pb.tally import (
    RULES,
    TIE_BREAKS,
    Election,
    dump,
    project_number_key,
    tally,
    tie_break_order,
)
from pb.tally.cli import tally_command
from pb.tally.rules import _Context

IDS = ("A1", "11", "10", "2")


def all_tied(budget: int) -> Election:
    """Four projects of the same cost, every voter approves all of them: every step is a tie."""
    return Election.build(dict.fromkeys(IDS, 10), budget, [list(IDS)] * 4)


def test_the_order_numbers_first_as_numbers_then_text() -> None:
    assert sorted(IDS, key=project_number_key) == ["2", "10", "11", "A1"]
    assert sorted(["10", "02", "2", "b", "1a", "٣"], key=project_number_key) == [
        "02", "2", "10", "1a", "b", "٣",
    ]  # fmt: skip
    e = all_tied(40)
    assert tie_break_order(e, "project-number") == {"2": 0, "10": 1, "11": 2, "A1": 3}
    # lexicographic keeps pabutools' meaning: the ids as text.
    assert tie_break_order(e, "lexicographic") == {"10": 0, "11": 1, "2": 2, "A1": 3}
    assert "project-number" in TIE_BREAKS and "lexicographic" in TIE_BREAKS


@pytest.mark.parametrize("rule", list(RULES))
def test_every_rule_follows_the_order(rule: str) -> None:
    e = all_tied(35)  # three of the four fit
    assert tally(e, rule, "project-number").selected == ("2", "10", "11")
    assert tally(e, rule, "lexicographic").selected == ("10", "11", "2")


@pytest.mark.parametrize("rule", ["equal-shares-add1", "equal-shares"])
def test_a_tie_inside_the_add1_steps(rule: str) -> None:
    """Plain equal shares funds only 11; add1 raises the voters' money until 2 and 10 (same
    supporters, same cost) tie: the tie-break picks one of them."""
    e = Election.build({"2": 50, "10": 50, "11": 50}, 100, [["2", "10"]] * 2 + [["11"]] * 3)
    by_number = tally(e, rule, "project-number")
    assert by_number.details["add1_steps"] > 0
    assert by_number.selected == ("11", "2")
    assert tally(e, rule, "lexicographic").selected == ("11", "10")


def test_the_compiled_loop_takes_the_order() -> None:
    e = Election.build({"2": 50, "10": 50, "11": 50}, 100, [["2", "10"]] * 2 + [["11"]] * 3)
    for tie_break, first in (("project-number", "2"), ("lexicographic", "10")):
        ctx = _Context(e, tie_break, None)
        problem = ctx.problem
        assert problem.compiled is not None
        start = Fraction(ctx.budget, ctx.n) + 29 * ctx.scale
        winners = problem.compiled.winners(float(start), 1e-9 * float(start))
        assert isinstance(winners, list)
        assert [ctx.ids[j] for j in winners] == ["11", first]
        assert [ctx.ids[j] for j in problem.run(start).funded] == ["11", first]


def tie_file(tmp_path: Path) -> Path:
    """Projects 2 and 10, the same cost, the same two votes, money for one."""
    e = Election.build({"2": 50, "10": 50}, 50, [["2", "10"], ["2", "10"]])
    path = tmp_path / "tie.pb"
    dump(e, path)
    return path


def test_pb_tally_project_number(tmp_path: Path) -> None:
    path = tie_file(tmp_path)
    out = CliRunner().invoke(tally_command, [str(path), "--tie-break", "project-number"])
    assert out.exit_code == 0, out.output
    assert "tie-break: project-number" in out.output
    assert "selected (1): 2\n" in out.output
    as_json = CliRunner().invoke(
        tally_command, [str(path), "--tie-break", "project-number", "--json"]
    )
    data = json.loads(as_json.stdout)
    assert data["tie_break"] == "project-number"
    assert data["selected"] == ["2"]
    # The default stays lexicographic, as pabutools counts: 10 wins.
    default = json.loads(CliRunner().invoke(tally_command, [str(path), "--json"]).stdout)
    assert default["tie_break"] == "lexicographic" and default["selected"] == ["10"]


def test_help_explains_both_orders() -> None:
    out = CliRunner().invoke(tally_command, ["--help"]).output
    assert "project-number" in out and "'2' before '10'" in out
    assert "'10' before '2'" in out


@pytest.mark.parametrize(
    ("votes", "en", "sv"),
    [
        (1, "1 more vote would have funded it.", "1 röst till hade gett det finansiering."),
        (2, "2 more votes would have funded it.", "2 fler röster hade gett det finansiering."),
    ],
)
def test_more_votes_singular_and_plural(votes: int, en: str, sv: str) -> None:
    # "2" needs `votes` more approvals to pass "10" (which wins the tie by its number).
    ballots = [["2", "10"]] * 2 + [["10"]] * (votes - 1)
    e = Election.build({"2": 50, "10": 50}, 50, ballots)
    outcome = tally(e, "greedy", "lexicographic")
    loser = next(r for r in outcome.projects if r.id == "2")
    assert not loser.selected
    assert loser.explanation.text("en").endswith(en)
    assert loser.explanation.text("sv").endswith(sv)
    assert loser.explanation.as_dict()["parts"][0]["code"] == "extra_votes"


@pytest.mark.parametrize(
    ("points", "en", "sv"),
    [
        (1, "1 more point would have funded it.", "1 poäng till hade gett det finansiering."),
        (3, "3 more points would have funded it.", "3 fler poäng hade gett det finansiering."),
    ],
)
def test_more_points_singular_and_plural(points: int, en: str, sv: str) -> None:
    from pb.tally import Explanation

    exp = Explanation("greedy_not_funded", {"rank": 2, "score": 4, "remaining": 0, "cost": 5},
                      (("extra_points", {"votes": points}),))  # fmt: skip
    assert exp.text("en").endswith(en)
    assert exp.text("sv").endswith(sv)


def test_one_supporter_is_one_person_in_equal_shares() -> None:
    """Not "its 1 supporters shared the cost; 1 paid ... each" (small youth votes have
    projects with a single supporter); two supporters still share."""
    # Budget 90 among 3 voters (30 each). "solo" (cost 30) has one supporter, who pays it
    # all; "pair" (cost 60) has two, who share it; "big" (cost 80) has one supporter, who
    # cannot pay it.
    e = Election.build({"solo": 30, "pair": 60, "big": 80}, 90,
                       [["solo"], ["pair"], ["pair", "big"]])  # fmt: skip
    outcome = tally(e, "equal-shares", "lexicographic")
    by_id = {r.id: r for r in outcome.projects}
    solo, pair, big = by_id["solo"], by_id["pair"], by_id["big"]
    assert solo.selected and pair.selected and not big.selected
    assert solo.explanation.text("en") == (
        "Funded in round 2 of equal shares: its one supporter paid the whole cost 30."
    )
    assert solo.explanation.text("sv") == (
        "Finansierat i omgång 2 av lika andelar: dess enda anhängare betalade hela kostnaden 30."
    )
    assert "its 2 supporters shared the cost 60" in pair.explanation.text("en")
    assert big.explanation.text("en").startswith(
        "Not funded: it costs 80, but its one supporter had only "
    )
    assert "dess enda anhängare hade bara" in big.explanation.text("sv")
    # The data keep their numbers: the code stays the plural one.
    assert solo.explanation.code == "mes_funded" and solo.explanation.data["supporters"] == 1
