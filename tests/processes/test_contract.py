"""The contract objects: the rules the page shows are the rules that check actions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from pb.processes.contract import BallotSpec, Contract, Eligibility
from pb.processes.models import BallotType, Connection
from pb.tally import Ballot, BallotRules, Project


def _contract(app: Any, make_process: Any, **fields: Any) -> Contract:
    from pb.db import get_session
    from pb.processes.services import get_by_slug

    make_process(slug="c", **fields)
    with app.app_context():
        return Contract.of(get_by_slug(get_session(), "c"))


def test_area_budgets_bound_approval_ballots(app: Any, make_process: Any) -> None:
    contract = _contract(app, make_process)
    rules = contract.ballot_rules("norra-faladen")
    assert isinstance(rules, BallotRules)
    assert rules.max_total_cost == Decimal(2_500_000)
    projects = [Project("1", Decimal(2_000_000)), Project("2", Decimal(900_000))]
    assert rules.check(Ballot(("1",)), projects) == []
    [(code, numbers)] = rules.check(Ballot(("1", "2")), projects)
    assert code == "over_budget" and numbers["limit"] == Decimal(2_500_000)
    # Each area is its own election: no ballot is checked against the process's total.
    with pytest.raises(KeyError):
        contract.ballot_rules()


def test_approval_of_at_most_k(app: Any, make_process: Any) -> None:
    contract = _contract(app, make_process, ballot_type="approval-k", max_projects=2, areas=[])
    rules = contract.ballot_rules()
    projects = [Project(str(i), Decimal(10)) for i in range(4)]
    assert rules.max_total_cost is None
    codes = [c for c, _ in rules.check(Ballot(("0", "1", "2")), projects)]
    assert codes == ["too_many_projects"]


def test_cumulative_points_and_minimum_share() -> None:
    spec = BallotSpec(BallotType.CUMULATIVE, points_total=10, max_points_per_project=4)
    rules = spec.rules_for(1000)
    projects = [Project("a", Decimal(1)), Project("b", Decimal(1)), Project("c", Decimal(1))]
    assert rules.check(Ballot(("a", "b", "c"), (4, 4, 2)), projects) == []
    codes = [c for c, _ in rules.check(Ballot(("a", "b"), (5, 6)), projects)]
    assert "too_many_points" in codes and "too_many_total_points" in codes
    share = BallotSpec(BallotType.APPROVAL_BUDGET, min_budget_share_pct=50).rules_for(1_000_001)
    assert share.min_total_cost == Decimal(500_001)  # rounded up, never below the promise


def test_eligibility_connections_combine_with_or() -> None:
    rule = Eligibility(min_age=12, connections=frozenset({Connection.LIVES, Connection.WORKS}))
    assert rule.check(age=12, connections={Connection.WORKS}) == []
    assert [v.code for v in rule.check(age=11, connections={Connection.LIVES})] == ["too_young"]
    assert [v.code for v in rule.check(age=30, connections={Connection.STUDIES})] == [
        "no_connection"
    ]
    assert rule.check(age=30, connections={Connection.STUDIES})[0].params == ()


def test_contract_is_frozen_and_hashable(app: Any, make_process: Any) -> None:
    contract = _contract(app, make_process)
    assert hash(contract.ballot_rules("klostergarden")) == hash(
        contract.ballot_rules("klostergarden")
    )
    try:
        contract.budget = 1  # type: ignore[misc]
    except AttributeError:
        pass
    else:
        raise AssertionError("the contract must be immutable")
