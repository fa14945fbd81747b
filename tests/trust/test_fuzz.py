"""Hypothesis drives every form and API endpoint as every role with hostile values (see
``tests/trust/fuzz.py``): no answer is a 500, and afterwards the database is intact and pb's
invariants hold (``tests/trust/invariants.py``). A bounded, derandomized run; the long one
is ``benchmarks/fuzz.py``."""

from __future__ import annotations

import inspect
import sys
from typing import Any

from tests.trust import fuzz, invariants
from tests.trust.world import ROLES, build, client_for

REQUESTS = 700


def test_hostile_requests_as_every_role_give_no_500_and_break_nothing(
    app: Any, make_process: Any, users: Any
) -> None:
    world = build(app, make_process, users)
    clients = {role: client_for(app, world, role) for role in ROLES}
    outcome = fuzz.run(app, world, clients, REQUESTS, 0, derandomize=True)
    assert outcome.requests == REQUESTS
    assert not outcome.errors, "\n".join(outcome.errors + outcome.tracebacks[:3])
    assert len(outcome.by_status) > 4  # the logic was reached: not one refusal for all
    assert {k: v for k, v in invariants.check(app).items() if v} == {}


def test_every_form_class_is_reached_from_a_route(app: Any) -> None:
    import pb.forms

    with app.app_context():
        reached = {name for t in fuzz.targets(app) for name, _kind in t.fields}
        forms = {
            f for t in fuzz.targets(app) for f in fuzz._reach(app.view_functions[t.endpoint])[0]
        }
    defined = {
        obj
        for name, module in list(sys.modules.items())
        if name.startswith("pb.") and name.endswith(".forms") and name != "pb.forms"
        for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, pb.forms.FlaskForm) and obj.__module__ == name
    }
    assert defined and defined <= forms, sorted(f.__name__ for f in defined - forms)
    for name in ("areas-0-budget", "phases-voting-starts_at", "rows-0-official_cost", "pick",
                 "code", "receipt", "cost_estimate", "photo", "people"):  # fmt: skip
        assert name in reached, name


def test_the_invariants_catch_a_used_code_without_a_ballot(
    app: Any, make_process: Any, users: Any
) -> None:
    import sqlalchemy as sa

    from pb.db import get_session
    from pb.voting.models import VotingCode

    world = build(app, make_process, users)
    assert {k: v for k, v in invariants.check(app).items() if v} == {}
    with app.app_context():
        session = get_session()
        session.execute(sa.update(VotingCode).where(VotingCode.used.is_(False)).values(used=True))
        session.commit()
    assert invariants.check(app)["codes"], world.slugs
