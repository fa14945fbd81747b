"""Rules on small hand-checked elections: greedy, no-skip, thresholds, tie-breaks, equal shares,
explanations and ballot rules."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from pb.tally import (
    RULES,
    SENTENCES,
    Ballot,
    BallotRules,
    Election,
    Project,
    TallyError,
    tally,
    tie_break_order,
)


def test_greedy_skips_and_no_skip_stops() -> None:
    e = Election.build(
        {"a": 60, "b": 50, "c": 40}, 100, [["a"], ["a", "b"], ["b", "c"], ["c"], ["a"]]
    )
    # scores a=3, b=2, c=2 ; b before c lexicographically
    assert tally(e, "greedy").selected == ("a", "c")
    assert tally(e, "greedy-no-skip").selected == ("a",)
    res = tally(e, "greedy").result("b")
    assert res.explanation.code == "greedy_not_funded"
    assert res.explanation.data["remaining"] == 40
    assert "when its turn came 40 remained and it costs 50" in res.explanation.text("en")
    assert "när det var dess tur återstod 40 och det kostar 50" in res.explanation.text("sv")
    # b needs to get ahead of a: 3 - 2 + 1 (a is lexicographically smaller) = 2 votes
    assert res.explanation.data["extra_needed"] == 2


def test_tie_breaks() -> None:
    e = Election.build({"b": 10, "a": 30, "c": 20}, 30, [["a", "b", "c"]])
    assert tally(e, "greedy").selected == ("a",)
    assert tally(e, "greedy", "cheaper-first").selected == ("b", "c")
    lottery = tally(e, "greedy", "lottery", seed=2024)
    assert lottery.seed == 2024
    assert lottery.selected == tally(e, "greedy", "lottery", seed=2024).selected
    orders = {
        tuple(sorted(tie_break_order(e, "lottery", s), key=tie_break_order(e, "lottery", s).get))
        for s in range(30)
    }
    assert len(orders) > 1
    with pytest.raises(TallyError, match="seed"):
        tally(e, "greedy", "lottery")
    with pytest.raises(TallyError, match="unknown tie-break"):
        tally(e, "greedy", "alphabet")
    with pytest.raises(TallyError, match="unknown rule"):
        tally(e, "approval-voting")


def test_ids_compare_as_strings() -> None:
    e = Election.build({"10": 5, "9": 5}, 5, [["10", "9"]])
    assert tally(e, "greedy").selected == ("10",)
    assert tally(e, "equal-shares-plain").selected == ("10",)


def test_threshold() -> None:
    e = Election.build({"a": 10, "b": 10}, 100, [["a", "b"], ["a"]], min_project_score=2)
    out = tally(e, "greedy")
    assert out.selected == ("a",)
    assert out.result("b").explanation.code == "below_threshold"
    assert out.result("b").explanation.data["extra_needed"] == 1


def test_decimal_amounts_are_exact() -> None:
    e = Election.build({"a": "0.10", "b": "0.20", "c": "0.70"}, "1.00", [["a", "b", "c"]])
    assert set(tally(e, "greedy").selected) == {"a", "b", "c"}
    assert tally(e, "greedy").spent == Decimal("1.00")
    e2 = Election.build({"a": "0.10", "b": "0.20", "c": "0.71"}, "1.00", [["a", "b", "c"]])
    assert set(tally(e2, "greedy").selected) == {"a", "b"}


def test_equal_shares_hand_example() -> None:
    # 4 voters, budget 100: each has 25. a (cost 50) by v1,v2; b (cost 60) by v3,v4; c (30) by all.
    e = Election.build(
        {"a": 50, "b": 60, "c": 30}, 100, [["a", "c"], ["a", "c"], ["b", "c"], ["b", "c"]]
    )
    out = tally(e, "equal-shares-plain")
    # c: 7.5 each (rho = 30/120 = 1/4); then a: v1,v2 have 17.5 each = 35 < 50 -> not affordable
    assert out.selected == ("c",)
    c = out.result("c").explanation
    assert c.data["supporters"] == 4 and c.data["share"] == Decimal("7.50")
    a = out.result("a").explanation
    assert a.code == "mes_not_funded"
    assert a.data["left"] == Decimal("35.00")
    assert a.data["needed"] == Decimal("25.00")
    assert a.data["used_by"] == [{"project": "c", "amount": Decimal("15.00")}]
    # add1: start 25+k. After c, v1 and v2 have 17.5+k each: a is affordable from k=8 (2*25.5
    # >= 50); b needs 2*(17.5+k) >= 60, i.e. k >= 12.5, and would exceed the budget (140).
    # So every outcome from k=8 to k=12 is {c, a}, and add1 keeps the last: k=12.
    add1 = tally(e, "equal-shares-add1")
    assert set(add1.selected) == {"a", "c"}
    assert add1.details["add1_steps"] == 12
    full = tally(e, "equal-shares")
    assert set(full.selected) == {"a", "c"}


def test_equal_shares_add1_funds_everything_when_it_fits() -> None:
    e = Election.build({"a": 10, "b": 20, "z": 5}, 100, [["a"], ["b"]])
    out = tally(e, "equal-shares-add1")
    assert set(out.selected) == {"a", "b"}  # z has no supporter
    assert out.result("z").explanation.code == "mes_no_supporters"
    assert set(tally(e, "equal-shares").selected) == {"a", "b", "z"}


def test_equal_shares_cumulative_and_ordinal() -> None:
    e = Election.build(
        {"a": 40, "b": 40, "c": 40},
        80,
        [{"a": 3, "b": 1}, {"a": 2, "c": 2}, {"c": 4}],
        ballot_type="cumulative",
    )
    assert e.scores() == {"a": 5, "b": 1, "c": 6}
    assert tally(e, "greedy").selected == ("c", "a")
    out = tally(e, "equal-shares")
    assert out.result("a").explanation.code in ("mes_funded_points", "completion_funded")
    r = Election.build(
        {"a": 1, "b": 1, "c": 1}, 2, [["a", "b", "c"], ["b", "a"]], ballot_type="ordinal"
    )
    assert r.scores() == {"a": 4, "b": 4, "c": 1}
    assert tally(r, "greedy").selected == ("a", "b")
    assert len(tally(r, "equal-shares").selected) == 2


def test_comparison_can_pick_greedy() -> None:
    # Many voters want the big project; equal shares spreads the money.
    ballots = [["big"]] * 6 + [["s1"], ["s2"], ["s3"], ["s4"]]
    e = Election.build({"big": 90, "s1": 10, "s2": 10, "s3": 10, "s4": 10}, 100, ballots)
    out = tally(e, "equal-shares-comparison")
    counts = out.details["comparison"]
    assert counts["better_greedy"] + counts["better_equal_shares"] + counts["equal"] == 10
    if counts["better_greedy"] > counts["better_equal_shares"]:
        assert out.selected == tally(e, "greedy").selected
        assert "Greedy replaced" in out.result("big").explanation.text("en")


def test_exact_tie_in_equal_shares_is_broken_by_the_tie_break() -> None:
    # a and b have identical prices in every round; floats would see noise-free ties anyway,
    # but the decision must follow the tie-break exactly.
    e = Election.build({"b": 30, "a": 30}, 30, [["a", "b"]] * 3)
    assert tally(e, "equal-shares-plain").selected == ("a",)
    assert tally(e, "equal-shares-plain", "lottery", seed=1).selected in (("a",), ("b",))


def test_every_rule_has_a_docstring_with_tie_breaking() -> None:
    for name, rule in RULES.items():
        doc = rule.__doc__ or ""
        assert "tie" in doc.lower() or "Tie" in doc, name


def test_every_sentence_has_both_languages() -> None:
    for code, texts in SENTENCES.items():
        assert set(texts) == {"en", "sv"}, code


def test_no_ballots() -> None:
    e = Election.build({"a": 10}, 10, [])
    for rule in RULES:
        assert tally(e, rule).spent <= 10


def test_ballot_rules_check_and_describe() -> None:
    projects = [Project("a", Decimal(60)), Project("b", Decimal(50)), Project("c", Decimal(10))]
    rules = BallotRules("approval", min_projects=1, max_projects=2, max_total_cost=Decimal(100))
    assert rules.check(Ballot(("a",)), projects) == []
    codes = dict(rules.check(Ballot(("a", "b", "c")), projects))
    assert codes["too_many_projects"] == {"count": 3, "max": 2}
    assert codes["over_budget"] == {"total": Decimal(120), "limit": Decimal(100)}
    assert dict(rules.check(Ballot(("x", "a", "a")), projects)).keys() >= {
        "unknown_project",
        "duplicate_project",
    }
    assert ("too_few_projects", {"count": 0, "min": 1}) in rules.check(Ballot(()), projects)
    points = BallotRules("cumulative", max_points=3, max_total_points=5)
    found = dict(points.check(Ballot(("a", "b"), (4, 2)), projects))
    assert found["too_many_points"] == {"project": "a", "points": 4, "max": 3}
    assert found["too_many_total_points"] == {"total": 6, "max": 5}
    assert BallotRules("choose-1").check(Ballot(("a", "b")), projects)[0][0] == "too_many_projects"
    assert hash(rules) == hash(BallotRules("approval", 1, 2, max_total_cost=Decimal(100)))
    described = rules.describe()
    assert described["max_projects"] == 2 and described["ballot_type"] == "approval"


def test_fraction_start_budget_details() -> None:
    e = Election.build({"a": 10}, 10, [["a"]] * 3)
    out = tally(e, "equal-shares-plain")
    assert Fraction(out.details["start_per_voter_exact"]) == Fraction(10, 3)
